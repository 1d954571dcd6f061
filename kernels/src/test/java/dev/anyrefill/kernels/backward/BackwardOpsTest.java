package dev.anyrefill.kernels.backward;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Floats;
import dev.anyrefill.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.function.Function;

import static dev.anyrefill.kernels.backward.FiniteDifferences.bf16;
import static dev.anyrefill.kernels.backward.FiniteDifferences.check;
import static dev.anyrefill.kernels.backward.FiniteDifferences.dot;
import static dev.anyrefill.kernels.backward.FiniteDifferences.randn;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every backward of {@link Kernels} against finite differences of its own forward, on small
 * shapes that still cross the kernels' tile edges (more than 64 tokens for attention, more
 * than 16 rows for the packed GEMM, head size 128 as FLUX has). Tolerances: 2e-3 for the
 * products (exactly linear, so only float32 rounding of the forward remains), 1e-2 where the
 * forward is curved (norms, activations, the softmax of q and k).
 */
class BackwardOpsTest {
    private final Kernels k = new JavaKernels();
    private final Random rnd = new Random(7);

    @Test
    void linearInputGradientReadsTheWeightInItsStoredType() {
        for (int m : new int[]{5, 40}) {
            Tensor x = randn(rnd, 1f, m, 72);
            Tensor w = bf16(randn(rnd, 0.2f, 56, 72));
            Tensor r = randn(rnd, 1f, m, 56);
            check("linear dx (BF16 W, M = " + m + ")", x, k.linearBackwardInput(r, w),
                    in -> dot(k.linear(in, w, null), r), 1e-2, 2e-3, rnd);
        }
    }

    @Test
    void linearWeightAndBiasGradients() {
        for (int m : new int[]{3, 50}) {
            Tensor x = randn(rnd, 1f, m, 40);
            Tensor w = randn(rnd, 0.2f, 33, 40);
            Tensor b = randn(rnd, 0.2f, 33);
            Tensor r = randn(rnd, 1f, m, 33);
            check("linear dW (M = " + m + ")", w, k.linearBackwardWeight(r, x),
                    in -> dot(k.linear(x, in, b), r), 1e-2, 2e-3, rnd);
            check("linear db (M = " + m + ")", b, k.sumRows(r), in -> dot(k.linear(x, w, in), r), 1e-2, 2e-3, rnd);
        }
    }

    @Test
    void activationGradients() {
        for (Activation act : new Activation[]{Activation.GELU_TANH, Activation.SILU, Activation.QUICK_GELU}) {
            Tensor x = randn(rnd, 2f, 9, 37);
            Tensor r = randn(rnd, 1f, 9, 37);
            check("activation " + act, x, k.activationBackward(x, r, act), in -> dot(k.activation(in, act), r),
                    1e-3, 1e-2, rnd);
        }
    }

    @Test
    void layerNormModulateGradients() {
        Tensor x = randn(rnd, 1.5f, 11, 48);
        Tensor shift = randn(rnd, 0.5f, 48);
        Tensor scale = randn(rnd, 0.5f, 48);
        Tensor r = randn(rnd, 1f, 11, 48);
        Kernels.NormGrads g = k.layerNormModulateBackward(x, shift, scale, 1e-6f, r);
        check("layerNormModulate dx", x, g.dx(), in -> dot(k.layerNormModulate(in, shift, scale, 1e-6f), r),
                1e-3, 1e-2, rnd);
        check("layerNormModulate dScale", scale, g.dScale(),
                in -> dot(k.layerNormModulate(x, shift, in, 1e-6f), r), 1e-3, 1e-2, rnd);
        check("layerNormModulate dShift", shift, g.dShift(),
                in -> dot(k.layerNormModulate(x, in, scale, 1e-6f), r), 1e-3, 1e-2, rnd);
    }

    @Test
    void rmsNormGradients() {
        Tensor x = randn(rnd, 1.5f, 7, 3, 128);
        Tensor scale = randn(rnd, 0.5f, 128);
        Tensor r = randn(rnd, 1f, 7, 3, 128);
        Kernels.NormGrads g = k.rmsNormBackward(x, scale, 1e-6f, r);
        check("rmsNorm dx", x, g.dx(), in -> dot(k.rmsNorm(in, scale, 1e-6f), r), 1e-3, 1e-2, rnd);
        check("rmsNorm dScale", scale, g.dScale(), in -> dot(k.rmsNorm(x, in, 1e-6f), r), 1e-3, 1e-2, rnd);
    }

