package dev.anyrefill.dit;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;

/**
 * BFL's {@code nn.Sequential(Linear, activation, Linear)}: the blocks' MLPs (GELU, tanh) and
 * the MLPEmbedder's (SiLU). The activation runs after the first linear, not fused into it,
 * because the backward needs the pre-activation {@code hidden}; recomputing it would cost the
 * first product again.
 */
final class Mlp {
    /** What forward keeps for backward. */
    record Activations(
            Tensor hidden, // [L, mlp] first(x), before the activation
            Tensor act,    // [L, mlp] activation(hidden): second's input
            Tensor out) {  // [L, out] second(act)
    }

    final Linear first;
    final Linear second;
    private final Activation activation;

    Mlp(Linear first, Activation activation, Linear second) {
        this.first = first;
        this.activation = activation;
        this.second = second;
    }

    /** x [L, in] to [L, out]. */
    Activations forward(Kernels k, Tensor x) {
        Tensor hidden = first.forward(k, x);
        Tensor act = k.activation(hidden, activation);
        return new Activations(hidden, act, second.forward(k, act));
    }

    /** The backward of forward(k, x): dOut [L, out] to dx [L, in]. */
    Tensor backward(Kernels k, Tensor x, Activations a, Tensor dOut, Gradients grads) {
        Tensor dAct = second.backward(k, a.act(), dOut, grads);
        Tensor dHidden = k.activationBackward(a.hidden(), dAct, activation);
        return first.backward(k, x, dHidden, grads);
    }
}
