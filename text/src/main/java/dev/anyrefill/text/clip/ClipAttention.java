package dev.anyrefill.text.clip;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/** CLIP's causal self-attention: q, k, v, out projections with biases, 1/sqrt(head_dim) scale. */
final class ClipAttention {
    private final Tensor qW;
    private final Tensor qB;
    private final Tensor kW;
    private final Tensor kB;
    private final Tensor vW;
    private final Tensor vB;
    private final Tensor outW;
    private final Tensor outB;
    private final int heads;
    private final int headDim;

    ClipAttention(TensorSource w, String p, ClipTextConfig c) {
        int h = c.hidden();
        this.qW = w.get(p + "q_proj.weight", h, h);
        this.qB = w.get(p + "q_proj.bias", h);
        this.kW = w.get(p + "k_proj.weight", h, h);
        this.kB = w.get(p + "k_proj.bias", h);
        this.vW = w.get(p + "v_proj.weight", h, h);
        this.vB = w.get(p + "v_proj.bias", h);
        this.outW = w.get(p + "out_proj.weight", h, h);
        this.outB = w.get(p + "out_proj.bias", h);
        this.heads = c.heads();
        this.headDim = c.headDim();
    }

    /** x [L, hidden] (already normed), mask bias [1, L, L] or null; returns [L, hidden]. */
    Tensor forward(Kernels k, Tensor x, Tensor maskBias) {
        int length = x.dim(0);
        Tensor q = k.linear(x, qW, qB).reshape(length, heads, headDim);
        Tensor kk = k.linear(x, kW, kB).reshape(length, heads, headDim);
        Tensor v = k.linear(x, vW, vB).reshape(length, heads, headDim);
        Tensor attended = k.attention(q, kk, v, (float) (1 / Math.sqrt(headDim)), maskBias, true); // [L, hidden]
        return k.linear(attended, outW, outB);
    }
}
