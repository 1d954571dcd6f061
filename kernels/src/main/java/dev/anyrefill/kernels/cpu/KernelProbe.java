package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Floats;
import dev.anyrefill.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One candidate set of tiles, measured in a JVM of its own ({@link Autotune} starts one per
 * candidate with the {@link Tunable} properties set, since the tiles are fixed when the kernels
 * load). Prints, one per line:
 * <pre>
 * parameters gemm.kc=256 gemm.mc=126 ...   the values in force
 * check ERROR            the largest error of the GEMM, attention (both ways) and convolution against sums in double
 * SHAPE GFLOPS           per shape: the best of the timed passes, after one warm-up pass
 * </pre>
 * Usage: {@code KernelProbe PASSES SHAPE [SHAPE ...]}, each shape one of
 * <ul>
 *   <li>{@code MxKxN}: the linear layer x [M, K] W^T, W [N, K] in BF16 off the heap as a mapped
 *       checkpoint's weights are;</li>
 *   <li>{@code attention:TxHxD}: self-attention over T tokens, H heads of D channels;</li>
 *   <li>{@code attention-backward:TxHxD}: its backward (dq, dk, dv from dOut);</li>
 *   <li>{@code conv:CxHxW}: a 3 x 3 convolution, C channels in and out, over H x W pixels.</li>
 * </ul>
 */
public final class KernelProbe {
    private KernelProbe() {
    }

    public static void main(String[] args) {
        int passes = Integer.parseInt(args[0]);
        System.out.println("parameters " + Stream.of(Tunable.values()).map(t -> t.key + "=" + valueOf(t))
                .collect(Collectors.joining(" ")));
        double check = Math.max(Math.max(gemmError(100, 700, 150), attentionError(101, 2, 40)),
                Math.max(attentionBackwardError(101, 2, 40), convError(5, 7, 9, 11)));
        System.out.println(String.format(Locale.ROOT, "check %.3e", check));
        warmUp();
        for (int i = 1; i < args.length; i++) {
            Runnable kernel = kernel(args[i]);
            double best = Double.MAX_VALUE;
            for (int p = 0; p <= passes; p++) {
                long t0 = System.nanoTime();
                kernel.run();
                double s = (System.nanoTime() - t0) * 1e-9;
                if (p > 0) {
                    best = Math.min(best, s);
                }
            }
            System.out.println(String.format(Locale.ROOT, "%s %.2f", args[i], gflop(args[i]) / best));
        }
    }

    static int valueOf(Tunable t) {
        return switch (t) {
            case GEMM_KC -> Gemm.KC;
            case GEMM_MC -> Gemm.MC;
            case ATTENTION_QUERIES -> FlashAttention.BQ;
            case ATTENTION_KEYS -> FlashAttention.BK;
            case CONV_PIXELS -> Conv2d.PIXELS;
            case ATTENTION_BACKWARD_QUERIES -> FlashAttentionBackward.BQ;
            case ATTENTION_BACKWARD_KEYS -> FlashAttentionBackward.BK;
        };
    }

    /** The floating-point operations of one run of a shape, in units of 1e9. */
    static double gflop(String shape) {
        int[] d = dims(shape);
        return switch (kind(shape)) {
            case "gemm" -> 2.0 * d[0] * d[1] * d[2] * 1e-9;
            case "attention" -> 4.0 * d[0] * d[0] * d[1] * d[2] * 1e-9;
            case "attention-backward" -> 2.5 * 4.0 * d[0] * d[0] * d[1] * d[2] * 1e-9;
            default -> 2.0 * d[0] * d[0] * 9 * d[1] * d[2] * 1e-9;
        };
    }

    static String kind(String shape) {
        return shape.startsWith("attention:") ? "attention" : shape.startsWith("attention-backward:")
                ? "attention-backward" : shape.startsWith("conv:") ? "conv" : "gemm";
    }

