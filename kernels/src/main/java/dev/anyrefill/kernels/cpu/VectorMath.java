package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** The activations a vector at a time, and the row-wise bias + activation epilogue. */
public final class VectorMath {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final float SQRT_2_OVER_PI = 0.7978845608028654f;

    private VectorMath() {
    }

    /**
     * The activation of every lane (the formulas of {@link Activation#apply}). GELU's
     * {@code 0.5 x (1 + tanh(u))} is computed as the equal {@code x / (1 + e^(-2u))}, which
     * needs only {@link #exp} and has no cancellation near zero.
     */
    public static FloatVector apply(Activation act, FloatVector x) {
        return switch (act) {
            case NONE -> x;
            case GELU_TANH -> {
                FloatVector u = x.mul(x).mul(x).mul(0.044715f).add(x).mul(SQRT_2_OVER_PI);
                yield x.div(exp(u.mul(-2f)).add(1f));
            }
            case SILU -> x.div(exp(x.neg()).add(1f));
            case QUICK_GELU -> x.div(exp(x.mul(-1.702f)).add(1f));
        };
    }

    /** The scalar twin of {@link #apply(Activation, FloatVector)}, for the tails of vector loops. */
    public static float apply(Activation act, float x) {
        return switch (act) {
            case NONE -> x;
            case GELU_TANH -> x / (exp(-2f * ((x * x * x * 0.044715f + x) * SQRT_2_OVER_PI)) + 1f);
            case SILU -> x / (exp(-x) + 1f);
            case QUICK_GELU -> x / (exp(x * -1.702f) + 1f);
        };
    }

    /**
     * The derivative of the activation at every lane. GELU (tanh): with u = c (x + a x^3) and
     * t = tanh(u) = 1 - 2 / (1 + e^(2u)), it is 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2);
     * SiLU: s (1 + x (1 - s)) with s = sigmoid(x); quick GELU the same at 1.702 x.
     */
    public static FloatVector derivative(Activation act, FloatVector x) {
        return switch (act) {
            case NONE -> FloatVector.broadcast(F, 1f);
            case GELU_TANH -> {
                FloatVector x2 = x.mul(x);
                FloatVector u = x2.mul(0.044715f).add(1f).mul(x).mul(SQRT_2_OVER_PI);
                FloatVector t = FloatVector.broadcast(F, 1f).sub(FloatVector.broadcast(F, 2f)
                        .div(exp(u.mul(2f)).add(1f)));
                FloatVector du = x2.mul(3 * 0.044715f).add(1f).mul(SQRT_2_OVER_PI);
                FloatVector oneMinusT2 = FloatVector.broadcast(F, 1f).sub(t.mul(t));
                yield t.add(1f).mul(0.5f).add(x.mul(0.5f).mul(oneMinusT2).mul(du));
            }
            case SILU -> sigmoidDerivative(x, FloatVector.broadcast(F, 1f).div(exp(x.neg()).add(1f)), 1f);
            case QUICK_GELU -> sigmoidDerivative(x, FloatVector.broadcast(F, 1f).div(exp(x.mul(-1.702f)).add(1f)),
                    1.702f);
        };
    }

    /** d/dx of x * s(k x) with s the sigmoid: s + k x s (1 - s). */
    private static FloatVector sigmoidDerivative(FloatVector x, FloatVector s, float k) {
        return s.add(x.mul(k).mul(s).mul(FloatVector.broadcast(F, 1f).sub(s)));
    }

    /** The scalar twin of {@link #derivative(Activation, FloatVector)}. */
    public static float derivative(Activation act, float x) {
        return switch (act) {
            case NONE -> 1f;
            case GELU_TANH -> {
                float u = SQRT_2_OVER_PI * (x + 0.044715f * x * x * x);
                float t = 1f - 2f / (exp(2f * u) + 1f);
                float du = SQRT_2_OVER_PI * (1f + 3 * 0.044715f * x * x);
                yield 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * du;
            }
            case SILU -> {
                float s = 1f / (exp(-x) + 1f);
                yield s + x * s * (1f - s);
            }
            case QUICK_GELU -> {
                float s = 1f / (exp(-1.702f * x) + 1f);
                yield s + 1.702f * x * s * (1f - s);
            }
        };
    }

