package dev.anyrefill.cli;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.training.CheckpointFiles;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The options every training run shares: seed, resume, metrics file, saved precision, backend. */
final class TrainingRunOptions {
    @Option(names = "--seed", defaultValue = "0", paramLabel = "N",
            description = "Seed of the initialisation and of every draw (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--resume", paramLabel = "CHECKPOINT",
            description = "Continue from a checkpoint of this run (its .state.safetensors beside it).")
    Path resume;

    @Option(names = "--metrics", paramLabel = "FILE",
            description = "Metrics, one JSON object per step (default: NAME.metrics.jsonl beside --out).")
    Path metrics;

    @Option(names = "--save-precision", defaultValue = "f32", paramLabel = "f32|bf16",
            description = "Precision of the saved weights (default: ${DEFAULT-VALUE}).")
    String savePrecision;

    @Option(names = "--backend", defaultValue = Backends.JAVA, paramLabel = "NAME",
            description = "java (default) or tornado; training runs on the Java kernels either way, for now.")
    String backend;

    DType precision() {
        return switch (savePrecision) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            default -> throw new IllegalArgumentException("--save-precision '" + savePrecision + "': f32 or bf16");
        };
    }

    /** --metrics, or NAME.metrics.jsonl beside {@code out}. */
    Path metricsFile(Path out) {
        return metrics != null ? metrics : out.resolveSibling(CheckpointFiles.stem(out) + ".metrics.jsonl");
    }

    Kernels kernels() {
        return TrainStepCommand.trainingKernels(backend);
    }
}
