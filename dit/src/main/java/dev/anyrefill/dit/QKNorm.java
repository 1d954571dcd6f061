package dev.anyrefill.dit;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/** BFL's {@code QKNorm}: an RMS norm with a learned scale on each head of q and of k. */
public final class QKNorm {
    private final String prefix;
    private final Tensor queryScale;
    private final Tensor keyScale;

    QKNorm(TensorSource w, String prefix) {
        this.prefix = prefix;
        this.queryScale = w.get(prefix + ".query_norm.scale").asHeapF32(); // trained in place by --full
        this.keyScale = w.get(prefix + ".key_norm.scale").asHeapF32();
    }

    /** q, k [L, H, D] normalised over D; returns {q, k}. */
    public Tensor[] forward(Kernels k, Tensor q, Tensor key) {
        return new Tensor[]{k.rmsNorm(q, queryScale, Layers.EPS), k.rmsNorm(key, keyScale, Layers.EPS)};
    }

    /** The backward of forward(k, q, key): dq, dk of the normalised heads to those of q and key. */
    public Tensor[] backward(Kernels k, Tensor q, Tensor key, Tensor dq, Tensor dk, Gradients grads) {
        Kernels.NormGrads gq = k.rmsNormBackward(q, queryScale, Layers.EPS, dq);
        Kernels.NormGrads gk = k.rmsNormBackward(key, keyScale, Layers.EPS, dk);
        addScale(grads, prefix + ".query_norm.scale", gq);
        addScale(grads, prefix + ".key_norm.scale", gk);
        return new Tensor[]{gq.dx(), gk.dx()};
    }

    private static void addScale(Gradients grads, String name, Kernels.NormGrads g) {
        if (grads.wants(name)) {
            grads.add(name, g.dScale());
        }
    }
}
