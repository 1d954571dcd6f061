package dev.anyrefill.dit;

import dev.anyrefill.weights.FluxConfig;

/**
 * What a training forward keeps for the backward ({@link FluxModel#forwardForTraining}).
 * PyTorch autograd keeps every activation; the full FLUX at 1024 px would need about 126 GiB
 * for that ({@link #keptBytes}), so large models keep only each block's inputs and recompute a block's inside in its
 * backward, one block at a time (what diffusers calls gradient checkpointing), at the cost of a
 * second forward. Both give the same gradients, bit for bit: the recomputed forward is the same
 * arithmetic on the same inputs.
 */
public enum ActivationCheckpointing {
    /** Keep each block's inputs only; recompute its activations in its backward. */
    BLOCKS,
    /** Keep every block's activations: no second forward, all blocks' activations in memory at once. */
    NONE,
    /** {@link #NONE} where its activations take at most half the heap, else {@link #BLOCKS} ({@link #resolve}). */
    AUTO;

    /**
     * Floats of live heap a block's kept activations take per token and hidden channel: 2.65 GB
     * for one double and one single block over 2560 tokens at hidden 3072 (measured with
     * {@code bench --train --live-heap}), about 42 [L, hidden] tensors a block (the single
     * block's linear1 output alone is 7, its linear2 input 5).
     */
    static final int FLOATS_PER_TOKEN_AND_CHANNEL = 42;

    /** The bytes {@link #NONE} keeps for a model of this shape over this many tokens (text and image). */
    public static long keptBytes(FluxConfig c, long tokens) {
        long blocks = c.depth() + c.depthSingleBlocks();
        return blocks * tokens * c.hiddenSize() * FLOATS_PER_TOKEN_AND_CHANNEL * Float.BYTES;
    }

    /** {@link #resolve(FluxConfig, long, long)} with this JVM's maximum heap. */
    public ActivationCheckpointing resolve(FluxConfig c, long tokens) {
        return resolve(c, tokens, Runtime.getRuntime().maxMemory());
    }

    /** This choice for a model of this shape over this many tokens, with this much heap: AUTO decided, the others as they are. */
    public ActivationCheckpointing resolve(FluxConfig c, long tokens, long heapBytes) {
        if (this != AUTO) {
            return this;
        }
        return keptBytes(c, tokens) <= heapBytes / 2 ? NONE : BLOCKS;
    }

    /** The command-line name: auto, blocks or none. */
    public String cliName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static ActivationCheckpointing fromCliName(String name) {
        for (ActivationCheckpointing a : values()) {
            if (a.cliName().equals(name)) {
                return a;
            }
        }
        throw new IllegalArgumentException("--activation-checkpointing '" + name + "': auto, blocks or none");
    }
}
