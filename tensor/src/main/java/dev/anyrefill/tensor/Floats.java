package dev.anyrefill.tensor;

/**
 * Conversions from the narrow float formats of checkpoints to F32, and back for writing.
 * All are exact: every BF16, F16 and F8 value is representable in F32.
 */
public final class Floats {
    private Floats() {
    }

    /** BF16 is the upper half of an F32: widening is a 16-bit shift. */
    public static float bf16ToF32(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** F32 to BF16 with round-to-nearest-even, as PyTorch rounds; NaN stays NaN. */
    public static short f32ToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    public static float f16ToF32(short bits) {
        return Float.float16ToFloat(bits);
    }

    public static short f32ToF16(float value) {
        return Float.floatToFloat16(value);
    }

    /**
     * F8 E4M3FN ("finite, no infinities"): 1 sign, 4 exponent (bias 7), 3 mantissa bits.
     * Only S.1111.111 is NaN; S.1111.110 is the largest value, 448.
     */
    public static float f8e4m3fnToF32(byte b) {
        int v = b & 0xFF;
        int sign = (v & 0x80) != 0 ? -1 : 1;
        int exponent = (v >>> 3) & 0xF;
        int mantissa = v & 0x7;
        if (exponent == 0xF && mantissa == 0x7) {
            return Float.NaN;
        }
        if (exponent == 0) {
            return sign * mantissa * 0x1p-9f; // subnormal: m/8 * 2^-6
        }
        return sign * (1 + mantissa / 8f) * Math.scalb(1f, exponent - 7);
    }

    /** F8 E5M2: 1 sign, 5 exponent (bias 15), 2 mantissa bits; the upper byte of an F16. */
    public static float f8e5m2ToF32(byte b) {
        return Float.float16ToFloat((short) ((b & 0xFF) << 8));
    }
}
