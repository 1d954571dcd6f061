package dev.anyrefill.text.t5;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.text.AttentionMasks;

/**
 * T5's attention bias from relative positions, computed once in block 0 and added in every
 * block. A query-key distance (key - query) falls into one of {@code buckets} buckets, half
 * for keys before the query and half for keys after it (bidirectional); within each half,
 * distances below half of the half get a bucket each, larger ones share buckets on a
 * logarithmic scale up to {@code maxDistance}, beyond which they all share the last one.
 * The bias is a learned [buckets, heads] table looked up by bucket.
 */
public final class RelativePositionBias {
    private final Tensor table; // [buckets, heads]
    private final int buckets;
    private final int maxDistance;

    public RelativePositionBias(Tensor table, int maxDistance) {
        this.table = table;
        this.buckets = table.dim(0);
        this.maxDistance = maxDistance;
    }

    /** The bucket of one distance {@code key - query} (HF's _relative_position_bucket, bidirectional). */
    public static int bucket(int relative, int buckets, int maxDistance) {
        int half = buckets / 2;
        int bucket = relative > 0 ? half : 0;
        int distance = Math.abs(relative);
        int exact = half / 2;
        if (distance < exact) {
            return bucket + distance;
        }
        // Computed in float32 like the reference, truncated toward zero.
        float scaled = (float) (Math.log((float) distance / exact) / Math.log((float) maxDistance / exact)) * (half - exact);
        int large = exact + (int) scaled;
        return bucket + Math.min(large, half - 1);
    }

    /** Bucket of every (query, key) pair of a sequence of {@code length}: [length * length], row-major. */
    public int[] buckets(int length) {
        int[] out = new int[length * length];
        for (int q = 0; q < length; q++) {
            for (int k = 0; k < length; k++) {
                out[q * length + k] = bucket(k - q, buckets, maxDistance);
            }
        }
        return out;
    }

    /**
     * The additive attention bias [heads, L, L] for a sequence of {@code length}; keys where
     * {@code mask} is 0 get minus infinity (mask null: every key is visible, as FLUX runs it).
     */
    public Tensor bias(Kernels k, int length, int[] mask) {
        int heads = table.dim(1);
        Tensor perPair = k.gatherRows(table, buckets(length));       // [L*L, heads]
        Tensor bias = k.transpose(perPair);                           // [heads, L*L]
        if (mask != null) {
            bias = k.add(bias, AttentionMasks.keyMask(length, mask));                // + [L*L] broadcast over heads
        }
        return bias.reshape(heads, length, length);
    }
}
