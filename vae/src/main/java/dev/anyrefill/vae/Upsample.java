package dev.anyrefill.vae;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/** BFL's Upsample: nearest-neighbour 2x, then a 3x3 conv. */
final class Upsample {
    private final Conv2d conv;

    Upsample(TensorSource source, String prefix) {
        conv = Conv2d.same(source, prefix + ".conv");
    }

    /** [C, H, W] to [C, 2H, 2W]. */
    Tensor forward(Kernels k, Tensor x) {
        return conv.forward(k, k.upsampleNearest2x(x));
    }

    /** The conv's backward at the upsampled input, then each pixel's 2x2 copies summed. */
    Tensor backward(Kernels k, Tensor x, Tensor dOut, ParameterGradients grads) {
        Tensor dUp = conv.backward(k, k.upsampleNearest2x(x), dOut, grads); // [C, 2H, 2W]
        return k.upsampleNearest2xBackward(dUp);                           // [C, H, W]
    }
}
