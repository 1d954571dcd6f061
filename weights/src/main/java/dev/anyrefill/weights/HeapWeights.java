package dev.anyrefill.weights;

import dev.anyrefill.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Trainable parameters: every tensor of a source copied once to the heap as F32, and handed out
 * as the same instance each time, so a model built on this source sees an optimiser's in-place
 * updates. For small models only (an AutoEncoder, a miniature transformer): a 12 B-parameter
 * transformer stays mapped.
 */
public final class HeapWeights implements TensorSource {
    private final String origin;
    private final Map<String, Tensor> tensors;

    private HeapWeights(String origin, Map<String, Tensor> tensors) {
        this.origin = origin;
        this.tensors = tensors;
    }

    /** F32 heap copies of every tensor of {@code source}. */
    public static HeapWeights copyOf(TensorSource source) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (String name : source.names()) {
            t.put(name, source.get(name).toF32());
        }
        return new HeapWeights(source.origin() + " (F32 on the heap)", t);
    }

    /** The given heap F32 tensors (not copied). */
    public static HeapWeights of(String origin, Map<String, Tensor> tensors) {
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (!e.getValue().isHeapF32()) {
                throw new IllegalArgumentException(origin + ": tensor '" + e.getKey() + "' is not F32 on the heap");
            }
        }
        return new HeapWeights(origin, new LinkedHashMap<>(tensors));
    }

    /** Every parameter by name: the live tensors. */
    public Map<String, Tensor> parameters() {
        return tensors;
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new WeightsException(origin + ": no tensor '" + name + "'");
        }
        return t;
    }

    @Override
    public String origin() {
        return origin;
    }

    @Override
    public void close() {
        // nothing is mapped
    }
}
