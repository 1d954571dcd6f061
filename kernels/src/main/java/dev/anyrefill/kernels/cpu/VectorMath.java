package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** The activations a vector at a time, and the row-wise bias + activation epilogue. */
public final class VectorMath {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final float SQRT_2_OVER_PI = 0.7978845608028654f;

    private VectorMath() {
    }

    /** The activation of every lane (same formulas as {@link Activation#apply}). */
    public static FloatVector apply(Activation act, FloatVector x) {
        return switch (act) {
            case NONE -> x;
            case GELU_TANH -> {
                FloatVector inner = x.mul(x).mul(x).mul(0.044715f).add(x).mul(SQRT_2_OVER_PI);
                yield inner.lanewise(VectorOperators.TANH).add(1f).mul(x).mul(0.5f);
            }
            case SILU -> x.div(x.neg().lanewise(VectorOperators.EXP).add(1f));
            case QUICK_GELU -> x.div(x.mul(-1.702f).lanewise(VectorOperators.EXP).add(1f));
        };
    }

    /** {@code c[off + j] = act(c[off + j] + bias[bOff + j])} for j in [0, n); bias may be null. */
    public static void biasActivation(float[] c, int off, int n, float[] bias, int bOff, Activation act) {
        if (bias == null && act == Activation.NONE) {
            return;
        }
        int j = 0;
        int upper = F.loopBound(n);
        for (; j < upper; j += F.length()) {
            FloatVector v = FloatVector.fromArray(F, c, off + j);
            if (bias != null) {
                v = v.add(FloatVector.fromArray(F, bias, bOff + j));
            }
            apply(act, v).intoArray(c, off + j);
        }
        for (; j < n; j++) {
            float v = c[off + j] + (bias == null ? 0f : bias[bOff + j]);
            c[off + j] = act.apply(v);
        }
    }

    /** Sum of a[off .. off + n). */
    public static float sum(float[] a, int off, int n) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        int step = 2 * F.length();
        int upper = n - n % step;
        for (; i < upper; i += step) {
            acc0 = acc0.add(FloatVector.fromArray(F, a, off + i));
            acc1 = acc1.add(FloatVector.fromArray(F, a, off + i + F.length()));
        }
        float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += a[off + i];
        }
        return s;
    }

    /** Sum of (a[off + i] - mean)^2. */
    public static float sumSquaredDeviations(float[] a, int off, int n, float mean) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        int step = 2 * F.length();
        int upper = n - n % step;
        for (; i < upper; i += step) {
            FloatVector d0 = FloatVector.fromArray(F, a, off + i).sub(mean);
            FloatVector d1 = FloatVector.fromArray(F, a, off + i + F.length()).sub(mean);
            acc0 = d0.fma(d0, acc0);
            acc1 = d1.fma(d1, acc1);
        }
        float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float d = a[off + i] - mean;
            s += d * d;
        }
        return s;
    }

    /** Dot product of a[aOff ..] and b[bOff ..] over n elements. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = FloatVector.zero(F);
        int i = 0;
        int step = 2 * F.length();
        int upper = n - n % step;
        for (; i < upper; i += step) {
            acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
            acc1 = FloatVector.fromArray(F, a, aOff + i + F.length())
                    .fma(FloatVector.fromArray(F, b, bOff + i + F.length()), acc1);
        }
        float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }
}
