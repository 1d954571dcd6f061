package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Floats;
import dev.anyrefill.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Straightforward double-precision versions of the kernels, written independently of the
 * fast code (no blocking, no vectors), and the helpers the kernel tests share.
 */
final class Reference {
    private Reference() {
    }

    static float[] random(Random rnd, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * scale);
        }
        return a;
    }

    /** A weight tensor of the given stored type over a heap segment, random values near N(0, 1). */
    static Tensor weights(Random rnd, DType type, int... shape) {
        int n = Math.toIntExact(Tensor.count(shape));
        if (type == DType.F32) {
            float[] v = random(rnd, n, 1f);
            MemorySegment seg = MemorySegment.ofArray(new byte[n * 4]);
            for (int i = 0; i < n; i++) {
                seg.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, i, v[i]);
            }
            return Tensor.view(type, shape, seg);
        }
        byte[] bytes = new byte[n * type.bytes()];
        MemorySegment seg = MemorySegment.ofArray(bytes);
        for (int i = 0; i < n; i++) {
            float v = (float) rnd.nextGaussian();
            switch (type) {
                case BF16 -> seg.setAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, i, Floats.f32ToBf16(v));
                case F16 -> seg.setAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, i, Floats.f32ToF16(v));
                case F8_E4M3FN, F8_E5M2 -> {
                    byte b;
                    do {
                        b = (byte) rnd.nextInt(256);
                    } while (Float.isNaN(type == DType.F8_E4M3FN ? Floats.f8e4m3fnToF32(b) : Floats.f8e5m2ToF32(b))
                            || Float.isInfinite(Floats.f8e5m2ToF32(b)) && type == DType.F8_E5M2
                            || Math.abs(type == DType.F8_E4M3FN ? Floats.f8e4m3fnToF32(b) : Floats.f8e5m2ToF32(b)) > 16);
                    bytes[i] = b;
                }
                default -> throw new IllegalArgumentException(type.toString());
            }
        }
        return Tensor.view(type, shape, seg);
    }

    static double act(Activation a, double x) {
        return switch (a) {
            case NONE -> x;
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case SILU -> x / (1 + Math.exp(-x));
            case QUICK_GELU -> x / (1 + Math.exp(-1.702 * x));
        };
    }

    /** Checks |got - ref| <= tol * bound element-wise; prints and returns the worst ratio. */
    static double assertWithin(String what, float[] got, double[] ref, double[] bound, double tol) {
        assertTrue(got.length == ref.length, what + ": length " + got.length + " vs " + ref.length);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < got.length; i++) {
            double e = Math.abs(got[i] - ref[i]) / bound[i];
            if (!(e <= worst)) {
                worst = e;
                at = i;
            }
        }
        System.out.printf("%-60s error %.2e (tolerance %.0e)%n", what, worst, tol);
        final int where = at;
        final double w = worst;
        assertTrue(w <= tol, () -> what + ": error " + w + " at " + where + ": got " + got[where] + ", ref " + ref[where]);
        return worst;
    }

    /** Bound for values of order one: max(|ref|, 1). */
    static double[] unitBound(double[] ref) {
        double[] b = new double[ref.length];
        for (int i = 0; i < ref.length; i++) {
            b[i] = Math.max(1, Math.abs(ref[i]));
        }
        return b;
    }
}
