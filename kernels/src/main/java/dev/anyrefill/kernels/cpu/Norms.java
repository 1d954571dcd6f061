package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Layer, RMS and group norms, one row (or group) per pass: the statistics are summed a vector
 * at a time into float lanes, block by block into a double, so long groups keep float32
 * accuracy; the normalised values are written in the same sweep as any affine or modulation
 * factors (layer norm + modulation is one pass over the row, not three).
 */
public final class Norms {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int BLOCK = 2048;

    private Norms() {
    }

    static double sum(float[] a, int off, int n) {
        double s = 0;
        for (int i = 0; i < n; i += BLOCK) {
            s += VectorMath.sum(a, off + i, Math.min(BLOCK, n - i));
        }
        return s;
    }

    static double sumSquaredDeviations(float[] a, int off, int n, float mean) {
        double s = 0;
        for (int i = 0; i < n; i += BLOCK) {
            s += VectorMath.sumSquaredDeviations(a, off + i, Math.min(BLOCK, n - i), mean);
        }
        return s;
    }

    /**
     * Per row of x [rows, c]: {@code y = (x - mean) / sqrt(var + eps)}, then
     * {@code y * mul + add} where mul and add are [c] or null (none).
     */
    public static void layerNorm(float[] x, int rows, int c, float eps, float[] mul, float[] add, float[] out) {
        Parallel.forChunks(rows, 8, (from, to) -> {
            for (int r = from; r < to; r++) {
                int off = r * c;
                float mean = (float) (sum(x, off, c) / c);
                float var = (float) (sumSquaredDeviations(x, off, c, mean) / c);
                float inv = (float) (1 / Math.sqrt(var + (double) eps));
                normalizeRow(x, off, c, mean, inv, mul, add, out);
            }
        });
    }

    private static void normalizeRow(float[] x, int off, int c, float mean, float inv,
                                     float[] mul, float[] add, float[] out) {
        int i = 0;
        int upper = F.loopBound(c);
        for (; i < upper; i += F.length()) {
            FloatVector y = FloatVector.fromArray(F, x, off + i).sub(mean).mul(inv);
            if (mul != null) {
                y = y.mul(FloatVector.fromArray(F, mul, i));
            }
            if (add != null) {
                y = y.add(FloatVector.fromArray(F, add, i));
            }
            y.intoArray(out, off + i);
        }
        for (; i < c; i++) {
            float y = (x[off + i] - mean) * inv;
            if (mul != null) {
                y *= mul[i];
            }
            if (add != null) {
                y += add[i];
            }
            out[off + i] = y;
        }
    }

    /** Per row: {@code x * rsqrt(mean(x^2) + eps) * scale}. */
    public static void rmsNorm(float[] x, int rows, int c, float eps, float[] scale, float[] out) {
        Parallel.forChunks(rows, 8, (from, to) -> {
            for (int r = from; r < to; r++) {
                int off = r * c;
                double sq = 0;
                for (int i = 0; i < c; i += BLOCK) {
                    int n = Math.min(BLOCK, c - i);
                    sq += VectorMath.dot(x, off + i, x, off + i, n);
                }
                float inv = (float) (1 / Math.sqrt(sq / c + eps));
                normalizeRow(x, off, c, 0f, inv, scale, null, out);
            }
        });
    }

    /** Group norm of [channels, plane] with groups of consecutive channels and affine [channels]. */
    public static void groupNorm(float[] x, int channels, int plane, int groups, float[] w, float[] b,
                                 float eps, float[] out) {
        int per = channels / groups;
        Parallel.forRange(groups, g -> {
            int start = g * per * plane;
            int len = per * plane;
            float mean = (float) (sum(x, start, len) / len);
            float var = (float) (sumSquaredDeviations(x, start, len, mean) / len);
            float inv = (float) (1 / Math.sqrt(var + (double) eps));
            for (int ch = g * per; ch < (g + 1) * per; ch++) {
                // (x - mean) * inv * w + b  ==  x * a + d
                float a = inv * w[ch];
                float d = b[ch] - mean * a;
                int off = ch * plane;
                int i = 0;
                int upper = F.loopBound(plane);
                for (; i < upper; i += F.length()) {
                    FloatVector.fromArray(F, x, off + i).fma(a, d).intoArray(out, off + i);
                }
                for (; i < plane; i++) {
                    out[off + i] = x[off + i] * a + d;
                }
            }
        });
    }
}