    static int[] dims(String shape) {
        String[] f = shape.substring(shape.indexOf(':') + 1).split("x");
        if (f.length != 3) {
            throw new IllegalArgumentException("shape '" + shape + "': MxKxN, attention:TxHxD, attention-backward:TxHxD "
                    + "or conv:CxHxW");
        }
        int[] d = new int[3];
        for (int i = 0; i < 3; i++) {
            d[i] = Integer.parseInt(f[i]);
        }
        return d;
    }

    /** The kernel for a shape, its inputs made once. */
    private static Runnable kernel(String shape) {
        int[] d = dims(shape);
        switch (kind(shape)) {
            case "attention" -> {
                float[] q = randomFloats(11, (long) d[0] * d[1] * d[2]);
                float[] k = randomFloats(12, (long) d[0] * d[1] * d[2]);
                float[] v = randomFloats(13, (long) d[0] * d[1] * d[2]);
                float scale = (float) (1 / Math.sqrt(d[2]));
                return () -> FlashAttention.attention(q, k, v, d[0], d[0], d[1], d[2], scale, null, 1, false);
            }
            case "attention-backward" -> {
                float[] q = randomFloats(11, (long) d[0] * d[1] * d[2]);
                float[] k = randomFloats(12, (long) d[0] * d[1] * d[2]);
                float[] v = randomFloats(13, (long) d[0] * d[1] * d[2]);
                float[] dOut = randomFloats(16, (long) d[0] * d[1] * d[2]);
                float scale = (float) (1 / Math.sqrt(d[2]));
                float[] lse = new float[d[1] * d[0]];
                float[] out = FlashAttention.attention(q, k, v, d[0], d[0], d[1], d[2], scale, null, 1, false, lse);
                float[] dq = new float[q.length];
                float[] dk = new float[k.length];
                float[] dv = new float[v.length];
                return () -> FlashAttentionBackward.backward(q, k, v, out, dOut, lse, d[0], d[0], d[1], d[2], scale, dq, dk, dv);
            }
            case "conv" -> {
                float[] x = randomFloats(14, (long) d[0] * d[1] * d[2]);
                float[] w = randomFloats(15, (long) d[0] * d[0] * 9);
                float[] out = new float[d[0] * d[1] * d[2]];
                return () -> Conv2d.conv(x, d[0], d[1], d[2], w, d[0], 3, 3, null, 1, 1, 1, d[1], d[2], out);
            }
            default -> {
                float[] x = randomFloats(1, (long) d[0] * d[1]);
                Tensor w = bf16(Arena.ofAuto(), 2, d[2], d[1]);
                float[] out = new float[Math.multiplyExact(d[0], d[2])];
                return () -> Gemm.linear(x, d[0], d[1], w, d[2], null, Activation.NONE, out);
            }
        }
    }

    /** Enough calls of middle-sized products for the JIT to compile the kernels before anything is timed. */
    private static void warmUp() {
        Runnable gemm = kernel("192x768x480");
        Runnable attention = kernel("attention:192x2x128");
        Runnable attentionBackward = kernel("attention-backward:192x2x128");
        Runnable conv = kernel("conv:32x24x24");
        for (int i = 0; i < 40; i++) {
            gemm.run();
            attention.run();
            attentionBackward.run();
            conv.run();
        }
    }

