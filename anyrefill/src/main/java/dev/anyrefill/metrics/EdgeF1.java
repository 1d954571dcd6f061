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
 */
public final class EdgeF1 {
    /** The tolerance `evaluate` uses: one pixel. */
    public static final int TOLERANCE = 1;

    private EdgeF1() {
    }

    public static double f1(Tensor answer, Tensor truth, int tolerance) {
        if (answer.rank() != 3 || !Arrays.equals(answer.shape(), truth.shape())) {
            throw new IllegalArgumentException("edge F1 needs two [C, H, W] maps of one shape, got "
                    + Arrays.toString(answer.shape()) + " and " + Arrays.toString(truth.shape()));
        }
        int h = answer.dim(1);
        int w = answer.dim(2);
        boolean[] a = edges(answer);
        boolean[] t = edges(truth);
        long answerEdges = count(a);
        long trueEdges = count(t);
        if (answerEdges == 0 && trueEdges == 0) {
            return 1;
        }
        if (answerEdges == 0 || trueEdges == 0) {
            return 0;
        }
        double precision = (double) near(a, t, h, w, tolerance) / answerEdges;
        double recall = (double) near(t, a, h, w, tolerance) / trueEdges;
        return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
    }

    /** Edge pixels: channel mean above mid grey. */
    private static boolean[] edges(Tensor map) {
        int channels = map.dim(0);
        int plane = map.dim(1) * map.dim(2);
        float[] v = map.data();
        boolean[] e = new boolean[plane];
        for (int i = 0; i < plane; i++) {
            double sum = 0;
            for (int c = 0; c < channels; c++) {
                sum += v[c * plane + i];
            }
            e[i] = sum / channels > 0;
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
