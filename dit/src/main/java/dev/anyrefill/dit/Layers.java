package dev.anyrefill.dit;

import dev.anyrefill.weights.TensorSource;

/** Builds the model's layers from a checkpoint under BFL's names. */
final class Layers {
    /** The epsilon of every norm in the transformer (BFL's LayerNorms and RMSNorm all use 1e-6). */
    static final float EPS = 1e-6f;

    private Layers() {
    }

    /** The linear layer {@code module} ({@code module.weight}, {@code module.bias} if present). */
    static Linear linear(TensorSource w, String module) {
        return new Linear(module, w.get(module + ".weight"), w.find(module + ".bias"));
    }
}
