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

/**
 * One candidate blocking, measured in a JVM of its own ({@link Autotune} starts one per
 * candidate with {@code -Danyrefill.gemm.kc} and {@code -Danyrefill.gemm.mc}, since the
 * blocking is fixed when the kernels load). Prints, one per line:
 * <pre>
 * blocking KC MC
 * check ERROR            the largest error of a product against a double-precision sum, over |x| |w|
 * MxKxN GFLOPS           per shape: the best of the timed passes, after one warm-up pass
 * </pre>
 * Usage: {@code GemmProbe PASSES MxKxN [MxKxN ...]}; weights are BF16 off the heap, as a mapped
 * checkpoint's are.
 */
public final class GemmProbe {
    private GemmProbe() {
    }

    public static void main(String[] args) {
        int passes = Integer.parseInt(args[0]);
        System.out.println("blocking " + Gemm.KC + " " + Gemm.MC);
        System.out.println(String.format(Locale.ROOT, "check %.3e", checkError(100, 700, 150)));
        warmUp();
        try (Arena arena = Arena.ofShared()) {
            for (int i = 1; i < args.length; i++) {
                String[] d = args[i].split("x");
                int m = Integer.parseInt(d[0]);
                int k = Integer.parseInt(d[1]);
                int n = Integer.parseInt(d[2]);
                float[] x = randomFloats(1, (long) m * k);
                Tensor w = bf16(arena, 2, n, k);
                float[] out = new float[Math.multiplyExact(m, n)];
                double best = Double.MAX_VALUE;
                for (int p = 0; p <= passes; p++) {
                    long t0 = System.nanoTime();
                    Gemm.linear(x, m, k, w, n, null, Activation.NONE, out);
                    double s = (System.nanoTime() - t0) * 1e-9;
                    if (p > 0) {
                        best = Math.min(best, s);
                    }
                }
                System.out.println(String.format(Locale.ROOT, "%s %.2f", args[i], 2.0 * m * k * n / best * 1e-9));
            }
        }
    }

    /** Enough calls of a middle-sized product for the JIT to compile the kernels before anything is timed. */
    private static void warmUp() {
        try (Arena arena = Arena.ofShared()) {
            float[] x = randomFloats(5, 192 * 768);
            Tensor w = bf16(arena, 6, 480, 768);
            float[] out = new float[192 * 480];
            for (int i = 0; i < 40; i++) {
                Gemm.linear(x, 192, 768, w, 480, null, Activation.NONE, out);
            }
        }
    }

    /** max |ours - exact| / sum |x| |w| over the elements of one product with a ragged K and N. */
    static double checkError(int m, int k, int n) {
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
