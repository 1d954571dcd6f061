package dev.anyrefill.dit;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/** BFL's {@code QKNorm}: an RMS norm with a learned scale on each head of q and of k. */
public final class QKNorm {
    static final float EPS = 1e-6f;
    private final Tensor queryScale;
    private final Tensor keyScale;

    QKNorm(TensorSource w, String prefix) {
        this.queryScale = w.get(prefix + ".query_norm.scale").toF32();
        this.keyScale = w.get(prefix + ".key_norm.scale").toF32();
    }

    /** q, k [L, H, D] normalised over D; returns {q, k}. */
    public Tensor[] forward(Kernels k, Tensor q, Tensor key) {
        return new Tensor[]{k.rmsNorm(q, queryScale, EPS), k.rmsNorm(key, keyScale, EPS)};
    }
}
