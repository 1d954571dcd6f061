package dev.anyrefill.metrics;

import dev.anyrefill.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Edge F1 against hand-counted precision and recall on vertical lines in a 3-channel 16 x 16 map. */
class EdgeF1Test {
    private static final int H = 16;
    private static final int W = 16;

    /** White (1) pixels at column x, rows [fromRow, toRow); black (-1) elsewhere. */
    private static Tensor line(int x, int fromRow, int toRow) {
        float[] v = new float[3 * H * W];
        Arrays.fill(v, -1f);
        for (int c = 0; c < 3; c++) {
            for (int y = fromRow; y < toRow; y++) {
                v[(c * H + y) * W + x] = 1f;
            }
        }
        return Tensor.wrap(v, 3, H, W);
    }

    @Test
    void countsFoundAndRecalledEdgesWithinTheTolerance() {
        Tensor truth = line(5, 0, H);
        assertEquals(1.0, EdgeF1.f1(truth, truth, 0), 1e-12, "a map against itself");
        assertEquals(1.0, EdgeF1.f1(line(6, 0, H), truth, 1), 1e-12, "one pixel off, tolerance 1");
        assertEquals(0.0, EdgeF1.f1(line(6, 0, H), truth, 0), 1e-12, "one pixel off, tolerance 0");
        assertEquals(0.0, EdgeF1.f1(line(7, 0, H), truth, 1), 1e-12, "two pixels off, tolerance 1");
        // Half the line: every answer edge is true (P = 1), half the truth is found (R = 1/2): F1 = 2/3.
        assertEquals(2.0 / 3, EdgeF1.f1(line(5, 0, H / 2), truth, 0), 1e-12, "half the line");
        // Rows 0..8 with tolerance 1: the answer's 9 edges are all true (P = 1); truth rows 0..9 are
        // within one row of an answer edge (R = 10/16): F1 = 2 * 10/16 / (1 + 10/16) = 20/26.
        assertEquals(20.0 / 26, EdgeF1.f1(line(5, 0, 9), truth, 1), 1e-12, "nine rows, tolerance 1");
    }

    @Test
    void emptyMaps() {
        Tensor black = line(0, 0, 0);
        assertEquals(1.0, EdgeF1.f1(black, black, 1), 1e-12, "nothing to find and nothing found");
        assertEquals(0.0, EdgeF1.f1(black, line(3, 0, H), 1), 1e-12, "an empty answer to a real map");
        assertEquals(0.0, EdgeF1.f1(line(3, 0, H), black, 1), 1e-12, "edges where there are none");
    }

    @Test
    void mismatchedShapesAreAnError() {
        Tensor small = Tensor.wrap(new float[3 * 8 * 8], 3, 8, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EdgeF1.f1(small, line(0, 0, 1), 1));
        assertEquals("edge F1 needs two [C, H, W] maps of one shape, got [3, 8, 8] and [3, 16, 16]", e.getMessage());
    }

    /** The line of {@link #line} drawn at {@code value} instead of white. */
    private static Tensor dim(Tensor line, float value) {
        float[] v = line.data().clone();
        for (int i = 0; i < v.length; i++) {
            v[i] = v[i] > 0 ? value : v[i];
        }
        return Tensor.wrap(v, line.shape());
    }

    @Test
    void theBestThresholdOverTheSetFindsDimButWellPlacedEdges() {
        Tensor truth = line(5, 0, H);
        Tensor dimLine = dim(truth, -0.45f);
        assertEquals(0.0, EdgeF1.f1(dimLine, truth, 1), 1e-12, "a dim line is no edge at mid grey");
        // Two pairs: the dim full line (F1 1 at thresholds up to -0.5, 0 above) and a bright half
        // line (F1 2/3 at every threshold): the best threshold for the set is the first of -0.9..-0.5.
        double[] summed = new double[EdgeF1.THRESHOLDS.length];
        for (Tensor answer : new Tensor[]{dimLine, line(5, 0, H / 2)}) {
            double[] f1 = EdgeF1.f1AtThresholds(answer, truth, 0);
            for (int i = 0; i < f1.length; i++) {
                summed[i] += f1[i];
            }
        }
        int best = EdgeF1.best(summed);
        assertEquals(-0.9, EdgeF1.THRESHOLDS[best], 1e-12, "the first threshold that keeps the dim line");
        assertEquals(1 + 2.0 / 3, summed[best], 1e-12);
        assertEquals(-0.5, EdgeF1.THRESHOLDS[4], 1e-12);
        assertEquals(1 + 2.0 / 3, summed[4], 1e-12, "-0.5 still keeps the dim line");
        assertEquals(2.0 / 3, summed[5], 1e-12, "-0.4 loses it");
    }
}
