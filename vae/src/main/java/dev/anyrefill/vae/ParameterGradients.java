package dev.anyrefill.vae;

import dev.anyrefill.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The AutoEncoder's parameter gradients by BFL name ({@code decoder.up.0.block.1.norm2.bias}),
 * summed over the samples of a batch: each module's backward adds its own.
 */
public final class ParameterGradients {
    private final Map<String, float[]> sums = new LinkedHashMap<>();
    private final Map<String, int[]> shapes = new LinkedHashMap<>();

    /** Adds g to the parameter's running sum. */
    void add(String name, Tensor g) {
        float[] sum = sums.get(name);
        if (sum == null) {
            sums.put(name, g.data().clone());
            shapes.put(name, g.shape());
            return;
        }
        float[] a = g.data();
        for (int i = 0; i < a.length; i++) {
            sum[i] += a[i];
        }
    }

    /** Forgets every sum (the start of a batch). */
    public void clear() {
        sums.clear();
        shapes.clear();
    }

    /** The gradients by name, in the order the backward reached them. */
    public Map<String, Tensor> all() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        sums.forEach((name, s) -> out.put(name, Tensor.wrap(s, shapes.get(name))));
        return out;
    }
}
