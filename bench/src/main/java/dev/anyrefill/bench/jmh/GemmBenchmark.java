package dev.anyrefill.bench.jmh;

import dev.anyrefill.kernels.Activation;
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
 * The linear layer at FLUX's shapes: x [M, K] F32 times BF16 weights [N, K]^T (off-heap, as
 * mapped from a checkpoint), {@code shape = MxKxN}. 2 M N K FLOP per call. The first three
 * are the transformer's big products (QKV of a double block at 2560 tokens, the single
 * block's fused first linear at 2048 tokens, the MLP's second linear); 2048x3072x3072 is the
 * shape of the 110 GFLOP/s target; pass {@code -p shape=256x3072x3072} for a quick run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 4)
public class GemmBenchmark {
    @Param({"2048x3072x3072", "2560x3072x9216", "2048x3072x12288", "512x12288x3072"})
    public String shape;

    @Param({"NONE"})
    public Activation activation;

    private final Kernels kernels = new JavaKernels();
    private Arena arena;
    private Tensor x;
    private Tensor w;
    private double gflop;

    @Setup(Level.Trial)
    public void setUp() {
        Data.printMachine();
        int[] d = Data.dims(shape);
        arena = Arena.ofShared();
        x = Data.activations(1, d[0], d[1]);
        w = Data.bf16Weights(arena, 2, (float) (1 / Math.sqrt(d[1])), d[2], d[1]);
        gflop = 2.0 * d[0] * d[1] * d[2] / 1e9;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public Tensor linear(Flop flop) {
        flop.gflop += gflop;
        return kernels.linear(x, w, null, activation);
    }
}
