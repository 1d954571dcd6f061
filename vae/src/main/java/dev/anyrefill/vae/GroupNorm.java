package dev.anyrefill.vae;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/** The AutoEncoder's normalisation: GroupNorm with 32 groups, eps 1e-6, affine. */
final class GroupNorm {
    static final int GROUPS = 32;
    static final float EPS = 1e-6f;

    private final Tensor weight;
    private final Tensor bias;

    GroupNorm(TensorSource source, String name) {
        this.weight = source.get(name + ".weight").toF32();
        this.bias = source.get(name + ".bias").toF32();
    }

    Tensor forward(Kernels k, Tensor x) {
        return k.groupNorm(x, GROUPS, weight, bias, EPS);
    }

    /** The norm followed by an activation, fused: one full-size buffer instead of two. */
    Tensor forward(Kernels k, Tensor x, Activation act) {
        return k.groupNorm(x, GROUPS, weight, bias, EPS, act);
    }
}
