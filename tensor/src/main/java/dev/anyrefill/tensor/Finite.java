package dev.anyrefill.tensor;

/**
 * Checks for NaN and infinity. One pass over a tensor's values, read in its stored type: a
 * user-supplied tensor is checked once when read, the sampler's latent after each step, a
 * module's output where a bad weight would show first. The first bad value stops the run.
 */
public final class Finite {
    private static final int CHUNK = 1 << 16;

    private Finite() {
    }

    /** A value that is not finite: the message names the tensor, the place and the likely cause. */
    public static class NonFiniteException extends IllegalStateException {
        public NonFiniteException(String message) {
            super(message);
        }
    }

    /** The index of the first NaN or infinity, or -1 when every value is finite. */
    public static long firstNonFinite(Tensor t) {
        if (t.isHeapF32()) {
            float[] a = t.data();
            for (int i = 0; i < a.length; i++) {
                if (!Float.isFinite(a[i])) {
                    return i;
                }
            }
            return -1;
        }
        float[] buf = new float[CHUNK];
        for (long from = 0; from < t.size(); from += CHUNK) {
            int n = (int) Math.min(CHUNK, t.size() - from);
            t.toFloats(from, buf, 0, n);
            for (int i = 0; i < n; i++) {
                if (!Float.isFinite(buf[i])) {
                    return from + i;
                }
            }
        }
        return -1;
    }

    /** An error naming {@code what} unless every value of t is finite; returns t. */
    public static Tensor require(Tensor t, String what, String likelyCause) {
        long at = firstNonFinite(t);
        if (at >= 0) {
            float v = t.isHeapF32() ? t.data()[(int) at] : t.toF32().data()[(int) at];
            throw new NonFiniteException(what + " holds " + v + " at element " + at
                    + (likelyCause == null ? "" : " (" + likelyCause + ")"));
        }
        return t;
    }
}