    @Test
    void ropeGradient() {
        int l = 6;
        int d = 128;
        Tensor x = randn(rnd, 1f, l, 2, d);
        float[] pe = new float[l * d / 2 * 4];
        for (int i = 0; i < pe.length; i += 4) {
            double a = rnd.nextDouble() * 6;
            pe[i] = (float) Math.cos(a);
            pe[i + 1] = (float) -Math.sin(a);
            pe[i + 2] = (float) Math.sin(a);
            pe[i + 3] = (float) Math.cos(a);
        }
        Tensor rot = Tensor.wrap(pe, l, d / 2, 2, 2);
        Tensor r = randn(rnd, 1f, l, 2, d);
        check("rope", x, k.ropeBackward(r, rot), in -> dot(k.rope(in, rot), r), 1e-2, 2e-3, rnd);
    }

    @Test
    void gatedResidualGradients() {
        Tensor res = randn(rnd, 1f, 5, 20);
        Tensor gate = randn(rnd, 1f, 20);
        Tensor x = randn(rnd, 1f, 5, 20);
        Tensor r = randn(rnd, 1f, 5, 20);
        Tensor[] g = k.gatedResidualBackward(gate, x, r);
        check("gatedResidual dx", x, g[0], in -> dot(k.gatedResidual(res, gate, in), r), 1e-2, 2e-3, rnd);
        check("gatedResidual dGate", gate, g[1], in -> dot(k.gatedResidual(res, in, x), r), 1e-2, 2e-3, rnd);
    }

    @Test
    void flashAttentionGradientsAcrossTiles() {
        int l = 100; // beyond one tile of queries (66) and of keys (96)
        int heads = 2;
        int d = 128;
        Tensor q = randn(rnd, 0.3f, l, heads, d);
        Tensor key = randn(rnd, 0.3f, l, heads, d);
        Tensor v = randn(rnd, 1f, l, heads, d);
        Tensor r = randn(rnd, 1f, l, heads * d);
        Kernels.AttentionOutput out = k.attentionWithLogSumExp(q, key, v);
        Kernels.AttentionGrads g = k.attentionBackward(q, key, v, out, r);
        Function<Tensor[], Double> loss = qkv -> dot(k.attention(qkv[0], qkv[1], qkv[2]), r);
        check("attention dq", q, g.dq(), in -> loss.apply(new Tensor[]{in, key, v}), 1e-2, 1e-2, rnd);
        check("attention dk", key, g.dk(), in -> loss.apply(new Tensor[]{q, in, v}), 1e-2, 1e-2, rnd);
        check("attention dv", v, g.dv(), in -> loss.apply(new Tensor[]{q, key, in}), 1e-2, 2e-3, rnd);
    }

    /** The tiled backward against the plain loops in double ({@code new JavaKernels(true)}), across tile edges. */
    @Test
    void flashAttentionGradientsEqualThePlainLoops() {
        int lq = 100;
        int lk = 130;
        int heads = 2;
        int d = 128;
        Tensor q = randn(rnd, 0.3f, lq, heads, d);
        Tensor key = randn(rnd, 0.3f, lk, heads, d);
        Tensor v = randn(rnd, 1f, lk, heads, d);
        Tensor r = randn(rnd, 1f, lq, heads * d);
        Kernels plain = new dev.anyrefill.kernels.JavaKernels(true);
        Kernels.AttentionGrads fast = k.attentionBackward(q, key, v, k.attentionWithLogSumExp(q, key, v), r);
        Kernels.AttentionGrads exact = plain.attentionBackward(q, key, v, plain.attentionWithLogSumExp(q, key, v), r);
        String[] names = {"dq", "dk", "dv"};
        Tensor[][] pairs = {{fast.dq(), exact.dq()}, {fast.dk(), exact.dk()}, {fast.dv(), exact.dv()}};
        for (int i = 0; i < 3; i++) {
            double worst = 0;
            float[] got = pairs[i][0].data();
            float[] ref = pairs[i][1].data();
            for (int j = 0; j < ref.length; j++) {
                worst = Math.max(worst, Math.abs(got[j] - ref[j]) / Math.max(1, Math.abs(ref[j])));
            }
            System.out.printf("attention backward %s against the plain loops: %.3e (tolerance 1e-5)%n", names[i], worst);
            assertTrue(worst < 1e-5, names[i] + ": " + worst);
            assertTrue(worst > 0, names[i] + ": float tiles against double sums, not the same code");
        }
    }

    /** The values of x rounded to BF16, as a BF16 tensor over a heap segment (a checkpoint's weight). */
}
