package dev.anyrefill.dit;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/** BFL's {@code LastLayer}: a modulated layer norm (shift, scale from vec) and the output projection. */
public final class LastLayer {
    final Linear linear;
    final Linear adaLNModulation;

    LastLayer(TensorSource w, String prefix) {
        linear = Layers.linear(w, prefix + ".linear");
        adaLNModulation = Layers.linear(w, prefix + ".adaLN_modulation.1");
    }

    /** x [L, hidden], vec [hidden]; returns [L, out]. */
    public Tensor forward(Kernels k, Tensor x, Tensor vec) {
        Tensor[] mod = modulation(k, vec);
        return linear.forward(k, k.layerNormModulate(x, mod[0], mod[1], Layers.EPS));
    }

    /** The backward of forward(k, x, vec): dOut [L, out] to {dx, dVec}. */
    public Tensor[] backward(Kernels k, Tensor x, Tensor vec, Tensor dOut, Gradients grads) {
        Tensor[] mod = modulation(k, vec);
        Tensor dNormed = linear.backward(k, k.layerNormModulate(x, mod[0], mod[1], Layers.EPS), dOut, grads);
        Kernels.NormGrads n = k.layerNormModulateBackward(x, mod[0], mod[1], Layers.EPS, dNormed);
        Tensor siluVec = k.activation(vec, Activation.SILU);
        Tensor dMod = adaLNModulation.backward(k, siluVec, k.concatColumns(n.dShift(), n.dScale()), grads);
        return new Tensor[]{n.dx(), k.activationBackward(vec, dMod, Activation.SILU)};
    }

    /** {shift, scale}, each [hidden], from adaLN_modulation(silu(vec)). */
    private Tensor[] modulation(Kernels k, Tensor vec) {
        Tensor mod = adaLNModulation.forward(k, k.activation(vec, Activation.SILU)); // [2 hidden]
        int hidden = mod.cols() / 2;
        return new Tensor[]{k.sliceColumns(mod, 0, hidden), k.sliceColumns(mod, hidden, 2 * hidden)};
    }
}
