package dev.anyrefill.dit;

import dev.anyrefill.weights.TensorSource;

/** Builds the model's layers from a checkpoint under BFL's names. */
final class Layers {
    private Layers() {
    }

    /** The linear layer {@code module} ({@code module.weight}, {@code module.bias} if present). */
    static Linear linear(TensorSource w, String module) {
        return new Linear(module, w.get(module + ".weight"), w.find(module + ".bias"));
    }
}
