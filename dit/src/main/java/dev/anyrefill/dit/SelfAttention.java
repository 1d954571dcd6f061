package dev.anyrefill.dit;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/**
 * BFL's {@code SelfAttention} parameters: the fused qkv projection, the q/k norm and the output
 * projection. A double block runs its two streams' attention jointly, so this class offers
 * the pieces ({@link #qkv}, {@link #proj}) rather than one forward.
 */
public final class SelfAttention {
    final Linear qkv;
    final QKNorm norm;
    final Linear proj;
    private final int numHeads;

    SelfAttention(TensorSource w, String prefix, int numHeads) {
        this.qkv = Layers.linear(w, prefix + ".qkv");
        this.norm = new QKNorm(w, prefix + ".norm");
        this.proj = Layers.linear(w, prefix + ".proj");
        this.numHeads = numHeads;
    }

    /** x [L, hidden] to {q, k, v}, each [L, H, D], with q and k normalised. */
    public Tensor[] qkv(Kernels k, Tensor x) {
        Tensor[] qkvHeads = Attention.splitQkv(k, qkv.forward(k, x), numHeads);
        Tensor[] qk = norm.forward(k, qkvHeads[0], qkvHeads[1]);
        return new Tensor[]{qk[0], qk[1], qkvHeads[2]};
    }

    /** The output projection, [L, hidden] to [L, hidden]. */
    public Tensor proj(Kernels k, Tensor attn) {
        return proj.forward(k, attn);
    }
}
