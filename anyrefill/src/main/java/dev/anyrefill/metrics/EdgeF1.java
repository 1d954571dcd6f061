package dev.anyrefill.metrics;

import dev.anyrefill.tensor.Tensor;

import java.util.Arrays;

/**
 * How well a painted edge map matches the true one, as edge-detection benchmarks score it
 * (BSDS's F-measure, here at a single threshold): PSNR says little of a one-pixel-wide map (an
 * all-black answer scores well on it), so image-to-canny also reports this.
 *
 * <p>Both maps are [C, H, W] in [-1, 1]; a pixel is an edge where its channel mean is above 0
 * (mid grey). An answer edge counts as found when a true edge lies within {@code tolerance}
 * pixels of it (in each direction: a square window), and a true edge as recalled when an
 * answer edge does; the tolerance forgives the off-by-one placements that a blurred AutoEncoder
 * cannot avoid. {@code F1 = 2 P R / (P + R)}, with P the found fraction of the answer's edges
 * and R the recalled fraction of the truth's. Two empty maps match perfectly (F1 1); an empty
 * answer to a non-empty truth scores 0.
 *
 * <p>Mid grey punishes an answer whose edges are in the right places but dim. BSDS therefore
 * also reports the F-measure at the one threshold that is best for the whole set (ODS,
 * "optimal dataset scale"). Here that is the threshold of {@link #THRESHOLDS} with the best mean
 * F1 over the pairs (BSDS pools the counts instead; a mean keeps it comparable with the mean F1
 * at mid grey, which it can only match or beat). The truth is always cut at mid grey (it is a
 * binary map).
 */
public final class EdgeF1 {
    /** The tolerance `evaluate` uses: one pixel. */
    public static final int TOLERANCE = 1;

    private EdgeF1() {
    }

    /** The answer thresholds ODS tries: -0.9, -0.8, ..., 0.9 of the [-1, 1] range. */
    public static final double[] THRESHOLDS = java.util.stream.IntStream.rangeClosed(-9, 9)
            .mapToDouble(i -> i / 10.0).toArray();

    /**
     * What F1 is computed from: the answer's edges that a true edge lies near ({@code found}),
     * the answer's edges, the true edges that an answer edge lies near ({@code recalled}), and
     * the true edges.
     */
    record Counts(long found, long answerEdges, long recalled, long trueEdges) {
        double f1() {
            if (answerEdges == 0 && trueEdges == 0) {
                return 1;
            }
            if (answerEdges == 0 || trueEdges == 0) {
                return 0;
            }
            double precision = (double) found / answerEdges;
            double recall = (double) recalled / trueEdges;
            return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        }
    }

    /** F1 at mid grey. */
    public static double f1(Tensor answer, Tensor truth, int tolerance) {
        return counts(answer, truth, 0, tolerance).f1();
    }

    /** The counts with the answer cut at {@code threshold} (its channel mean above it is an edge). */
    static Counts counts(Tensor answer, Tensor truth, double threshold, int tolerance) {
        if (answer.rank() != 3 || !Arrays.equals(answer.shape(), truth.shape())) {
            throw new IllegalArgumentException("edge F1 needs two [C, H, W] maps of one shape, got "
                    + Arrays.toString(answer.shape()) + " and " + Arrays.toString(truth.shape()));
        }
        int h = answer.dim(1);
        int w = answer.dim(2);
        boolean[] a = edges(answer, threshold);
        boolean[] t = edges(truth, 0);
        return new Counts(near(a, t, h, w, tolerance), count(a), near(t, a, h, w, tolerance), count(t));
    }

    /** F1 with the answer cut at each of {@link #THRESHOLDS}. */
    public static double[] f1AtThresholds(Tensor answer, Tensor truth, int tolerance) {
        double[] f1 = new double[THRESHOLDS.length];
        for (int i = 0; i < f1.length; i++) {
            f1[i] = counts(answer, truth, THRESHOLDS[i], tolerance).f1();
        }
        return f1;
    }

    /** The index into {@link #THRESHOLDS} of the largest sum (or mean) of F1 over a set (the first of equals). */
    public static int best(double[] summedF1) {
        int best = 0;
        for (int i = 1; i < summedF1.length; i++) {
            if (summedF1[i] > summedF1[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Edge pixels: channel mean above the threshold. */
    private static boolean[] edges(Tensor map, double threshold) {
        int channels = map.dim(0);
        int plane = map.dim(1) * map.dim(2);
        float[] v = map.data();
        boolean[] e = new boolean[plane];
        for (int i = 0; i < plane; i++) {
            double sum = 0;
            for (int c = 0; c < channels; c++) {
                sum += v[c * plane + i];
            }
            e[i] = sum / channels > threshold;
        }
        return e;
    }

    /** How many of from's edge pixels have an edge of to within the tolerance window. */
    private static long near(boolean[] from, boolean[] to, int h, int w, int tolerance) {
        long n = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (from[y * w + x] && anyWithin(to, h, w, y, x, tolerance)) {
                    n++;
                }
            }
        }
        return n;
    }

    private static boolean anyWithin(boolean[] map, int h, int w, int y, int x, int tolerance) {
        for (int yy = Math.max(0, y - tolerance); yy <= Math.min(h - 1, y + tolerance); yy++) {
            for (int xx = Math.max(0, x - tolerance); xx <= Math.min(w - 1, x + tolerance); xx++) {
                if (map[yy * w + xx]) {
                    return true;
                }
            }
        }
        return false;
    }

    private static long count(boolean[] e) {
        long n = 0;
        for (boolean b : e) {
            if (b) {
                n++;
            }
        }
        return n;
    }
}
