package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The linear layer against a double-precision triple loop, over awkward sizes (M, N, K not
 * multiples of the kernel's 6 x 16 tile, K beyond one K block, M = 1), every weight type,
 * with and without bias, every activation. Error measure: |got - ref| / (sum_k |x w| + |b|),
 * the scale float32 accumulation error is proportional to; tolerance 1e-5.
 */
class GemmTest {
    static final double TOL = 1e-5;
    final JavaKernels kernels = new JavaKernels();

    double check(Random rnd, int m, int k, int n, DType type, boolean withBias, Activation act, int panelStrips) {
        float[] x = Reference.random(rnd, m * k, 1f);
        Tensor w = Reference.weights(rnd, type, n, k);
        float[] bias = withBias ? Reference.random(rnd, n, 1f) : null;
        double[] ref = new double[m * n];
        double[] bound = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                double mag = 0;
                for (int c = 0; c < k; c++) {
                    double p = (double) x[i * k + c] * w.getFloat((long) j * k + c);
                    s += p;
                    mag += Math.abs(p);
                }
                if (bias != null) {
                    s += bias[j];
                    mag += Math.abs(bias[j]);
                }
                ref[i * n + j] = Reference.act(act, s);
                bound[i * n + j] = Math.max(mag, 1e-30);
            }
        }
        float[] got;
        String how;
        if (panelStrips > 0) {
            got = new float[m * n];
            Gemm.packed(x, m, k, w, Gemm.Layout.ROWS_ARE_OUTPUTS, n, bias, act, got, panelStrips);
            how = "packed, panels of " + panelStrips + " strips";
        } else {
            got = kernels.linear(Tensor.wrap(x, m, k), w, bias == null ? null : Tensor.wrap(bias, n), act).data();
            how = m < Gemm.PACKED_MIN_ROWS ? "row dots" : "packed";
        }
        String what = String.format("linear %dx%dx%d %s bias=%s %s (%s)", m, k, n, type, withBias, act, how);
        return Reference.assertWithin(what, got, ref, bound, TOL);
    }

    @Test
    void awkwardSizesAllTypes() {
        Random rnd = new Random(7);
        int[][] sizes = {{1, 7, 5}, {1, 300, 70}, {3, 33, 17}, {5, 64, 40}, {15, 20, 9}, {16, 17, 33},
                {17, 100, 31}, {37, 259, 50}, {6, 16, 16}, {101, 513, 97}};
        DType[] types = {DType.F32, DType.BF16, DType.F16, DType.F8_E4M3FN, DType.F8_E5M2};
        Activation[] acts = Activation.values();
        int c = 0;
        for (int[] s : sizes) {
            for (DType t : types) {
                check(rnd, s[0], s[1], s[2], t, c % 2 == 0, acts[c % acts.length], 0);
                c++;
            }
        }
    }

    @Test
    void everyActivationWithAndWithoutBias() {
        Random rnd = new Random(11);
        for (Activation act : Activation.values()) {
            for (boolean b : new boolean[] {false, true}) {
                check(rnd, 1, 70, 45, DType.BF16, b, act, 0);
                check(rnd, 40, 70, 45, DType.BF16, b, act, 0);
            }
        }
    }

    @Test
    void manyPanelsAndTiles() {
        Random rnd = new Random(13);
        // Panels of 1 and 3 strips, more rows than one tile of MC, N not a multiple of NR.
        check(rnd, Gemm.MC + 7, 300, 5 * MicroKernel.NR + 3, DType.BF16, true, Activation.GELU_TANH, 1);
        check(rnd, 2 * Gemm.MC + 1, 600, 11 * MicroKernel.NR - 1, DType.F32, false, Activation.NONE, 3);
        check(rnd, 2, 40, 33, DType.F16, true, Activation.SILU, 2);
    }

    /**
     * B stored [K, N] (the backward's dx = dy W and dW = dy^T x): the few-rows path, the packed
     * path, and packed panels of 1 and 3 strips, against x B in float64, every weight type.
     */
    @Test
    void innerRowLayoutOnEveryPath() {
        Random rnd = new Random(19);
        int[][] cases = {{5, 70, 45, 0}, {40, 300, 5 * MicroKernel.NR + 3, 0}, {Gemm.MC + 7, 300, 5 * MicroKernel.NR + 3, 1},
                {2 * Gemm.MC + 1, 600, 11 * MicroKernel.NR - 1, 3}};
        DType[] types = {DType.F32, DType.BF16, DType.F16, DType.F8_E4M3FN};
        for (int[] c : cases) {
            for (DType type : types) {
                int m = c[0];
                int k = c[1];
                int n = c[2];
                float[] x = Reference.random(rnd, m * k, 1f);
                Tensor w = Reference.weights(rnd, type, k, n);
                double[] ref = new double[m * n];
                double[] bound = new double[m * n];
                for (int i = 0; i < m; i++) {
                    for (int kk = 0; kk < k; kk++) {
                        for (int j = 0; j < n; j++) {
                            double p = (double) x[i * k + kk] * w.getFloat((long) kk * n + j);
                            ref[i * n + j] += p;
                            bound[i * n + j] += Math.abs(p);
                        }
                    }
                }
                float[] got = new float[m * n];
                if (c[3] > 0) {
                    Gemm.packed(x, m, k, w, Gemm.Layout.ROWS_ARE_INNER, n, null, Activation.NONE, got, c[3]);
                } else {
                    Gemm.multiply(x, m, k, w, Gemm.Layout.ROWS_ARE_INNER, n, null, Activation.NONE, got);
                }
                Reference.assertWithin(String.format("x B, B [K, N] %dx%dx%d %s panels %d", m, k, n, type, c[3]),
                        got, ref, bound, TOL);
            }
        }
    }

    @Test
    void heapF32WeightsAndLeadingDimensions() {
        Random rnd = new Random(17);
        float[] x = Reference.random(rnd, 2 * 9 * 20, 1f);
        float[] w = Reference.random(rnd, 30 * 20, 1f);
        Tensor out = kernels.linear(Tensor.wrap(x, 2, 9, 20), Tensor.wrap(w, 30, 20), null);
        double[] ref = new double[18 * 30];
        double[] bound = new double[18 * 30];
        for (int i = 0; i < 18; i++) {
            for (int j = 0; j < 30; j++) {
                for (int c = 0; c < 20; c++) {
                    ref[i * 30 + j] += (double) x[i * 20 + c] * w[j * 20 + c];
                    bound[i * 30 + j] += Math.abs((double) x[i * 20 + c] * w[j * 20 + c]);
                }
            }
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {2, 9, 30}, out.shape());
        Reference.assertWithin("linear [2,9,20] x heap F32 [30,20]", out.data(), ref, bound, TOL);
    }

    /**
     * The row tiles cover the rows in pieces of at most MC rows, a multiple of MR each, and at
     * the transformer's token counts on 2 and 4 threads they leave no thread idle for long: the
     * busiest thread's rows, with each tile taken by the thread with the least work so far, are
     * within 4 % of an even share (17 tiles of 126 rows on two threads were 6 % over; the worst
     * case here is 2 % at MC 126 and 3.1 % at the build's second tiling, MC 60, whose tiles come
     * in coarser steps).
     */
    @Test
    void rowTilesSplitEvenlyOverTheThreads() {
        double worst = 0;
        for (int threads = 1; threads <= 8; threads++) {
            for (int stripTiles = 1; stripTiles <= 3; stripTiles++) {
                for (int m : new int[] {16, 40, 126, 127, 512, 2048, 2560, 4096, 4608}) {
                    int rows = Gemm.tileRows(m, stripTiles, threads);
                    int tiles = (m + rows - 1) / rows;
                    String what = m + " rows, " + stripTiles + " strip tiles, " + threads + " threads: tiles of " + rows;
                    assertTrue(rows <= Gemm.MC && rows % MicroKernel.MR == 0 && (long) tiles * rows >= m, what);
                    if ((threads == 2 || threads == 4) && m >= 2048) {
                        long[] load = new long[threads];
                        for (int t = 0; t < tiles * stripTiles; t++) {
                            int mt = t / stripTiles;
                            int idlest = 0;
                            for (int h = 1; h < threads; h++) {
                                idlest = load[h] < load[idlest] ? h : idlest;
                            }
                            load[idlest] += Math.min(rows, m - mt * rows);
                        }
                        double over = java.util.Arrays.stream(load).max().getAsLong() / ((double) m * stripTiles / threads);
                        assertTrue(over <= 1.04, what + ": busiest thread " + over + " x an even share");
                        worst = Math.max(worst, over);
                    }
                }
            }
        }
        System.out.println("2048 rows on 2 threads: tiles of " + Gemm.tileRows(2048, 1, 2) + " rows (MC " + Gemm.MC
                + "), 2560 rows: " + Gemm.tileRows(2560, 1, 2) + "; busiest thread at most " + worst
                + " x an even share (bound 1.04)");
    }
}
