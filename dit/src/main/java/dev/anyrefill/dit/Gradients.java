package dev.anyrefill.dit;

import dev.anyrefill.tensor.Tensor;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Where a backward pass puts its parameter gradients: a sum per parameter name (BFL's names,
 * {@code double_blocks.0.img_attn.qkv.weight}; a trained LoRA's as {@code MODULE.lora_A} and
 * {@code MODULE.lora_B}), F32 on the heap, added to by every sample until {@link #clear}.
 * Only the parameters being trained get one: a frozen weight costs its backward only dx.
 */
public final class Gradients {
    private final Predicate<String> baseParameters;
    private final Map<LoraAdapter, String> trainedAdapters = new IdentityHashMap<>();
    private final Map<String, Tensor> sums = new LinkedHashMap<>();

    /**
     * @param baseParameters which of the model's own parameters (by BFL name) are trained:
     *                       {@code name -> false} for LoRA training, {@code name -> true} for full
     */
    public Gradients(Predicate<String> baseParameters) {
        this.baseParameters = baseParameters;
    }

    /** Gradients of trained LoRA adapters only; every base weight frozen. */
    public static Gradients loraOnly() {
        return new Gradients(name -> false);
    }

    /** Marks an adapter as trained: its A and B get gradients under {@code module.lora_A / lora_B}. */
    public void train(LoraAdapter adapter, String module) {
        trainedAdapters.put(adapter, module);
    }

    /** True when the base parameter (a BFL name) is trained. */
    boolean wants(String parameter) {
        return baseParameters.test(parameter);
    }

    /** The module name of a trained adapter, or null for a frozen one. */
    String moduleOf(LoraAdapter adapter) {
        return trainedAdapters.get(adapter);
    }

    /** Adds g to the sum kept for the parameter. */
    void add(String parameter, Tensor g) {
        Tensor sum = sums.get(parameter);
        if (sum == null) {
            sums.put(parameter, Tensor.wrap(g.data().clone(), g.shape()));
            return;
        }
        float[] s = sum.data();
        float[] d = g.data();
        if (s.length != d.length) {
            throw new IllegalStateException(parameter + ": gradient " + g + " added to " + sum);
        }
        for (int i = 0; i < s.length; i++) {
            s[i] += d[i];
        }
    }

    /** The gradient sums by parameter name, in the order the backward first reached them. */
    public Map<String, Tensor> all() {
        return Collections.unmodifiableMap(sums);
    }

    /** The sum for one parameter, or null if the backward has not reached it. */
    public Tensor get(String parameter) {
        return sums.get(parameter);
    }

    /** Forgets every sum (before the next batch). */
    public void clear() {
        sums.clear();
    }
}
