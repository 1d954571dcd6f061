package dev.anyrefill.cli;

import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.weights.FluxCheckpoint;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;

/** The options that say which transformer to run: --model (either checkpoint layout). */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "FILE",
            description = "FLUX transformer checkpoint: BFL, diffusers or ComfyUI layout; a file, index or folder.")
    Path model;

    /** Opens the checkpoint and builds the model on the pure-Java kernels. */
    FluxModel load(FluxCheckpoint checkpoint, PrintStream out) {
        Kernels kernels = new JavaKernels();
        out.println("model: " + model + " (" + checkpoint.layout().name().toLowerCase() + " layout; "
                + checkpoint.config() + ")");
        return new FluxModel(checkpoint, kernels);
    }
}
