package dev.anyrefill.vae;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/**
 * BFL's ResnetBlock: {@code x + conv2(swish(norm2(conv1(swish(norm1(x))))))}, with a 1x1
 * {@code nin_shortcut} on x when the block changes the channel count.
 */
final class ResnetBlock {
    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final GroupNorm norm2;
    private final Conv2d conv2;
    private final Conv2d ninShortcut; // null when in == out

    ResnetBlock(TensorSource source, String prefix) {
        norm1 = new GroupNorm(source, prefix + ".norm1");
        conv1 = Conv2d.same(source, prefix + ".conv1");
        norm2 = new GroupNorm(source, prefix + ".norm2");
        conv2 = Conv2d.same(source, prefix + ".conv2");
        ninShortcut = source.contains(prefix + ".nin_shortcut.weight")
                ? Conv2d.same(source, prefix + ".nin_shortcut") : null;
    }

    /** [C_in, H, W] to [C_out, H, W]. Each intermediate is dropped as soon as the next exists. */
    Tensor forward(Kernels k, Tensor x) {
        Tensor h = norm1.forward(k, x, Activation.SILU);
        h = conv1.forward(k, h);
        h = norm2.forward(k, h, Activation.SILU);
        h = conv2.forward(k, h);
        Tensor shortcut = ninShortcut == null ? x : ninShortcut.forward(k, x);
        return k.add(shortcut, h);
    }
}
