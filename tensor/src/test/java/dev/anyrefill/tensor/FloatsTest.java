package dev.anyrefill.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Conversions of the narrow float formats, against bit patterns known from their specifications. */
class FloatsTest {

    @Test
    void bf16KnownPatterns() {
        assertEquals(1.0f, Floats.bf16ToF32((short) 0x3F80));
        assertEquals(-2.0f, Floats.bf16ToF32((short) 0xC000));
        assertEquals(3.140625f, Floats.bf16ToF32((short) 0x4049)); // pi in bf16
        assertEquals(Float.POSITIVE_INFINITY, Floats.bf16ToF32((short) 0x7F80));
        assertTrue(Float.isNaN(Floats.bf16ToF32((short) 0x7FC0)));
        assertEquals(0x1p-133f, Floats.bf16ToF32((short) 0x0001)); // smallest subnormal
    }

    @Test
    void bf16RoundTripsEveryPattern() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = Floats.bf16ToF32((short) bits);
            if (!Float.isNaN(f)) {
                assertEquals((short) bits, Floats.f32ToBf16(f), "pattern " + Integer.toHexString(bits));
            }
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        // 1 + 2^-8 lies exactly between bf16 1.0 (0x3F80) and 1.0078125 (0x3F81): ties go to even.
        assertEquals((short) 0x3F80, Floats.f32ToBf16(1f + 0x1p-8f));
        // 1 + 3 * 2^-8 lies between 0x3F81 and 0x3F82: ties go to even, 0x3F82.
        assertEquals((short) 0x3F82, Floats.f32ToBf16(1f + 3 * 0x1p-8f));
        assertEquals((short) 0x3F81, Floats.f32ToBf16(1f + 0x1p-8f + 0x1p-20f));
    }

    @Test
    void f16AgreesWithTheJdk() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float ours = Floats.f16ToF32((short) bits);
            float jdk = Float.float16ToFloat((short) bits);
            assertEquals(Float.floatToRawIntBits(jdk), Float.floatToRawIntBits(ours));
        }
        assertEquals(65504f, Floats.f16ToF32((short) 0x7BFF));
    }

    @Test
    void f8e4m3fnKnownPatterns() {
        assertEquals(1.0f, Floats.f8e4m3fnToF32((byte) 0x38)); // 0.0111.000: exponent 7 = bias
        assertEquals(448f, Floats.f8e4m3fnToF32((byte) 0x7E)); // the largest finite value
        assertEquals(-448f, Floats.f8e4m3fnToF32((byte) 0xFE));
        assertEquals(0x1p-9f, Floats.f8e4m3fnToF32((byte) 0x01)); // smallest subnormal
        assertEquals(0.875f * 0x1p-6f, Floats.f8e4m3fnToF32((byte) 0x07)); // largest subnormal
        assertEquals(0x1p-6f, Floats.f8e4m3fnToF32((byte) 0x08)); // smallest normal
        assertTrue(Float.isNaN(Floats.f8e4m3fnToF32((byte) 0x7F)));
        assertEquals(1.5f, Floats.f8e4m3fnToF32((byte) 0x3C));
    }

    @Test
    void f8e4m3fnIsMonotonicOverPositiveFinitePatterns() {
        float previous = -1;
        for (int bits = 0; bits < 0x7F; bits++) {
            float f = Floats.f8e4m3fnToF32((byte) bits);
            assertTrue(f > previous, "pattern " + bits);
            previous = f;
        }
    }

    @Test
    void f8e5m2IsTheUpperByteOfAnF16() {
        assertEquals(1.0f, Floats.f8e5m2ToF32((byte) 0x3C));
        assertEquals(57344f, Floats.f8e5m2ToF32((byte) 0x7B));
        assertEquals(Float.POSITIVE_INFINITY, Floats.f8e5m2ToF32((byte) 0x7C));
    }

    @Test
    void tensorReadsEachStoredTypeThroughTheSameAccessor() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(8);
            ValueLayout.OfShort le = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            seg.setAtIndex(le, 0, (short) 0x3F80); // 1.0
            seg.setAtIndex(le, 1, (short) 0xC040); // -3.0
            seg.setAtIndex(le, 2, (short) 0x0000);
            seg.setAtIndex(le, 3, (short) 0x4120); // 10.0
            Tensor bf16 = Tensor.view(DType.BF16, new int[]{2, 2}, seg);
            assertEquals(-3.0f, bf16.get(0, 1));
            assertEquals(10.0f, bf16.get(1, 1));
            float[] row = new float[2];
            bf16.toFloats(2, row, 0, 2);
            assertEquals(0f, row[0]);
            assertEquals(10f, row[1]);
            Tensor f16 = Tensor.view(DType.F16, new int[]{4}, seg);
            assertEquals(Float.float16ToFloat((short) 0x3F80), f16.getFloat(0));
        }
    }
}
