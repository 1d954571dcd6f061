package dev.anyrefill.text.t5;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/**
 * T5's self-attention (HF's T5Attention, encoder side): q, k, v and o projections without
 * biases, and no 1/sqrt(d) scaling of the scores (T5 folds it into its initialisation); the
 * position bias (and padding mask) is added to the scores.
 */
final class T5Attention {
    private final Tensor q;
    private final Tensor k;
    private final Tensor v;
    private final Tensor o;
    private final int heads;
    private final int dKv;

    T5Attention(TensorSource w, String prefix, T5Config c) {
        this.q = w.get(prefix + "q.weight", c.inner(), c.dModel());
        this.k = w.get(prefix + "k.weight", c.inner(), c.dModel());
        this.v = w.get(prefix + "v.weight", c.inner(), c.dModel());
        this.o = w.get(prefix + "o.weight", c.dModel(), c.inner());
        this.heads = c.heads();
        this.dKv = c.dKv();
    }

    /** x [L, d_model] (already normed), bias [heads, L, L]; returns [L, d_model]. */
    Tensor forward(Kernels kn, Tensor x, Tensor bias) {
        int length = x.dim(0);
        Tensor qh = kn.linear(x, q, null).reshape(length, heads, dKv);
        Tensor kh = kn.linear(x, k, null).reshape(length, heads, dKv);
        Tensor vh = kn.linear(x, v, null).reshape(length, heads, dKv);
        Tensor attended = kn.attention(qh, kh, vh, 1f, bias, false); // [L, heads * d_kv]
        return kn.linear(attended, o, null);
    }
}
