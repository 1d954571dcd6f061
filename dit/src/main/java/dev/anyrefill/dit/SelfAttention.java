package dev.anyrefill.dit;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/**
 * BFL's {@code SelfAttention} parameters: the fused qkv projection, the q/k norm and the output
 * projection. A double block runs its two streams' attention jointly, so this class offers
 * the pieces ({@link #qkvHeads}, {@link #outputProjection}) rather than one forward.
 */
public final class SelfAttention {
    /** What {@link #qkvHeads} keeps for its backward. */
    public record Qkv(
            Tensor qRaw, // [L, H, D] q before the norm
            Tensor kRaw, // [L, H, D] k before the norm
            Tensor q,    // [L, H, D] normalised
            Tensor k,    // [L, H, D] normalised
            Tensor v) {  // [L, H, D]
    }

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

    /** x [L, hidden] to q, k, v, each [L, H, D], with q and k normalised. */
    public Qkv qkvHeads(Kernels k, Tensor x) {
        return splitAndNorm(k, norm, qkv.forward(k, x), numHeads);
    }

    /** The backward of qkvHeads(k, x): the gradients of q, k (normalised) and v to dx [L, hidden]. */
    public Tensor qkvHeadsBackward(Kernels k, Tensor x, Qkv a, Tensor dq, Tensor dk, Tensor dv, Gradients grads) {
        return qkv.backward(k, x, joinAndNormBackward(k, norm, a, dq, dk, dv, grads), grads);
    }

    /** BFL's {@code rearrange(qkv, "B L (K H D) -> K B H L D")} then the q/k norm: [L, 3 H D] to {@link Qkv}. */
    static Qkv splitAndNorm(Kernels k, QKNorm norm, Tensor qkv, int heads) {
        Tensor[] qkvHeads = Attention.splitQkv(k, qkv, heads);
        Tensor[] qk = norm.forward(k, qkvHeads[0], qkvHeads[1]);
        return new Qkv(qkvHeads[0], qkvHeads[1], qk[0], qk[1], qkvHeads[2]);
    }

    /** The backward of {@link #splitAndNorm}: gradients of q, k, v [L, H, D] to that of qkv [L, 3 H D]. */
    static Tensor joinAndNormBackward(Kernels k, QKNorm norm, Qkv a, Tensor dq, Tensor dk, Tensor dv,
                                      Gradients grads) {
        Tensor[] dqk = norm.backward(k, a.qRaw(), a.kRaw(), dq, dk, grads);
        int l = dv.dim(0);
        return k.concatColumns(dqk[0].reshape(l, -1), dqk[1].reshape(l, -1), dv.reshape(l, -1));
    }

    /** The output projection, [L, hidden] to [L, hidden]. */
    public Tensor outputProjection(Kernels k, Tensor attn) {
        return proj.forward(k, attn);
    }
}
