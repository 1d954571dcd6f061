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
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The memory-bound row operations at FLUX's widths, {@code tokens} x 3072: layer norm fused
 * with modulation (counted as 7 FLOP per element: mean, squared deviation (2), normalise
 * (2), scale and shift (2)) and RoPE on [tokens, 24, 128] (3 FLOP per element: a 2 x 2
 * matrix per pair of elements).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 3)
public class RowOpsBenchmark {
    @Param({"2560"})
    public int tokens;

    static final int HIDDEN = 3072;

    private final Kernels kernels = new JavaKernels();
    private Tensor x;
    private Tensor shift;
    private Tensor scale;
    private Tensor heads;
    private Tensor pe;

    @Setup(Level.Trial)
    public void setUp() {
        Data.printMachine();
        x = Data.activations(1, tokens, HIDDEN);
        shift = Data.activations(2, HIDDEN);
        scale = Data.activations(3, HIDDEN);
        heads = Data.activations(4, tokens, 24, 128);
        pe = Data.activations(5, tokens, 64, 2, 2);
    }

    @Benchmark
    public Tensor layerNormModulate(Flop flop) {
        flop.gflop += 7.0 * tokens * HIDDEN / 1e9;
        return kernels.layerNormModulate(x, shift, scale, 1e-6f);
    }

    @Benchmark
    public Tensor rope(Flop flop) {
        flop.gflop += 3.0 * tokens * 24 * 128 / 1e9;
        return kernels.rope(heads, pe);
    }
}
