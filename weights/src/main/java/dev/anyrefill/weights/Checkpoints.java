package dev.anyrefill.weights;

import java.nio.file.Files;
import java.nio.file.Path;

/** Opens whatever a user points at: one safetensors file, an index, or a folder of shards. */
public final class Checkpoints {
    private Checkpoints() {
    }

    public static TensorSource open(Path path) {
        if (!Files.exists(path)) {
            throw new WeightsException(path + ": no such file or folder");
        }
        String name = path.getFileName().toString();
        if (Files.isDirectory(path) || name.endsWith(".index.json")) {
            return ShardedCheckpoint.open(path);
        }
        return SafetensorsFile.open(path);
    }
}
