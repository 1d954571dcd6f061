package dev.anyrefill.kernels.cpu;

import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Floats;
import dev.anyrefill.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Widens a run of weight elements, in whatever type the checkpoint stores, into a float[]:
 * the one place the kernels read weights. BF16 is widened a vector at a time (a 16-bit
 * shift); F16 uses the JDK's conversion; F8 a 256-entry table.
 */
public final class Widen {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Shorts at half the float vector's width: one lane per float lane. */
    static final VectorSpecies<Short> S_HALF =
            ShortVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final float[] E4M3 = table(DType.F8_E4M3FN);
    private static final float[] E5M2 = table(DType.F8_E5M2);

    private Widen() {
    }

    private static float[] table(DType type) {
        float[] t = new float[256];
        for (int i = 0; i < 256; i++) {
            t[i] = type == DType.F8_E4M3FN ? Floats.f8e4m3fnToF32((byte) i) : Floats.f8e5m2ToF32((byte) i);
        }
        return t;
    }

    /** True for the weight types {@link #run} reads. */
    public static boolean supports(DType type) {
        return switch (type) {
            case F32, BF16, F16, F8_E4M3FN, F8_E5M2 -> true;
            default -> false;
        };
    }

    /** Widens {@code count} elements of {@code t} from flat index {@code from} into dst. */
    public static void run(Tensor t, long from, float[] dst, int dstOffset, int count) {
        if (t.isHeapF32()) {
            System.arraycopy(t.data(), Math.toIntExact(from), dst, dstOffset, count);
            return;
        }
        MemorySegment seg = t.segment();
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(seg, FLOAT_LE, from * 4, dst, dstOffset, count);
            case BF16 -> bf16(seg, from * 2, dst, dstOffset, count);
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = Float.float16ToFloat(seg.getAtIndex(SHORT_LE, from + i));
                }
            }
            case F8_E4M3FN -> lookup(seg, from, E4M3, dst, dstOffset, count);
            case F8_E5M2 -> lookup(seg, from, E5M2, dst, dstOffset, count);
            default -> t.toFloats(from, dst, dstOffset, count);
        }
    }

    private static void bf16(MemorySegment seg, long byteOffset, float[] dst, int dstOffset, int count) {
        int i = 0;
        int upper = F.loopBound(count);
        for (; i < upper; i += F.length()) {
            ShortVector s = ShortVector.fromMemorySegment(S_HALF, seg, byteOffset + 2L * i, ByteOrder.LITTLE_ENDIAN);
            IntVector bits = (IntVector) s.convertShape(VectorOperators.S2I, I, 0);
            bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, dstOffset + i);
        }
        for (; i < count; i++) {
            dst[dstOffset + i] = Floats.bf16ToF32(seg.get(SHORT_LE, byteOffset + 2L * i));
        }
    }

    private static void lookup(MemorySegment seg, long from, float[] table, float[] dst, int dstOffset, int count) {
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = table[seg.get(ValueLayout.JAVA_BYTE, from + i) & 0xFF];
        }
    }
}
