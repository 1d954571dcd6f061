package dev.anyrefill.vae;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/** The AutoEncoder's normalisation: GroupNorm with 32 groups, eps 1e-6, affine. */
final class GroupNorm {
    static final int GROUPS = 32;
    static final float EPS = 1e-6f;

    private final String name;
    private final Tensor weight;
    private final Tensor bias;

    GroupNorm(TensorSource source, String name) {
        this.name = name;
        this.weight = source.get(name + ".weight").asHeapF32();
        this.bias = source.get(name + ".bias").asHeapF32();
    }

    Tensor forward(Kernels k, Tensor x) {
        return k.groupNorm(x, GROUPS, weight, bias, EPS);
    }

    /** The norm followed by an activation, fused: one full-size buffer instead of two. */
    Tensor forward(Kernels k, Tensor x, Activation act) {
        return k.groupNorm(x, GROUPS, weight, bias, EPS, act);
    }

    /**
     * The backward of {@link #forward(Kernels, Tensor, Activation)} (act NONE for the plain
     * norm): the norm's output is recomputed for the activation's derivative, nothing is saved.
     */
    Tensor backward(Kernels k, Tensor x, Activation act, Tensor dy, ParameterGradients grads) {
        Tensor dNorm = act == Activation.NONE ? dy : k.activationBackward(forward(k, x), dy, act);
        Kernels.NormGrads g = k.groupNormBackward(x, GROUPS, weight, EPS, dNorm);
        grads.add(name + ".weight", g.dScale());
        grads.add(name + ".bias", g.dShift());
        return g.dx();
    }
}
