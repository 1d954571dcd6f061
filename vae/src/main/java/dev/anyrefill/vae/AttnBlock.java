package dev.anyrefill.vae;

import dev.anyrefill.kernels.Activation;
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

    /** What the backward reads, recomputed from the block's input. */
    record Activations(
            Tensor tokens,                      // [HW, C] norm(x) transposed: q, k, v's input
            Tensor qs, Tensor ks, Tensor vs,    // [HW, 1, C] each
            Kernels.AttentionOutput attended) { // out [HW, C] (proj_out's input) and lse [1, HW]
    }

    Activations activations(Kernels kernels, Tensor x) {
        int c = x.dim(0);
        int hw = x.dim(1) * x.dim(2);
        Tensor tokens = kernels.transpose(norm.forward(kernels, x).reshape(c, hw));
        Tensor qs = kernels.linear(tokens, q.matrix(), q.bias()).reshape(hw, 1, c);
        Tensor ks = kernels.linear(tokens, k.matrix(), k.bias()).reshape(hw, 1, c);
        Tensor vs = kernels.linear(tokens, v.matrix(), v.bias()).reshape(hw, 1, c);
        return new Activations(tokens, qs, ks, vs, kernels.attentionWithLogSumExp(qs, ks, vs));
    }

    /** dx from the output's gradient: the residual's, plus the attention path's read in reverse. */
    Tensor backward(Kernels kernels, Tensor x, Tensor dOut, ParameterGradients grads) {
        int c = x.dim(0);
        int hw = x.dim(1) * x.dim(2);
        Activations a = activations(kernels, x);
        Tensor dOutTokens = kernels.transpose(dOut.reshape(c, hw));                    // [HW, C]
        Tensor dAttended = linearBackward(kernels, projOut, a.attended().out(), dOutTokens, grads);
        Kernels.AttentionGrads g = kernels.attentionBackward(a.qs(), a.ks(), a.vs(), a.attended(), dAttended);
        Tensor dTokens = linearBackward(kernels, q, a.tokens(), g.dq().reshape(hw, c), grads);
        dTokens = kernels.add(dTokens, linearBackward(kernels, k, a.tokens(), g.dk().reshape(hw, c), grads));
        dTokens = kernels.add(dTokens, linearBackward(kernels, v, a.tokens(), g.dv().reshape(hw, c), grads));
        Tensor dNorm = kernels.transpose(dTokens).reshape(x.shape());                   // [C, H, W]
        return kernels.add(dOut, norm.backward(kernels, x, Activation.NONE, dNorm, grads));
    }

    /** A 1x1 conv used as a linear layer over tokens: its input gradient, its dW [O, C, 1, 1] and db. */
    private static Tensor linearBackward(Kernels kernels, Conv2d conv, Tensor in, Tensor dy, ParameterGradients grads) {
        Tensor dw = kernels.linearBackwardWeight(dy, in);
        grads.add(conv.name() + ".weight", dw.reshape(dw.dim(0), dw.dim(1), 1, 1));
        grads.add(conv.name() + ".bias", kernels.sumRows(dy));
        return kernels.linearBackwardInput(dy, conv.matrix());
    }
}
