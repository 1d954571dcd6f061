package dev.anyrefill.cli;

import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Writes a command's result file: never over one of its inputs; atomically (temp file and rename). */
final class Outputs {
    private Outputs() {
    }

    static void write(Path out, Map<String, Tensor> tensors, Path input, Path... otherInputs) {
        requireNotInput(out, input);
        requireNotInput(out, otherInputs);
        SafetensorsWriter.write(out, tensors);
    }

    /**
     * Checks before any work that {@code out} can be written: not a folder, and its folder
     * (created if missing) takes a new file. A long job finds out now, not at its end.
     */
    static void requireWritable(Path out) {
        if (Files.isDirectory(out)) {
            throw new IllegalArgumentException(out + ": is a folder; --out names a file");
        }
        Path dir = out.toAbsolutePath().getParent();
        try {
            Files.delete(dev.anyrefill.weights.AtomicFiles.tempBeside(out)); // as the output itself will be written
        } catch (IOException e) {
            throw new IllegalArgumentException(out + ": cannot write into " + dir + " (" + e + ")");
        }
    }

    /** Refuses an output path that names one of the command's inputs. */
    static void requireNotInput(Path out, Path... inputs) {
        for (Path in : inputs) {
            if (in != null && sameFile(out, in)) {
                throw new IllegalArgumentException(out + ": is an input of this command; choose another output file");
            }
        }
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.exists(a) && Files.exists(b) ? Files.isSameFile(a, b)
                    : a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
        } catch (IOException e) {
            return false;
        }
    }
}
