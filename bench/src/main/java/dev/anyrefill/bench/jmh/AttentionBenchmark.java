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
 * FLUX's joint attention: {@code tokens} queries and keys, 24 heads of 128, no bias, not
 * causal. 4 L^2 H D FLOP per call (Q K^T and P V; the softmax is not counted). Its backward,
 * {@link #attentionBackward}, does five such products (S, dP, dV, dK, dQ): 10 L^2 H D FLOP,
 * 2.5 times the forward's, which is the ratio of their times a kernel as efficient as the
 * forward would have.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 4)
public class AttentionBenchmark {
    @Param({"2560"})
    public int tokens;

    static final int HEADS = 24;
    static final int HEAD_DIM = 128;

    private final Kernels kernels = new JavaKernels();
    private Tensor q;
    private Tensor k;
    private Tensor v;
    private Tensor dOut;
    private Kernels.AttentionOutput saved;
    private double gflop;

    @Setup(Level.Trial)
    public void setUp() {
        Data.printMachine();
        q = Data.activations(1, tokens, HEADS, HEAD_DIM);
        k = Data.activations(2, tokens, HEADS, HEAD_DIM);
        v = Data.activations(3, tokens, HEADS, HEAD_DIM);
        gflop = 4.0 * tokens * tokens * HEADS * HEAD_DIM / 1e9;
        dOut = Data.activations(4, tokens, HEADS * HEAD_DIM);
        saved = kernels.attentionWithLogSumExp(q, k, v);
    }

    @Benchmark
    public Tensor attention(Flop flop) {
        flop.gflop += gflop;
        return kernels.attention(q, k, v);
    }

    @Benchmark
    public Kernels.AttentionGrads attentionBackward(Flop flop) {
        flop.gflop += 2.5 * gflop;
        return kernels.attentionBackward(q, k, v, saved, dOut);
    }
}
