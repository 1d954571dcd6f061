package dev.anyrefill.tensor;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A deferred tensor knows its shape without its values, and fetches them once, for it and its reshapes. */
class DeferredTensorTest {
    /** Values 0, 1, 2... brought to the host on the first call, counting the calls that fetch. */
    static final class Counting implements Tensor.Deferred {
        final AtomicInteger fetches = new AtomicInteger();
        final int n;
        float[] host;

        Counting(int n) {
            this.n = n;
        }

        @Override
        public float[] toHost() {
            if (host == null) {
                fetches.incrementAndGet();
                host = new float[n];
                for (int i = 0; i < n; i++) {
                    host[i] = i;
                }
            }
            return host;
        }
    }

    @Test
    void shapeWithoutValuesThenValuesOnce() {
        Counting values = new Counting(24);
        Tensor t = Tensor.deferred(values, 2, 3, 4);
        assertEquals(24, t.size());
        assertEquals(6, t.rows());
        assertEquals(4, t.cols());
        assertTrue(t.isHeapF32(), "a deferred tensor is an F32 activation");
        assertSame(values, t.deferredValues());
        assertEquals(0, values.fetches.get(), "nothing fetched for the shape");
        Tensor r = t.reshape(6, 4);
        assertSame(values, r.deferredValues(), "a reshape shares the deferred values");
        assertEquals(17f, r.get(4, 1));
        assertEquals(17f, t.get(1, 1, 1));
        assertSame(t.data(), r.data());
        float[] row = new float[4];
        t.toFloats(8, row, 0, 4);
        assertArrayEquals(new float[] {8, 9, 10, 11}, row);
        assertEquals(4 * 24, t.segment().byteSize());
        assertEquals(1, values.fetches.get(), "fetched once for all reads of both");
        assertTrue(t.toString().contains("deferred"), t.toString());
    }

    @Test
    void valuesOfTheWrongSizeAreAnError() {
        Tensor t = Tensor.deferred(() -> new float[5], 2, 3);
        IllegalStateException e = assertThrows(IllegalStateException.class, t::data);
        assertTrue(e.getMessage().contains("5 values"), e.getMessage());
    }
}
