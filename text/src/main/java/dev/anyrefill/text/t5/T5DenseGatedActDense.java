package dev.anyrefill.text.t5;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/** T5 v1.1's gated feed-forward: wo(gelu_tanh(wi_0 x) * wi_1 x), no biases. */
final class T5DenseGatedActDense {
    private final Tensor wi0;
    private final Tensor wi1;
    private final Tensor wo;

    T5DenseGatedActDense(TensorSource w, String prefix, T5Config c) {
        this.wi0 = w.get(prefix + "wi_0.weight", c.dFf(), c.dModel());
        this.wi1 = w.get(prefix + "wi_1.weight", c.dFf(), c.dModel());
        this.wo = w.get(prefix + "wo.weight", c.dModel(), c.dFf());
    }

    /** x [L, d_model] (already normed); returns [L, d_model]. */
    Tensor forward(Kernels k, Tensor x) {
        Tensor gate = k.linear(x, wi0, null, Activation.GELU_TANH); // [L, d_ff]
        Tensor up = k.linear(x, wi1, null);                          // [L, d_ff]
        return k.linear(k.mul(gate, up), wo, null);
    }
}
