package dev.anyrefill.tensor;

/**
 * Element types a tensor can have. Activations are always {@link #F32}; weights keep the type
 * they are stored in (BF16 for the FLUX checkpoints, F16 or F8 for some re-releases) and are
 * widened element by element inside the kernels.
 */
public enum DType {
    F64(8, "F64"),
    F32(4, "F32"),
    F16(2, "F16"),
    BF16(2, "BF16"),
    F8_E4M3FN(1, "F8_E4M3"),
    F8_E5M2(1, "F8_E5M2"),
    I64(8, "I64"),
    I32(4, "I32"),
    I16(2, "I16"),
    I8(1, "I8"),
    U8(1, "U8"),
    BOOL(1, "BOOL");

    private final int bytes;
    private final String safetensorsName;

    DType(int bytes, String safetensorsName) {
        this.bytes = bytes;
        this.safetensorsName = safetensorsName;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    /** The name the safetensors header uses for this type. */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** True for the types whose values are real numbers (everything a linear layer can read). */
    public boolean isFloating() {
        return switch (this) {
            case F64, F32, F16, BF16, F8_E4M3FN, F8_E5M2 -> true;
            default -> false;
        };
    }

    /** The type a safetensors header names, or null when it names none we know. */
    public static DType fromSafetensors(String name) {
        for (DType t : values()) {
            if (t.safetensorsName.equals(name)) {
                return t;
            }
        }
        return "F8_E4M3FN".equals(name) ? F8_E4M3FN : null;
    }
}
