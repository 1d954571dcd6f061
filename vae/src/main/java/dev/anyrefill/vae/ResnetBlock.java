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

    /** What the backward reads, recomputed from the block's input. */
    record Activations(
            Tensor h1,   // [C_in, H, W]  swish(norm1(x)), conv1's input
            Tensor c1,   // [C_out, H, W] conv1's output, norm2's input
            Tensor h2) { // [C_out, H, W] swish(norm2(c1)), conv2's input
    }

    Activations activations(Kernels k, Tensor x) {
        Tensor h1 = norm1.forward(k, x, Activation.SILU);
        Tensor c1 = conv1.forward(k, h1);
        return new Activations(h1, c1, norm2.forward(k, c1, Activation.SILU));
    }

    /** dx from the output's gradient; the forward read in reverse. */
    Tensor backward(Kernels k, Tensor x, Tensor dOut, ParameterGradients grads) {
        Activations a = activations(k, x);
        Tensor dH2 = conv2.backward(k, a.h2(), dOut, grads);
        Tensor dC1 = norm2.backward(k, a.c1(), Activation.SILU, dH2, grads);
        Tensor dH1 = conv1.backward(k, a.h1(), dC1, grads);
        Tensor dx = norm1.backward(k, x, Activation.SILU, dH1, grads);
        Tensor dShortcut = ninShortcut == null ? dOut : ninShortcut.backward(k, x, dOut, grads);
        return k.add(dx, dShortcut);
    }
}