    // e^x by Cody and Waite's reduction x = n ln2 + r, |r| <= ln2 / 2, and a polynomial for e^r
    // with minimax coefficients (as in Cephes' expf); the exponent n goes into the float's bits.
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;   // few bits: n * LN2_HI is exact
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f;       // 1.5 * 2^23: adding it rounds to an integer
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;
    /** Arguments are clamped here, so 2^n stays a normal float (e^-87 is 1.6e-38: zero for softmax). */
    private static final float MIN_ARG = -87f;
    private static final float MAX_ARG = 88f;

    /**
     * e^x of every lane, within 2 ulp for x in [-87, 88] (clamped outside). Written out rather
     * than {@code lanewise(EXP)}: that one runs a different implementation before and after the
     * JIT compiles it, so the same input could give different bits from one step to the next,
     * and runs with the same seed must give the same image.
     */
    public static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(MIN_ARG).min(MAX_ARG);
        FloatVector n = c.fma(LOG2E, ROUND).sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), c);
        r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, FloatVector.broadcast(F, P2));
        p = p.fma(r, FloatVector.broadcast(F, P3));
        p = p.fma(r, FloatVector.broadcast(F, P4));
        p = p.fma(r, FloatVector.broadcast(F, P5));
        FloatVector er = p.mul(r).fma(r, r).add(1f);                      // 1 + r + r^2 P(r)
        IntVector exponent = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return er.mul(exponent.reinterpretAsFloats());
    }

    /** The scalar twin of {@link #exp(FloatVector)}: the same operations, the same bits. */
    public static float exp(float x) {
        float c = Math.min(Math.max(x, MIN_ARG), MAX_ARG);
        float n = Math.fma(c, LOG2E, ROUND) - ROUND;
        float r = Math.fma(n, -LN2_HI, c);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, P0, P1), r, P2), r, P3), r, P4), r, P5);
        float er = Math.fma(p * r, r, r) + 1f;
        return er * Float.intBitsToFloat(((int) n + 127) << 23);
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
            c[off + j] = apply(act, v);
        }
    }

    /** For each distance d = lanes/2, lanes/4, ..., 1: the shuffle that rotates a vector by d lanes. */
    private static final VectorShuffle<Float>[] ROTATIONS = rotations();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] rotations() {
        int steps = Integer.numberOfTrailingZeros(F.length());
        VectorShuffle<Float>[] r = new VectorShuffle[steps];
        for (int i = 0, d = F.length() / 2; d >= 1; i++, d /= 2) {
            r[i] = VectorShuffle.iota(F, d, 1, true);
        }
        return r;
    }

    /**
     * The sum of the lanes, always added in the same tree order. {@code reduceLanes(ADD)} leaves
     * the order unspecified, and it does differ between the interpreter and compiled code, so
     * the same input could give different bits from one run to the next.
     */
    public static float sumLanes(FloatVector v) {
        for (VectorShuffle<Float> rotation : ROTATIONS) {
            v = v.add(v.rearrange(rotation));
        }
        return v.lane(0);
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
        float s = sumLanes(acc0.add(acc1));
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
        float s = sumLanes(acc0.add(acc1));
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
        float s = sumLanes(acc0.add(acc1));
        for (; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    /** {@code y[yOff + i] += a * x[i]} for i in [0, n). */
    public static void axpy(float[] y, int yOff, float a, float[] x, int n) {
        int i = 0;
        int upper = F.loopBound(n);
        for (; i < upper; i += F.length()) {
            FloatVector.fromArray(F, x, i).fma(FloatVector.broadcast(F, a), FloatVector.fromArray(F, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += a * x[i];
        }
    }
}
