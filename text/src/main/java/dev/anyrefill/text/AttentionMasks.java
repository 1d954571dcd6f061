package dev.anyrefill.text;

import dev.anyrefill.tensor.Tensor;

/** Padding masks as the additive attention bias the kernels take. */
public final class AttentionMasks {
    private AttentionMasks() {
    }

    /**
     * 0 where the key is a real token, minus infinity where it is padding (mask 0), for every
     * (query, key) pair: [L, L], flattened to one row of L * L so it can be added to a bias
     * of several heads.
     */
    public static Tensor keyMask(int length, int[] mask) {
        if (mask.length != length) {
            throw new IllegalArgumentException("attention mask of " + mask.length + " values for " + length + " tokens");
        }
        float[] m = new float[length * length];
        for (int q = 0; q < length; q++) {
            for (int key = 0; key < length; key++) {
                m[q * length + key] = mask[key] == 0 ? Float.NEGATIVE_INFINITY : 0f;
            }
        }
        return Tensor.wrap(m, length * length);
    }
}
