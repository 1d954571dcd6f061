package dev.anyrefill.kernels.tornado;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Compare;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Floats;
import dev.anyrefill.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/**
 * The heavy operations of FLUX at real width, on the Java and the tornado backend in one run:
 * seconds, GFLOP/s, the tornado/java time ratio, the agreement of the two, and the host-device
 * bytes per call. Run with TornadoVM's flags:
 * {@code java @$TORNADOVM_HOME/tornado-argfile --add-modules jdk.incubator.vector -cp ... dev.anyrefill.kernels.tornado.KernelBench [tokens] [repeats]}.
 */
public final class KernelBench {
    private final Random random = new Random(1);
    private final Kernels java = new JavaKernels();
    private final TornadoKernels tornado = new TornadoKernels();
    private final int repeats;

    private KernelBench(int repeats) {
        this.repeats = repeats;
    }

    public static void main(String[] args) {
        int tokens = args.length > 0 ? Integer.parseInt(args[0]) : 2560;
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        KernelBench b = new KernelBench(repeats);
        System.out.printf("device: %s; matmul strategy: %s; %d tokens, best of %d%n",
                uk.ac.manchester.tornado.api.TornadoExecutionPlan.getDevice(0, 0), b.tornado.matmul().name(), tokens, repeats);
        b.linear("double block img qkv", tokens * 4 / 5, 3072, 9216);
        b.linear("single block linear1", tokens, 3072, 21504);
        b.linear("single block linear2", tokens, 15360, 3072);
        b.attention("attention 24 heads x 128", tokens, 24, 128);
        b.tornado.close();
    }

    private void linear(String what, int m, int k, int n) {
        Tensor x = randn(random, m, k);
        Tensor w = bf16(n, k);
        double flop = 2.0 * m * n * k;
        compare(what + String.format(" [%d,%d]x[%d,%d]^T", m, k, n, k), flop,
                kern -> kern.linear(x, w, null, Activation.NONE));
    }

    private void attention(String what, int l, int heads, int d) {
        Tensor q = randn(random, l, heads, d);
        Tensor k = randn(random, l, heads, d);
        Tensor v = randn(random, l, heads, d);
        double flop = 4.0 * l * l * heads * d;
        compare(what + " L=" + l, flop, kern -> kern.attention(q, k, v));
    }

    private void compare(String what, double flop, java.util.function.Function<Kernels, Tensor> op) {
        Tensor ref = op.apply(java);
        double tJava = best(() -> op.apply(java));
        Tensor got = op.apply(tornado); // compiles and uploads
        DeviceTraffic.Snapshot before = tornado.traffic().snapshot();
        double tTornado = best(() -> op.apply(tornado));
        DeviceTraffic.Snapshot moved = tornado.traffic().snapshot().minus(before);
        System.out.printf("%-60s java %7.2f s %6.1f GFLOP/s | tornado %7.2f s %6.1f GFLOP/s | tornado/java time %.2f | err %.1e%n",
                what, tJava, flop / tJava / 1e9, tTornado, flop / tTornado / 1e9, tTornado / tJava,
                Compare.relativeError(got, ref));
        System.out.printf("    per call: %.1f MB to device, %.1f MB to host%n",
                moved.activationBytesToDevice() / 1e6 / repeats, moved.bytesToHost() / 1e6 / repeats);
    }

    private double best(Runnable r) {
        double best = Double.MAX_VALUE;
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            r.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
    }

    /** A tensor of standard normal values: the benchmarks' and the tests' synthetic activations. */
    static Tensor randn(Random random, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) random.nextGaussian();
        }
        return t;
    }

    /** A BF16 weight in off-heap memory, as a mapped checkpoint holds it. */
    private Tensor bf16(int rows, int cols) {
        long n = (long) rows * cols;
        MemorySegment seg = Arena.ofAuto().allocate(n * 2, 2);
        float s = (float) (1 / Math.sqrt(cols));
        for (long i = 0; i < n; i++) {
            seg.setAtIndex(ValueLayout.JAVA_SHORT, i, Floats.f32ToBf16((float) random.nextGaussian() * s));
        }
        return Tensor.view(DType.BF16, new int[] {rows, cols}, seg);
    }
}
