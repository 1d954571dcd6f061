package dev.anyrefill.training;

import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.train.AdamW;
import dev.anyrefill.train.TrainingState;
import dev.anyrefill.weights.SafetensorsFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where a run's checkpoints go and what each holds (a LoRA, or a whole model's weights, as
 * the writer makes them). For {@code --out DIR/NAME.safetensors}:
 * {@code DIR/NAME-step000100.safetensors} every {@code --save-every} steps and on Ctrl-C, and
 * {@code DIR/NAME.safetensors} at the end; each LoRA has its training state beside it
 * ({@code .state.safetensors}: F32 parameters and AdamW moments). The state is written
 * before its LoRA, each atomically, so a crash or a full disk leaves the previous pair intact.
 */
public final class CheckpointFiles {
    /**
     * The metadata that must match for a resume: the same base model (by header hash), task,
     * LoRA rank, alpha and targets; a state made for another run is refused naming the key.
     */
    static final List<String> SAME_RUN_KEYS = List.of("anyrefill.base_model_hash", "anyrefill.task",
            "anyrefill.rank", "anyrefill.alpha", "anyrefill.targets");

    /** Writes the trained weights (a LoRA file, a model file) with the given metadata, atomically. */
    @FunctionalInterface
    public interface Writer {
        void write(Path file, Map<String, String> metadata);
    }

    private final Path out;
    private final Map<String, Tensor> params;
    private final AdamW adam;
    private final Writer writer;
    private final Map<String, String> metadata;
    private Path lastSaved;

    /**
     * @param params   the trained parameters, saved in the state and restored on resume
     * @param metadata the run's description (SAME_RUN_KEYS among them), written into every file
     */
    public CheckpointFiles(Path out, Map<String, Tensor> params, AdamW adam, Writer writer,
                           Map<String, String> metadata) {
        for (String key : SAME_RUN_KEYS) {
            Objects.requireNonNull(metadata.get(key), key);
        }
        this.out = out;
        this.params = params;
        this.adam = adam;
        this.writer = writer;
        // In the caller's order, so a file's header is the same bytes from run to run (Map.copyOf
        // iterates in an order that changes with every JVM).
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** The training state beside a LoRA checkpoint. */
    public static Path stateOf(Path lora) {
        return lora.resolveSibling(stem(lora) + ".state.safetensors");
    }

    /** The checkpoint after {@code step} updates, before the end. */
    public Path intermediate(int step) {
        return out.resolveSibling(stem(out) + String.format("-step%06d.safetensors", step));
    }

    /** NAME of NAME.safetensors. */
    public static String stem(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(".safetensors") ? name.substring(0, name.length() - ".safetensors".length()) : name;
    }

    /** Saves the current LoRA and state as {@code file}; returns it. */
    public Path save(Path file) {
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put(TrainingState.STEPS, Integer.toString(adam.steps()));
        meta.put("ss_steps", Integer.toString(adam.steps()));
        TrainingState.save(stateOf(file), params, adam, meta);
        writer.write(file, meta);
        lastSaved = file;
        return file;
    }

    /** The last checkpoint this run saved, or null. */
    public Path lastSaved() {
        return lastSaved;
    }

    /**
     * Continues from a checkpoint: checks that its state was made by the same run and restores
     * parameters and optimiser; returns the step count it holds.
     */
    public int resume(Path checkpoint) {
        Path state = stateOf(checkpoint);
        if (!Files.isRegularFile(checkpoint)) {
            throw new IllegalArgumentException(checkpoint + ": --resume: no such checkpoint");
        }
        if (!Files.isRegularFile(state)) {
            throw new IllegalArgumentException(checkpoint + ": --resume needs the training state beside it, " + state
                    + ", which does not exist");
        }
        Map<String, String> saved = TrainingState.metadata(state);
        for (String key : SAME_RUN_KEYS) {
            if (!metadata.get(key).equals(saved.get(key))) {
                throw new IllegalArgumentException(state + ": made for another run: " + key + " is '" + saved.get(key)
                        + "' there, '" + metadata.get(key) + "' here");
            }
        }
        try (SafetensorsFile f = SafetensorsFile.open(checkpoint)) {
            String loraSteps = f.metadata().get(TrainingState.STEPS);
            if (!Objects.equals(loraSteps, saved.get(TrainingState.STEPS))) {
                throw new IllegalArgumentException(checkpoint + ": it is of step " + loraSteps + ", its state " + state
                        + " of step " + saved.get(TrainingState.STEPS) + "; they are not one checkpoint");
            }
        }
        TrainingState.restore(state, params, adam);
        return adam.steps();
    }
}
