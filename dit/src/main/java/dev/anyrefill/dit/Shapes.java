package dev.anyrefill.dit;

import dev.anyrefill.tensor.Tensor;

import java.util.Arrays;

/** Input shape checks whose errors name the tensor and both shapes. */
public final class Shapes {
    /** A dimension that may have any size. */
    public static final int ANY = -1;

    private Shapes() {
    }

    /** An IllegalArgumentException unless t has the expected shape (ANY matches any size). */
    public static Tensor require(String name, Tensor t, int... expected) {
        if (t == null) {
            throw new IllegalArgumentException("missing tensor '" + name + "'");
        }
        int[] s = t.shape();
        boolean ok = s.length == expected.length;
        for (int i = 0; ok && i < s.length; i++) {
            ok = expected[i] == ANY || expected[i] == s[i];
        }
        if (!ok) {
            throw new IllegalArgumentException("tensor '" + name + "' has shape " + Arrays.toString(s)
                    + ", the model needs " + describe(expected));
        }
        return t;
    }

    private static String describe(int[] shape) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            b.append(i > 0 ? ", " : "").append(shape[i] == ANY ? "N" : String.valueOf(shape[i]));
        }
        return b.append(']').toString();
    }
}
