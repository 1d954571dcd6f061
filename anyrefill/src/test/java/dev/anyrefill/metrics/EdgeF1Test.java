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
}
