package dev.anyrefill.train;

import dev.anyrefill.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * AdamW against the formula written out independently in float64 (decoupled decay, bias
 * correction at step k), over three steps with changing gradients and a gradient scale (what
 * clipping passes); and settings that are not numbers are refused. Tolerance 1e-6 relative:
 * the moments are kept in float32.
 */
class AdamWTest {
    @Test
    void threeStepsFollowTheFormula() {
        double lr = 0.01;
        double b1 = 0.8;
        double b2 = 0.99;
        double eps = 1e-6;
        double wd = 0.1;
        AdamW adam = new AdamW(new AdamW.Settings(lr, b1, b2, eps, wd));
        Tensor p = Tensor.wrap(new float[]{1.0f, -2.0f, 0.5f}, 3);
        double[] ref = {1.0, -2.0, 0.5};
        double[] m = new double[3];
        double[] v = new double[3];
        double[][] grads = {{0.3, -1.0, 2.0}, {-0.1, 0.4, 1.0}, {0.2, 0.2, -3.0}};
        double scale = 0.5;
        for (int k = 1; k <= 3; k++) {
            float[] g = new float[3];
            for (int i = 0; i < 3; i++) {
                g[i] = (float) grads[k - 1][i];
                double gi = g[i] * scale;
                ref[i] -= lr * wd * ref[i];
                m[i] = b1 * m[i] + (1 - b1) * gi;
                v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                double mHat = m[i] / (1 - Math.pow(b1, k));
                double vHat = v[i] / (1 - Math.pow(b2, k));
                ref[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
            }
            adam.step(Map.of("p", p), Map.of("p", Tensor.wrap(g, 3)), scale);
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(ref[i], p.data()[i], 1e-6 * Math.abs(ref[i]), "element " + i);
        }
        assertEquals(3, adam.steps());
    }

    @Test
    void refusesSettingsThatAreNotNumbers() {
        assertThrows(IllegalArgumentException.class, () -> new AdamW.Settings(0, 0.9, 0.999, 1e-8, 0));
        assertThrows(IllegalArgumentException.class, () -> new AdamW.Settings(Double.POSITIVE_INFINITY, 0.9, 0.999, 1e-8, 0));
        assertThrows(IllegalArgumentException.class, () -> new AdamW.Settings(1e-4, 1.0, 0.999, 1e-8, 0));
        assertThrows(IllegalArgumentException.class, () -> new AdamW.Settings(1e-4, 0.9, Double.NaN, 1e-8, 0));
        assertThrows(IllegalArgumentException.class, () -> new AdamW.Settings(1e-4, 0.9, 0.999, 1e-8, -1));
    }
}
