package dev.anyrefill.dit;

import dev.anyrefill.tensor.Tensor;

/**
 * BFL's {@code timestep_embedding}: sinusoidal features of a time value, cosines first, then
 * sines. The value is multiplied by 1000 first (FLUX's times and guidance live in [0, 1] and
 * [1, 100]; the frequencies were made for steps 0..1000).
 *
 * <p>The reference computes the frequencies and arguments in float32 even when the model runs
 * in float64 ({@code t.float() * freqs}). At guidance 30 the arguments reach 30000 rad, where
 * one float32 ulp is 2e-3 rad, so the result depends on the last bit of each frequency. We
 * therefore round exactly where the reference does, and compute the frequencies' exponential
 * as PyTorch's vectorised CPU kernel does (see {@link #expf}), not correctly rounded.
 */
public final class TimestepEmbedding {
    public static final double TIME_FACTOR = 1000.0;
    public static final double MAX_PERIOD = 10000.0;

    private TimestepEmbedding() {
    }

    /** [dim]: cos(t * 1000 * f_i) for i < dim/2, then sin, with f_i = MAX_PERIOD^(-i / (dim/2)). */
    public static Tensor of(double t, int dim) {
        int half = dim / 2;
        float[] out = new float[dim]; // an odd dim keeps a zero last entry, as the reference pads
        float scaled = (float) (TIME_FACTOR * t);
        float[] freqs = frequencies(half);
        for (int i = 0; i < half; i++) {
            float arg = scaled * freqs[i];
            out[i] = (float) Math.cos(arg);
            out[half + i] = (float) Math.sin(arg);
        }
        return Tensor.wrap(out, dim);
    }

    /** exp(-ln(MAX_PERIOD) * i / half) for i < half, in float32 as the reference computes them. */
    static float[] frequencies(int half) {
        float logPeriod = (float) -Math.log(MAX_PERIOD);
        float[] f = new float[half];
        for (int i = 0; i < half; i++) {
            f[i] = expf(logPeriod * i / half);
        }
        return f;
    }

    /**
     * e^d in float32 by the method of PyTorch's vectorised CPU exp (SLEEF's 1-ulp expf): split
     * d = q ln2 + s with ln2 in two parts, a degree-7 polynomial for e^s (Horner with fused
     * multiply-adds), scaled by 2^q. Within 1 ulp of e^d, and bit-equal to the reference's value.
     */
    static float expf(float d) {
        if (d < -104f) {
            return 0f;
        }
        if (d > 88.72283935546875f) {
            return Float.POSITIVE_INFINITY;
        }
        int q = (int) Math.rint(d * 1.442695040888963407359924681001892137f);
        float s = Math.fma((float) q, -0.693145751953125f, d);
        s = Math.fma((float) q, -1.428606765330187045e-06f, s);
        float u = 0.000198527617612853646278381f;
        u = Math.fma(u, s, 0.00139304355252534151077271f);
        u = Math.fma(u, s, 0.00833336077630519866943359f);
        u = Math.fma(u, s, 0.0416664853692054748535156f);
        u = Math.fma(u, s, 0.166666671633720397949219f);
        u = Math.fma(u, s, 0.5f);
        u = 1.0f + Math.fma(s * s, u, s);
        return Math.scalb(u, q);
    }
}
