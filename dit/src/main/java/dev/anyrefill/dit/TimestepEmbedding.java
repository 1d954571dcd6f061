package dev.anyrefill.dit;

import dev.anyrefill.tensor.Tensor;

/**
 * BFL's {@code timestep_embedding}: sinusoidal features of a time value, cosines first, then
 * sines. The value is multiplied by 1000 first (FLUX's times and guidance live in [0, 1] and
 * [1, 100]; the frequencies were made for steps 0..1000).
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
        // The reference computes frequencies and arguments in float32 even when the model runs in
        // float64 (t.float() * freqs); at guidance 30 the argument reaches 30000 rad, where that
        // rounding moves the result by 1e-3, so we round exactly where it does.
        float scaled = (float) (TIME_FACTOR * t);
        float logPeriod = (float) -Math.log(MAX_PERIOD);
        for (int i = 0; i < half; i++) {
            float freq = (float) Math.exp(logPeriod * i / half);
            float arg = scaled * freq;
            out[i] = (float) Math.cos(arg);
            out[half + i] = (float) Math.sin(arg);
        }
        return Tensor.wrap(out, dim);
    }
}
