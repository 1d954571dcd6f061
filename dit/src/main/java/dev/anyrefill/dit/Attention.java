package dev.anyrefill.dit;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;

/** BFL's math.py: rotary embedding applied to q and k, then attention over all tokens. */
public final class Attention {
    private Attention() {
    }

    /** q, k, v [L, H, D], pe [L, D/2, 2, 2]; returns [L, H * D]. */
    public static Tensor attention(Kernels k, Tensor q, Tensor key, Tensor v, Tensor pe) {
        Tensor qr = k.rope(q, pe);
        Tensor kr = k.rope(key, pe);
        return k.attention(qr, kr, v);
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
