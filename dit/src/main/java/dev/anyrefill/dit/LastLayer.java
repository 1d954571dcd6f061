package dev.anyrefill.dit;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/** BFL's {@code LastLayer}: a modulated layer norm (shift, scale from vec) and the output projection. */
public final class LastLayer {
    static final float EPS = 1e-6f;

    final Linear linear;
    final Linear adaLNModulation;

    LastLayer(TensorSource w, String prefix) {
        linear = Layers.linear(w, prefix + ".linear");
        adaLNModulation = Layers.linear(w, prefix + ".adaLN_modulation.1");
    }

    /** x [L, hidden], vec [hidden]; returns [L, out]. */
    public Tensor forward(Kernels k, Tensor x, Tensor vec) {
        Tensor mod = adaLNModulation.forward(k, k.activation(vec, Activation.SILU)); // [2 hidden]
        int hidden = mod.cols() / 2;
        Tensor shift = k.sliceColumns(mod, 0, hidden);
        Tensor scale = k.sliceColumns(mod, hidden, 2 * hidden);
        return linear.forward(k, k.layerNormModulate(x, shift, scale, EPS));
    }
}
