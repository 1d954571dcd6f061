package dev.anyrefill.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TensorTest {

    @Test
    void reshapeInfersOneDimensionAndSharesData() {
        Tensor t = Tensor.wrap(new float[]{1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor r = t.reshape(3, -1);
        assertArrayEquals(new int[]{3, 2}, r.shape());
        t.set(42f, 1, 2);
        assertEquals(42f, r.get(2, 1));
        assertThrows(IllegalArgumentException.class, () -> t.reshape(4, 2));
    }

    @Test
    void rowsAndColumnsOfAnActivation() {
        Tensor t = Tensor.zeros(2, 5, 7);
        assertEquals(7, t.cols());
        assertEquals(10, t.rows());
        assertEquals(5, t.dim(-2));
    }

    @Test
    void sliceRowsCopiesTheRange() {
        Tensor t = Tensor.wrap(new float[]{1, 2, 3, 4, 5, 6}, 3, 2);
        Tensor s = t.sliceRows(1, 3);
        assertArrayEquals(new float[]{3, 4, 5, 6}, s.data());
        assertThrows(IndexOutOfBoundsException.class, () -> t.sliceRows(2, 4));
    }

    @Test
    void indexOutsideTheShapeIsRefused() {
        Tensor t = Tensor.zeros(2, 2);
        assertThrows(IndexOutOfBoundsException.class, () -> t.get(2, 0));
        assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(new float[3], 2, 2));
    }

    @Test
    void compareMeasuresRelativeToTheReferenceRms() {
        Tensor ref = Tensor.wrap(new float[]{3, -4}, 2); // rms = sqrt(12.5)
        Tensor got = Tensor.wrap(new float[]{3, -3}, 2);
        assertEquals(1 / Math.sqrt(12.5), Compare.relativeError(got, ref), 1e-7);
        assertEquals(1.0, Compare.maxAbsDiff(got, ref), 0);
    }
}
