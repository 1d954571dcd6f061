package dev.anyrefill.text.t5;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/**
 * One T5 encoder block: pre-norm (RMS) self-attention with a residual (layer.0), then
 * pre-norm gated feed-forward with a residual (layer.1).
 */
final class T5Block {
    private final Tensor attentionNorm;
    private final T5Attention selfAttention;
    private final Tensor ffNorm;
    private final T5DenseGatedActDense denseReluDense;
    private final float eps;

    T5Block(TensorSource w, int index, T5Config c) {
        String p = "encoder.block." + index + ".layer.";
        this.attentionNorm = w.get(p + "0.layer_norm.weight", c.dModel());
        this.selfAttention = new T5Attention(w, p + "0.SelfAttention.", c);
        this.ffNorm = w.get(p + "1.layer_norm.weight", c.dModel());
        this.denseReluDense = new T5DenseGatedActDense(w, p + "1.DenseReluDense.", c);
        this.eps = c.eps();
    }

    /** x [L, d_model], positionBias [heads, L, L] (with the padding mask in it); returns [L, d_model]. */
    Tensor forward(Kernels k, Tensor x, Tensor positionBias) {
        Tensor h = k.add(x, selfAttention.forward(k, k.rmsNorm(x, attentionNorm, eps), positionBias));
        return k.add(h, denseReluDense.forward(k, k.rmsNorm(h, ffNorm, eps)));
    }
}
