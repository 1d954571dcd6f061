package dev.anyrefill.text;

import dev.anyrefill.tensor.Tensor;

/** Reading the golden text runs: ids and masks out of I32 tensors, one row of a batch. */
public final class GoldenRuns {
    private GoldenRuns() {
    }

    /** Row {@code b} of an integer tensor [B, L] as ints. */
    public static int[] row(Tensor t, int b) {
        int length = t.dim(1);
        int[] out = new int[length];
        for (int i = 0; i < length; i++) {
            out[i] = (int) t.getLong((long) b * length + i);
        }
        return out;
    }

    /** Row {@code b} of a float tensor [B, ...] as a heap F32 tensor [...]. */
    public static Tensor item(Tensor t, int b) {
        int[] shape = t.shape();
        return t.sliceRows(b, b + 1).reshape(java.util.Arrays.copyOfRange(shape, 1, shape.length));
    }
}
