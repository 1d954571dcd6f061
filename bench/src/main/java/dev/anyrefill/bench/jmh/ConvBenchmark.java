package dev.anyrefill.bench.jmh;

import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;

/**
 * The VAE decoder's largest convolution: 128 to 128 channels, 3 x 3, stride 1, padding 1, at
 * {@code size} = HxW (512x1024 is the full canvas; 128x256 for a quick run). 2 * 128 * 128 * 9
 * FLOP per output pixel; its backward (dx and dW, two products of that size, plus db) is
 * counted as twice that.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
@Warmup(iterations = 1, time = 3)
@Measurement(iterations = 3, time = 5)
public class ConvBenchmark {
    @Param({"512x1024"})
    public String size;

    static final int CHANNELS = 128;

    private final Kernels kernels = new JavaKernels();
    private Arena arena;
    private Tensor x;
    private Tensor w;
    private Tensor b;
    private Tensor dy;
    private double gflop;

    @Setup(Level.Trial)
    public void setUp() {
        Data.printMachine();
        int[] hw = Data.dims(size);
        arena = Arena.ofShared();
        x = Data.activations(1, CHANNELS, hw[0], hw[1]);
        w = Data.bf16Weights(arena, 2, 0.03f, CHANNELS, CHANNELS, 3, 3);
        b = Data.activations(3, CHANNELS);
        dy = Data.activations(4, CHANNELS, hw[0], hw[1]);
        gflop = 2.0 * CHANNELS * CHANNELS * 9 * hw[0] * hw[1] / 1e9;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public Tensor conv3x3(Flop flop) {
        flop.gflop += gflop;
        return kernels.conv2d(x, w, b, 1, new int[] {1, 1, 1, 1});
    }

    @Benchmark
    public Kernels.ConvGrads conv3x3Backward(Flop flop) {
        flop.gflop += 2 * gflop;
        return kernels.conv2dBackward(x, w, 1, new int[] {1, 1, 1, 1}, dy);
    }
}
