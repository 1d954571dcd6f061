package dev.anyrefill.cli;

import dev.anyrefill.weights.TensorSource;

import java.io.PrintStream;

/**
 * Descriptions of the non-transformer files {@code inspect} understands. Each kind of file
 * (VAE, LoRA, text encoder) adds its recogniser here.
 */
final class Inspectors {
    private Inspectors() {
    }

    static void describe(TensorSource source, PrintStream out) {
        out.println("  model: not recognised (no FLUX transformer tensors)");
    }
}
