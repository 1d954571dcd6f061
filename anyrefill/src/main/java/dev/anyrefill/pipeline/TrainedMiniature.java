package dev.anyrefill.pipeline;

import dev.anyrefill.image.ImageOps;
import dev.anyrefill.image.Pixels;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The miniature AnyRefill this project trains itself, as it is shipped in
 * {@code models/miniature}: the names of its files, and the preparations its task LoRAs learned
 * from, so that the demo and the tests build their left images exactly as the training pairs
 * were built ({@code models/miniature/README.md} gives the commands).
 */
public final class TrainedMiniature {
    public static final String TRANSFORMER = "flux-fill.safetensors";
    public static final String AUTOENCODER = "ae.safetensors";
    public static final String PROMPT = "prompt.safetensors";
    /**
     * Canny's thresholds for the edge tasks ({@code prepare --canny 20,60}). The procedural
     * scenes are smooth: at 100,200 most of their hill and horizon lines fall below the
     * thresholds, and the edge maps say too little of the picture to paint it back from.
     */
    public static final int CANNY_LOW = 20;
    public static final int CANNY_HIGH = 60;

    private TrainedMiniature() {
    }

    /** models/miniature of the installation ({@code -Danyrefill.home}, set by bin/anyrefill). */
    public static Path defaultFolder() {
        return Path.of(System.getProperty("anyrefill.home", ".")).resolve("models/miniature");
    }

    public static String loraName(Task t) {
        return "lora-" + t.cliName() + ".safetensors";
    }

    /** The task's left image (or, for a perception task, its right-hand map) as the LoRA saw it. */
    public static Pixels prepare(Task t, Pixels photo) {
        return switch (t) {
            case CANNY_TO_IMAGE, IMAGE_TO_CANNY -> ImageOps.canny(photo, CANNY_LOW, CANNY_HIGH);
            default -> t.prepare(photo);
        };
    }

    /** The tasks with a LoRA in dir, in the paper's order. */
    public static List<Task> lorasIn(Path dir) {
        List<Task> found = new ArrayList<>();
        for (Task t : Task.values()) {
            if (Files.isRegularFile(dir.resolve(loraName(t)))) {
                found.add(t);
            }
        }
        return found;
    }

    /** The first file that running these tasks needs and dir lacks ("no FILE"), or null when all are there. */
    public static String missing(Path dir, List<Task> tasks) {
        if (tasks.isEmpty()) {
            return "no lora-TASK.safetensors";
        }
        List<String> needed = new ArrayList<>(List.of(TRANSFORMER, AUTOENCODER, PROMPT));
        tasks.forEach(t -> needed.add(loraName(t)));
        for (String f : needed) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                return "no " + f;
            }
        }
        return null;
    }
}
