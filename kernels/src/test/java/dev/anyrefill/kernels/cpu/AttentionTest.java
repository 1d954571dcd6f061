package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

/**
 * Flash attention against the textbook formula in double precision (full score matrix,
 * softmax, weighted sum), with sizes that cut query blocks and key tiles unevenly, head dims
 * of 8 to 128, bias per head or shared, -infinity padding masks, and causal masking.
 * Error measure: |got - ref| / max(1, |ref|); tolerance 1e-5.
 */
class AttentionTest {
    static final double TOL = 1e-5;
    final JavaKernels kernels = new JavaKernels();

    static double[] reference(float[] q, float[] k, float[] v, int lq, int lk, int heads, int d,
                              float scale, float[] bias, int biasHeads, boolean causal) {
        int hd = heads * d;
        double[] out = new double[lq * hd];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < lq; i++) {
                double[] s = new double[lk];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < lk; j++) {
                    double dot = 0;
                    for (int c = 0; c < d; c++) {
                        dot += (double) q[i * hd + h * d + c] * k[j * hd + h * d + c];
                    }
                    s[j] = scale * dot;
                    if (bias != null) {
                        s[j] += bias[((biasHeads == 1 ? 0 : h) * lq + i) * lk + j];
                    }
                    if (causal && j > i) {
                        s[j] = Double.NEGATIVE_INFINITY;
                    }
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < lk; j++) {
                    s[j] = max == Double.NEGATIVE_INFINITY ? 0 : Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int c = 0; c < d; c++) {
                    double acc = 0;
                    for (int j = 0; j < lk; j++) {
                        acc += s[j] * v[j * hd + h * d + c];
                    }
                    out[i * hd + h * d + c] = sum == 0 ? 0 : acc / sum;
                }
            }
        }
        return out;
    }

    void check(Random rnd, int lq, int lk, int heads, int d, int biasHeads, boolean masks, boolean causal) {
        float[] q = Reference.random(rnd, lq * heads * d, 1f);
        float[] k = Reference.random(rnd, lk * heads * d, 1f);
        float[] v = Reference.random(rnd, lk * heads * d, 1f);
        float scale = (float) (1 / Math.sqrt(d));
        float[] bias = null;
        if (biasHeads > 0) {
            bias = Reference.random(rnd, biasHeads * lq * lk, 2f);
            if (masks) {
                // Padding: the last third of the keys masked for every query.
                for (int i = 0; i < bias.length; i++) {
                    if (i % lk >= lk - lk / 3) {
                        bias[i] = Float.NEGATIVE_INFINITY;
                    }
                }
            }
        }
        Tensor out = kernels.attention(Tensor.wrap(q, lq, heads, d), Tensor.wrap(k, lk, heads, d),
                Tensor.wrap(v, lk, heads, d), scale,
                bias == null ? null : Tensor.wrap(bias, biasHeads, lq, lk), causal);
        double[] ref = reference(q, k, v, lq, lk, heads, d, scale, bias, biasHeads, causal);
        String what = String.format("attention lq=%d lk=%d heads=%d d=%d biasHeads=%d masks=%s causal=%s",
                lq, lk, heads, d, biasHeads, masks, causal);
        Reference.assertWithin(what, out.data(), ref, Reference.unitBound(ref), TOL);
    }

    @Test
    void plain() {
        Random rnd = new Random(3);
        check(rnd, 1, 1, 1, 8, 0, false, false);
        check(rnd, 5, 7, 2, 16, 0, false, false);
        check(rnd, 50, 70, 3, 64, 0, false, false);
        check(rnd, 130, 197, 2, 128, 0, false, false);
        check(rnd, 49, 65, 1, 24, 0, false, false);
    }

    @Test
    void biasAndMasks() {
        Random rnd = new Random(5);
        check(rnd, 33, 40, 4, 64, 4, false, false);
        check(rnd, 33, 40, 4, 64, 1, true, false);
        check(rnd, 20, 100, 2, 32, 2, true, false);
    }

    @Test
    void causal() {
        Random rnd = new Random(9);
        check(rnd, 77, 77, 3, 64, 0, false, true);
        check(rnd, 77, 77, 2, 64, 1, false, true);
        check(rnd, 1, 1, 1, 16, 0, false, true);
        check(rnd, 130, 130, 1, 40, 0, false, true);
    }

    @Test
    void sharperScoresNeedRescaling() {
        // Large scale: later key tiles raise the running maximum, exercising the rescale.
        Random rnd = new Random(21);
        int lq = 20, lk = 300, heads = 2, d = 32;
        float[] q = Reference.random(rnd, lq * heads * d, 1f);
        float[] k = Reference.random(rnd, lk * heads * d, 1f);
        for (int i = (lk - 10) * heads * d; i < k.length; i++) {
            k[i] *= 4;
        }
        float[] v = Reference.random(rnd, lk * heads * d, 1f);
        Tensor out = kernels.attention(Tensor.wrap(q, lq, heads, d), Tensor.wrap(k, lk, heads, d),
                Tensor.wrap(v, lk, heads, d), 1f, null, false);
        double[] ref = reference(q, k, v, lq, lk, heads, d, 1f, null, 0, false);
        // Scores reach ~50 here: their float32 rounding (~50 * 6e-8) passes through exp, so the
        // bound is looser than for unit-scale scores.
        Reference.assertWithin("attention with growing maxima (scale 1)", out.data(), ref, Reference.unitBound(ref), 5e-5);
    }
}
