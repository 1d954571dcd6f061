package dev.anyrefill.kernels.backward;

import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.anyrefill.kernels.backward.FiniteDifferences.bf16;
import static dev.anyrefill.kernels.backward.FiniteDifferences.check;
import static dev.anyrefill.kernels.backward.FiniteDifferences.dot;
import static dev.anyrefill.kernels.backward.FiniteDifferences.randn;

/**
 * The AutoEncoder's backward operations against central finite differences of their forward
 * kernels: the convolution (3x3 same, 1x1, the Downsample's stride 2 after a (0, 1, 0, 1) pad;
 * dx, dW, db; F32 and BF16 weights), GroupNorm (dx, d weight, d bias) and nearest 2x upsampling.
 */
class VaeBackwardOpsTest {
    private final Kernels k = new JavaKernels();
    private final Random rnd = new Random(17);

    private void checkConv(String what, int cin, int h, int w, int cout, int kk, int stride, int[] pad, boolean bf16) {
        Tensor x = randn(rnd, 1f, cin, h, w);
        // weights of std 1/sqrt(taps) keep the outputs near 1, so the float32 differences stay sharp
        Tensor weight = randn(rnd, (float) (1 / Math.sqrt(cin * kk * kk)), cout, cin, kk, kk);
        Tensor wStored = bf16 ? bf16(weight) : weight;
        Tensor bias = randn(rnd, 0.3f, cout);
        Tensor y = k.conv2d(x, wStored, bias, stride, pad);
        Tensor r = randn(rnd, 1f, y.shape());
        Kernels.ConvGrads g = k.conv2dBackward(x, wStored, stride, pad, r);
        check(what + " dx", x, g.dx(), in -> dot(k.conv2d(in, wStored, bias, stride, pad), r), 1e-2, 2e-3, rnd);
        Tensor wF = bf16 ? wStored.toF32() : weight;
        check(what + " dW", wF, g.dw(), in -> dot(k.conv2d(x, in, bias, stride, pad), r), 1e-2, 2e-3, rnd);
        check(what + " db", bias, g.db(), in -> dot(k.conv2d(x, wStored, in, stride, pad), r), 1e-2, 2e-3, rnd);
    }

    @Test
    void convolutionGradients() {
        checkConv("conv 3x3 same", 5, 9, 11, 7, 3, 1, new int[]{1, 1, 1, 1}, false);
        checkConv("conv 1x1", 6, 5, 8, 4, 1, 1, new int[]{0, 0, 0, 0}, false);
        checkConv("conv 3x3 stride 2 pad (0,1,0,1)", 4, 10, 12, 6, 3, 2, new int[]{0, 1, 0, 1}, false);
        checkConv("conv 3x3 same, BF16 weight", 3, 8, 8, 5, 3, 1, new int[]{1, 1, 1, 1}, true);
    }

    @Test
    void convolutionGradientsOverSeveralBands() {
        // more pixels x taps than one band holds: 32 x 32 pixels of 9 * 500 taps = 4.6 M > 4.2 M
        checkConv("conv 3x3 same, 2 bands", 500, 32, 32, 3, 3, 1, new int[]{1, 1, 1, 1}, false);
    }

    @Test
    void groupNormGradients() {
        Tensor x = randn(rnd, 1.5f, 64, 5, 6);
        Tensor weight = randn(rnd, 0.5f, 64);
        Tensor bias = randn(rnd, 0.5f, 64);
        Tensor r = randn(rnd, 1f, 64, 5, 6);
        Kernels.NormGrads g = k.groupNormBackward(x, 32, weight, 1e-6f, r);
        check("groupNorm dx", x, g.dx(), in -> dot(k.groupNorm(in, 32, weight, bias, 1e-6f), r), 1e-3, 1e-2, rnd);
        check("groupNorm d weight", weight, g.dScale(), in -> dot(k.groupNorm(x, 32, in, bias, 1e-6f), r), 1e-3, 1e-2, rnd);
        check("groupNorm d bias", bias, g.dShift(), in -> dot(k.groupNorm(x, 32, weight, in, 1e-6f), r), 1e-3, 1e-2, rnd);
    }

    @Test
    void upsamplingGradient() {
        Tensor x = randn(rnd, 1f, 3, 4, 5);
        Tensor r = randn(rnd, 1f, 3, 8, 10);
        check("upsampleNearest2x dx", x, k.upsampleNearest2xBackward(r), in -> dot(k.upsampleNearest2x(in), r),
                1e-2, 1e-3, rnd);
    }
}
