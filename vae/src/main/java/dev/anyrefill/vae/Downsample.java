package dev.anyrefill.vae;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/** BFL's Downsample: zero padding of one pixel on the right and bottom, then a 3x3 conv with stride 2. */
final class Downsample {
    private final Conv2d conv;

    Downsample(TensorSource source, String prefix) {
        conv = new Conv2d(source, prefix + ".conv", 2, new int[]{0, 1, 0, 1});
    }

    /** [C, H, W] to [C, H/2, W/2]. */
    Tensor forward(Kernels k, Tensor x) {
        return conv.forward(k, x);
    }

    Tensor backward(Kernels k, Tensor x, Tensor dOut, ParameterGradients grads) {
        return conv.backward(k, x, dOut, grads);
    }
}
