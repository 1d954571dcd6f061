package dev.anyrefill.vae;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/**
 * BFL's AttnBlock: single-head self-attention over the pixels of the (smallest) feature map,
 * {@code x + proj_out(attention(q, k, v))} with q, k, v 1x1 convolutions of {@code norm(x)}.
 * A 1x1 convolution is a linear layer over the channels of each pixel, so the block works on
 * the transposed view [HW, C] and treats it as HW tokens of one head.
 */
final class AttnBlock {
    private final GroupNorm norm;
    private final Conv2d q;
    private final Conv2d k;
    private final Conv2d v;
    private final Conv2d projOut;

    AttnBlock(TensorSource source, String prefix) {
        norm = new GroupNorm(source, prefix + ".norm");
        q = Conv2d.same(source, prefix + ".q");
        k = Conv2d.same(source, prefix + ".k");
        v = Conv2d.same(source, prefix + ".v");
        projOut = Conv2d.same(source, prefix + ".proj_out");
    }

    /** [C, H, W] to [C, H, W]. */
    Tensor forward(Kernels kernels, Tensor x) {
        int c = x.dim(0);
        int h = x.dim(1);
        int w = x.dim(2);
        Tensor tokens = kernels.transpose(norm.forward(kernels, x).reshape(c, h * w)); // [HW, C]
        Tensor qs = kernels.linear(tokens, q.matrix(), q.bias()).reshape(h * w, 1, c);
        Tensor ks = kernels.linear(tokens, k.matrix(), k.bias()).reshape(h * w, 1, c);
        Tensor vs = kernels.linear(tokens, v.matrix(), v.bias()).reshape(h * w, 1, c);
        tokens = null;
        Tensor attended = kernels.attention(qs, ks, vs); // [HW, C], scale 1/sqrt(C)
        qs = ks = vs = null;
        Tensor out = kernels.linear(attended, projOut.matrix(), projOut.bias()); // [HW, C]
        out = kernels.transpose(out).reshape(c, h, w);
        return kernels.add(x, out);
    }
}
