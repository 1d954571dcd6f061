package dev.anyrefill.dit;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * A linear layer, {@code x W^T + b}, as BFL's {@code nn.Linear}: a view of the checkpoint's
 * weight in its stored type, and an optional bias. Every linear layer of the model goes through
 * this class, so a LoRA reaches any of them without the blocks knowing.
 *
 * <p>A LoRA is added in one of two ways. Runtime: {@link #addAdapter} keeps the adapter beside
 * W0 and each forward adds {@code s * B (A x)} (two thin matmuls), so W0 is never touched.
 * Merged: {@link #setMergedWeight} swaps in a private copy {@code W0 + sum s B A} made once;
 * the mapped checkpoint is never written.
 */
public final class Linear {
    private final String name;
    private final Tensor weight;
    private final Tensor bias;
    private Tensor mergedWeight;
    private Tensor mergedBias;
    private final List<LoraAdapter> adapters = new ArrayList<>();

    /**
     * @param name   the BFL module name ({@code double_blocks.0.img_attn.qkv}), for messages and LoRA keys
     * @param weight [out, in] in its stored type
     * @param bias   [out] or null
     */
    public Linear(String name, Tensor weight, Tensor bias) {
        if (weight.rank() != 2) {
            throw new IllegalArgumentException(name + ".weight: expected a matrix, got " + weight);
        }
        if (bias != null && bias.size() != weight.dim(0)) {
            throw new IllegalArgumentException(name + ".bias: " + bias + " does not fit weight " + weight);
        }
        this.name = name;
        this.weight = weight;
        this.bias = bias;
    }

    public String name() {
        return name;
    }

    public int inFeatures() {
        return weight.dim(1);
    }

    public int outFeatures() {
        return weight.dim(0);
    }

    /** The checkpoint's weight W0, never modified. */
    public Tensor baseWeight() {
        return weight;
    }

    public Tensor baseBias() {
        return bias;
    }

    /** The weight forward uses: the merged copy if there is one, else W0. */
    public Tensor weight() {
        return mergedWeight != null ? mergedWeight : weight;
    }

    public Tensor bias() {
        return mergedWeight != null ? mergedBias : bias;
    }

    /** The adapters applied at runtime (unmerged). */
    public List<LoraAdapter> adapters() {
        return List.copyOf(adapters);
    }

    public boolean isMerged() {
        return mergedWeight != null;
    }

    /** Adds a runtime (unmerged) LoRA adapter. */
    public void addAdapter(LoraAdapter adapter) {
        adapter.checkFits(this);
        adapters.add(adapter);
    }

    /** Replaces W0 and b by a merged copy (same shapes) in forward; null restores W0 and b. */
    public void setMergedWeight(Tensor merged, Tensor mergedBias) {
        if (merged != null && (merged.rank() != 2 || merged.dim(0) != outFeatures() || merged.dim(1) != inFeatures())) {
            throw new IllegalArgumentException(name + ": merged weight " + merged + " does not match " + weight);
        }
        this.mergedWeight = merged;
        this.mergedBias = merged == null ? null : mergedBias;
    }

    /** Drops every LoRA: runtime adapters and merged copy. */
    public void clearLora() {
        adapters.clear();
        mergedWeight = null;
        mergedBias = null;
    }

    public Tensor forward(Kernels k, Tensor x) {
        return forward(k, x, Activation.NONE);
    }

    /** {@code act(x W^T + b + sum s B (A x))}; x [L, in] to [L, out]. */
    public Tensor forward(Kernels k, Tensor x, Activation act) {
        if (x.cols() != inFeatures()) {
            throw new IllegalArgumentException(name + ": input " + x + " does not fit weight " + weight);
        }
        // a scope named after the layer: a device backend names its launches after it
        try (Kernels.Scope layer = k.scope(name)) {
            if (adapters.isEmpty()) {
                return layer.keep(k.linear(x, weight(), bias(), act));
            }
            Tensor h = k.linear(x, weight(), bias(), Activation.NONE);
            for (LoraAdapter a : adapters) {
                h = a.addTo(k, x, h);
            }
            return layer.keep(act == Activation.NONE ? h : k.activation(h, act));
        }
    }

    /**
     * The backward of {@link #forward(Kernels, Tensor)}: dy [L, out] to dx [L, in]. x is the
     * forward's input. Adds to grads d weight and d bias where they are trained and each trained
     * adapter's dA and dB; every adapter passes its share of dx back.
     */
    public Tensor backward(Kernels k, Tensor x, Tensor dy, Gradients grads) {
        Tensor dx = k.linearBackwardInput(dy, weight());                   // dy W: [L, in]
        if (grads.wants(name + ".weight")) {
            grads.add(name + ".weight", k.linearBackwardWeight(dy, x));    // dy^T x: [out, in]
        }
        if (bias() != null && grads.wants(name + ".bias")) {
            grads.add(name + ".bias", k.sumRows(dy));                      // [out]
        }
        for (LoraAdapter a : adapters) {
            k.axpyInPlace(dx, 1f, a.backward(k, x, dy, grads));            // dx is ours: add in place
        }
        return dx;
    }

    @Override
    public String toString() {
        return name + " " + weight;
    }
}
