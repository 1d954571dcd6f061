package dev.anyrefill.kernels;

import dev.anyrefill.tensor.Compare;
import dev.anyrefill.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The fused group norm + activation equals the two operations one after the other. */
class GroupNormActivationTest {
    @Test
    void fusedEqualsNormThenActivation() {
        Random random = new Random(3);
        float[] x = new float[64 * 5 * 7];
        float[] w = new float[64];
        float[] b = new float[64];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian() * 3 + 1;
        }
        for (int i = 0; i < 64; i++) {
            w[i] = (float) random.nextGaussian();
            b[i] = (float) random.nextGaussian();
        }
        Tensor input = Tensor.wrap(x, 64, 5, 7);
        JavaKernels k = new JavaKernels();
        Tensor fused = k.groupNorm(input, 32, Tensor.wrap(w, 64), Tensor.wrap(b, 64), 1e-6f, Activation.SILU);
        Tensor separate = k.activation(k.groupNorm(input, 32, Tensor.wrap(w, 64), Tensor.wrap(b, 64), 1e-6f), Activation.SILU);
        double err = Compare.maxAbsDiff(fused, separate);
        System.out.printf("groupNorm + SILU fused vs separate: max |diff| = %.1e (tolerance 0, same arithmetic)%n", err);
        assertEquals(0.0, err);
    }
}
