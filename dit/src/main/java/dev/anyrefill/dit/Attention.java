package dev.anyrefill.dit;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;

/** BFL's math.py: rotary embedding applied to q and k, then attention over all tokens. */
public final class Attention {
    /** What attention keeps for its backward. */
    public record Activations(
            Tensor q,                       // [L, H, D] after RoPE
            Tensor k,                       // [L, H, D] after RoPE
            Tensor v,                       // [L, H, D]
            Kernels.AttentionOutput out) {  // out [L, H * D]; lse [H, L] when kept for a backward
    }

    private Attention() {
    }

    /** q, k, v [L, H, D], pe [L, D/2, 2, 2]; returns [L, H * D]. */
    public static Tensor attention(Kernels k, Tensor q, Tensor key, Tensor v, Tensor pe) {
        return forward(k, q, key, v, pe, false).out().out();
    }

    /**
     * As {@link #attention}, keeping what the backward needs; {@code forBackward} also keeps each
     * query's log-sum-exp (the inference pass does without it, and a device backend runs plain
     * attention on the device).
     */
    static Activations forward(Kernels k, Tensor q, Tensor key, Tensor v, Tensor pe, boolean forBackward) {
        Tensor qr = k.rope(q, pe);
        Tensor kr = k.rope(key, pe);
        Kernels.AttentionOutput out = forBackward ? k.attentionWithLogSumExp(qr, kr, v)
                : new Kernels.AttentionOutput(k.attention(qr, kr, v), null);
        return new Activations(qr, kr, v, out);
    }

    /** The backward of forward: dOut [L, H * D] to {dq, dk, dv} [L, H, D], before RoPE. */
    static Tensor[] backward(Kernels k, Activations a, Tensor pe, Tensor dOut) {
        Kernels.AttentionGrads g = k.attentionBackward(a.q(), a.k(), a.v(), a.out(), dOut);
        return new Tensor[]{k.ropeBackward(g.dq(), pe), k.ropeBackward(g.dk(), pe), g.dv()};
    }

    /** BFL's {@code rearrange(qkv, "B L (K H D) -> K B H L D")}: [L, 3 H D] to q, k, v [L, H, D]. */
    static Tensor[] splitQkv(Kernels k, Tensor qkv, int heads) {
        int hd = qkv.cols() / 3;
        int l = qkv.rows();
        Tensor[] out = new Tensor[3];
        for (int i = 0; i < 3; i++) {
            out[i] = k.sliceColumns(qkv, i * hd, (i + 1) * hd).reshape(l, heads, hd / heads);
        }
        return out;
    }
}
