package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Activation;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The written-out exp against StrictMath's correctly computed one, and lanes against their scalar twin. */
class VectorMathTest {
    private static final int LANES = VectorMath.F.length();

    @Test
    void expIsWithinTwoUlpOverItsRange() {
        double worst = 0;
        float[] xs = new float[LANES];
        float[] got = new float[LANES];
        for (int i = 0; i + LANES - 1 <= 1_750_000; i += LANES) { // x up to 88, the clamp
            for (int l = 0; l < LANES; l++) {
                xs[l] = -87f + (i + l) * 1e-4f;
            }
            VectorMath.exp(FloatVector.fromArray(VectorMath.F, xs, 0)).intoArray(got, 0);
            for (int l = 0; l < LANES; l++) {
                double exact = StrictMath.exp(xs[l]);
                double ulps = Math.abs(got[l] - exact) / Math.ulp((float) exact);
                worst = Math.max(worst, ulps);
                assertEquals(Float.floatToRawIntBits(got[l]), Float.floatToRawIntBits(VectorMath.exp(xs[l])),
                        "lane and scalar twin differ at " + xs[l]);
            }
        }
        System.out.printf("exp over [-87, 88]: worst error %.2f ulp (tolerance 2)%n", worst);
        assertTrue(worst <= 2, "worst " + worst + " ulp");
        assertEquals(0f, VectorMath.exp(-1000f), 1e-37f);
        assertEquals((float) StrictMath.exp(88), VectorMath.exp(1000f), Math.ulp((float) StrictMath.exp(88)) * 2);
    }

    @Test
    void activationsAgreeWithTheirDefinitionsAndTheirScalarTwins() {
        float[] xs = new float[LANES];
        float[] got = new float[LANES];
        for (Activation act : Activation.values()) {
            double worst = 0;
            for (int i = -4000; i < 4000; i += LANES) {
                for (int l = 0; l < LANES; l++) {
                    xs[l] = (i + l) * 0.0031f;
                }
                VectorMath.apply(act, FloatVector.fromArray(VectorMath.F, xs, 0)).intoArray(got, 0);
                for (int l = 0; l < LANES; l++) {
                    double x = xs[l];
                    double exact = switch (act) {
                        case NONE -> x;
                        case GELU_TANH -> 0.5 * x * (1 + StrictMath.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
                        case SILU -> x / (1 + StrictMath.exp(-x));
                        case QUICK_GELU -> x / (1 + StrictMath.exp(-1.702 * x));
                    };
                    worst = Math.max(worst, Math.abs(got[l] - exact) / Math.max(1, Math.abs(exact)));
                    assertEquals(Float.floatToRawIntBits(got[l]), Float.floatToRawIntBits(VectorMath.apply(act, xs[l])));
                }
            }
            System.out.printf("%s on [-12.4, 12.4]: worst error %.2e (tolerance 1e-6, relative beyond |y| = 1)%n", act, worst);
            assertTrue(worst < 1e-6, act + ": " + worst);
        }
    }
}