    /** max |ours - exact| / sum |x| |w| over the elements of one product with a ragged K and N. */
    static double gemmError(int m, int k, int n) {
        float[] x = randomFloats(3, (long) m * k);
        try (Arena arena = Arena.ofShared()) {
            Tensor w = bf16(arena, 4, n, k);
            float[] out = new float[m * n];
            Gemm.linear(x, m, k, w, n, null, Activation.NONE, out);
            double worst = 0;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    double mag = 0;
                    for (int p = 0; p < k; p++) {
                        double t = x[i * k + p] * (double) w.getFloat((long) j * k + p);
                        sum += t;
                        mag += Math.abs(t);
                    }
                    worst = Math.max(worst, Math.abs(out[i * n + j] - sum) / Math.max(mag, 1e-30));
                }
            }
            return worst;
        }
    }

    /** max |ours - exact| / max(1, |exact|) of self-attention over a ragged token count, against the plain double loops. */
    static double attentionError(int tokens, int heads, int d) {
        float[] q = randomFloats(5, (long) tokens * heads * d);
        float[] k = randomFloats(6, (long) tokens * heads * d);
        float[] v = randomFloats(7, (long) tokens * heads * d);
        float scale = (float) (1 / Math.sqrt(d));
        return unitError(FlashAttention.attention(q, k, v, tokens, tokens, heads, d, scale, null, 1, false),
                PlainKernels.attention(q, k, v, tokens, tokens, heads, d, scale, null, 1, false));
    }

    /** max |ours - exact| / max(1, |exact|). */
    private static double unitError(float[] ours, float[] exact) {
        double worst = 0;
        for (int i = 0; i < ours.length; i++) {
            worst = Math.max(worst, Math.abs(ours[i] - exact[i]) / Math.max(1, Math.abs(exact[i])));
        }
        return worst;
    }

    /** max |ours - exact| / max(1, |exact|) over dq, dk and dv of self-attention's backward, against the plain double loops. */
    static double attentionBackwardError(int tokens, int heads, int d) {
        int n = tokens * heads * d;
        float[] q = randomFloats(17, n);
        float[] k = randomFloats(18, n);
        float[] v = randomFloats(19, n);
        float[] dOut = randomFloats(20, n);
        float scale = (float) (1 / Math.sqrt(d));
        float[] lse = new float[heads * tokens];
        float[] out = FlashAttention.attention(q, k, v, tokens, tokens, heads, d, scale, null, 1, false, lse);
        float[][] ours = {new float[n], new float[n], new float[n]};
        float[][] exact = {new float[n], new float[n], new float[n]};
        FlashAttentionBackward.backward(q, k, v, out, dOut, lse, tokens, tokens, heads, d, scale, ours[0], ours[1], ours[2]);
        PlainKernels.attentionBackward(q, k, v, dOut, tokens, tokens, heads, d, scale, exact[0], exact[1], exact[2]);
        return Math.max(unitError(ours[0], exact[0]), Math.max(unitError(ours[1], exact[1]), unitError(ours[2], exact[2])));
    }

    /** max |ours - exact| / sum |x| |w| of a padded 3 x 3 convolution over a ragged image. */
    static double convError(int cin, int cout, int h, int w) {
        float[] x = randomFloats(8, (long) cin * h * w);
        float[] wt = randomFloats(9, (long) cout * cin * 9);
        float[] out = new float[cout * h * w];
        Conv2d.conv(x, cin, h, w, wt, cout, 3, 3, null, 1, 1, 1, h, w, out);
        double worst = 0;
        for (int o = 0; o < cout; o++) {
            for (int y = 0; y < h; y++) {
                for (int xx = 0; xx < w; xx++) {
                    double sum = 0;
                    double mag = 0;
                    for (int c = 0; c < cin; c++) {
                        for (int ky = 0; ky < 3; ky++) {
                            for (int kx = 0; kx < 3; kx++) {
                                int iy = y + ky - 1;
                                int ix = xx + kx - 1;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                    double t = x[(c * h + iy) * w + ix] * (double) wt[((o * cin + c) * 3 + ky) * 3 + kx];
                                    sum += t;
                                    mag += Math.abs(t);
                                }
                            }
                        }
                    }
                    worst = Math.max(worst, Math.abs(out[(o * h + y) * w + xx] - sum) / Math.max(mag, 1e-30));
                }
            }
        }
        return worst;
    }

    private static float[] randomFloats(long seed, long count) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(count)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return v;
    }

    private static Tensor bf16(Arena arena, long seed, int rows, int cols) {
        long count = (long) rows * cols;
        MemorySegment seg = arena.allocate(count * 2, 64);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long i = 0; i < count; i++) {
            seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Floats.f32ToBf16((float) ((rnd.nextDouble() * 2 - 1) * 0.02)));
        }
        return Tensor.view(DType.BF16, new int[] {rows, cols}, seg);
    }
}
