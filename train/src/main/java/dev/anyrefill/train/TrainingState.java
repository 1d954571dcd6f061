package dev.anyrefill.train;

import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.SafetensorsFile;
import dev.anyrefill.weights.SafetensorsWriter;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What resuming a run needs, in one safetensors file beside each saved LoRA: the trained
 * parameters as F32 (the master copy, exact whatever precision the LoRA was saved in), both
 * AdamW moments per parameter and, as metadata, the step count and whatever the trainer
 * records to check that a resumed run is the same run (model, rank, task, options).
 *
 * <p>Tensor names: {@code param.NAME}, {@code adam.m.NAME}, {@code adam.v.NAME} with NAME a
 * parameter's name ({@link TrainableLora#parameters()}' keys, or a whole model's BFL names).
 */
public final class TrainingState {
    /** The metadata key of the number of optimiser steps taken. */
    public static final String STEPS = "anyrefill.steps";

    private TrainingState() {
    }

    /** Writes the state atomically; {@code metadata} gains the step count. */
    public static void save(Path file, Map<String, Tensor> parameters, AdamW adam, Map<String, String> metadata) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        AdamW.State s = adam.state();
        parameters.forEach((name, p) -> {
            tensors.put("param." + name, p);
            float[] m = s.firstMoments().get(name);
            float[] v = s.secondMoments().get(name);
            // before the first step the moments do not exist yet: they are zero
            tensors.put("adam.m." + name, Tensor.wrap(m != null ? m : new float[(int) p.size()], p.shape()));
            tensors.put("adam.v." + name, Tensor.wrap(v != null ? v : new float[(int) p.size()], p.shape()));
        });
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put(STEPS, Integer.toString(adam.steps()));
        SafetensorsWriter.write(file, tensors, meta, DType.F32);
    }

    /** The metadata of a state file, without reading its tensors. */
    public static Map<String, String> metadata(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return new LinkedHashMap<>(f.metadata());
        }
    }

    /**
     * Copies the saved parameters into the given ones (same names, same shapes, or an error
     * naming the tensor) and the moments and step count into the optimiser.
     */
    public static void restore(Path file, Map<String, Tensor> params, AdamW adam) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            String steps = f.metadata().get(STEPS);
            if (steps == null) {
                throw new IllegalArgumentException(file + ": not a training state (no " + STEPS + " in its metadata)");
            }
            Map<String, float[]> m = new LinkedHashMap<>();
            Map<String, float[]> v = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                String name = e.getKey();
                Tensor p = e.getValue();
                System.arraycopy(read(f, "param." + name, p.shape()), 0, p.data(), 0, (int) p.size());
                m.put(name, read(f, "adam.m." + name, p.shape()));
                v.put(name, read(f, "adam.v." + name, p.shape()));
            }
            if (f.names().size() != 3 * params.size()) {
                throw new IllegalArgumentException(file + ": holds " + f.names().size() / 3 + " parameters, this run trains "
                        + params.size() + " (another target set or model)");
            }
            adam.restore(new AdamW.State(Integer.parseInt(steps), m, v));
        }
    }

    private static float[] read(SafetensorsFile f, String name, int[] shape) {
        if (!f.contains(name)) {
            throw new IllegalArgumentException(f.origin() + ": no tensor '" + name + "' (a state of another run)");
        }
        Tensor t = f.get(name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(f.origin() + ": tensor '" + name + "' is " + Arrays.toString(t.shape())
                    + ", this run trains " + Arrays.toString(shape) + " (another rank or model)");
        }
        return t.toF32().data(); // a heap copy
    }
}
