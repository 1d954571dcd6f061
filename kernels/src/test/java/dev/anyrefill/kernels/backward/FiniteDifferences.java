package dev.anyrefill.kernels.backward;

import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.tensor.Floats;
import dev.anyrefill.tensor.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks an analytic gradient against central finite differences of the forward kernel it
 * belongs to. The scalar is {@code L = sum(r * f(x))} for a fixed random r (so the output
 * gradient is r), accumulated in float64 from the float32 outputs. Two checks per input:
 * the directional derivative along three random directions (all coordinates at once, the
 * sharper test) and the partial derivatives of a sample of single coordinates.
 */
final class FiniteDifferences {
    private FiniteDifferences() {
    }

    static Tensor randn(Random rnd, float scale, int... shape) {
        float[] a = new float[Math.toIntExact(Tensor.count(shape))];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (rnd.nextGaussian() * scale);
        }
        return Tensor.wrap(a, shape);
    }

    static double dot(Tensor a, Tensor b) {
        float[] x = a.data();
        float[] y = b.data();
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += (double) x[i] * y[i];
        }
        return s;
    }

    /**
     * Compares {@code grad} (d L / d input) with finite differences of {@code L(input)} at step h.
     *
     * @param tolerance bound of |analytic - numeric| / rms(numeric partials) for coordinates, and
     *                  of |analytic - numeric| / |numeric| for directions
     */
    static void check(String what, Tensor input, Tensor grad, Function<Tensor, Double> loss, double h,
                      double tolerance, Random rnd) {
        float[] x = input.data();
        float[] g = grad.data();
        assertTrue(g.length == x.length, what + ": gradient of " + g.length + " for an input of " + x.length);
        double worstDirection = 0;
        for (int trial = 0; trial < 3; trial++) {
            Tensor u = randn(rnd, 1f, input.shape());
            double analytic = dot(grad, u);
            double numeric = (loss.apply(shifted(input, u, h)) - loss.apply(shifted(input, u, -h))) / (2 * h);
            double err = Math.abs(analytic - numeric) / Math.max(1e-12, Math.abs(numeric));
            worstDirection = Math.max(worstDirection, err);
        }
        int samples = Math.min(24, x.length);
        double[] numeric = new double[samples];
        double[] analytic = new double[samples];
        double sumSq = 0;
        for (int s = 0; s < samples; s++) {
            int i = samples == x.length ? s : rnd.nextInt(x.length);
            float keep = x[i];
            x[i] = keep + (float) h;
            double up = loss.apply(input);
            x[i] = keep - (float) h;
            double down = loss.apply(input);
            x[i] = keep;
            numeric[s] = (up - down) / ((double) (keep + (float) h) - (keep - (float) h));
            analytic[s] = g[i];
            sumSq += numeric[s] * numeric[s];
        }
        double rms = Math.sqrt(sumSq / samples);
        double worstCoordinate = 0;
        for (int s = 0; s < samples; s++) {
            worstCoordinate = Math.max(worstCoordinate, Math.abs(analytic[s] - numeric[s]) / Math.max(1e-12, rms));
        }
        System.out.printf("finite differences %-44s directions %.2e, coordinates %.2e (tolerance %.0e)%n",
                what, worstDirection, worstCoordinate, tolerance);
        assertTrue(worstDirection < tolerance, what + ": directional derivative off by " + worstDirection);
        assertTrue(worstCoordinate < tolerance, what + ": partial derivatives off by " + worstCoordinate);
    }

    private static Tensor shifted(Tensor x, Tensor u, double h) {
        float[] a = x.data().clone();
        float[] d = u.data();
        for (int i = 0; i < a.length; i++) {
            a[i] += (float) (h * d[i]);
        }
        return Tensor.wrap(a, x.shape());
    }

    /** x rounded to BF16, as a BF16 view (a weight in its stored type). */
    static Tensor bf16(Tensor x) {
        float[] v = x.data();
        MemorySegment seg = MemorySegment.ofArray(new byte[v.length * 2]);
        for (int i = 0; i < v.length; i++) {
            seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Floats.f32ToBf16(v[i]));
        }
        return Tensor.view(DType.BF16, x.shape(), seg);
    }
}
