package dev.anyrefill.kernels;

import dev.anyrefill.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Wraps a backend and adds up the wall time and calls of each operation, for the benchmarks'
 * per-operation breakdown. Not thread-safe across concurrent callers: a model runs its
 * operations one after another and parallelises inside them.
 */
public final class TimingKernels implements Kernels {
    /** Time and calls of one operation. */
    public static final class Entry {
        long nanos;
        long calls;
        long deferred;

        public double seconds() {
            return nanos / 1e9;
        }

        public long calls() {
            return calls;
        }

        /**
         * Calls that returned a deferred tensor: the backend recorded the work and runs it later
         * (when the host reads a result), so their time is mostly not here.
         */
        public long deferred() {
            return deferred;
        }
    }

    private final Kernels inner;
    private final Runnable afterEach;
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    public TimingKernels(Kernels inner) {
        this(inner, () -> {
        });
    }

    /**
     * @param afterEach run after every operation, outside its timing (a memory probe: a full
     *                  collection and a reading of the live heap)
     */
    public TimingKernels(Kernels inner, Runnable afterEach) {
        this.inner = inner;
        this.afterEach = afterEach;
    }

    /** Operation name to time and calls, in order of first use. */
    public Map<String, Entry> entries() {
        return entries;
    }

    public void reset() {
        entries.clear();
    }

    private <T> T time(String op, Supplier<T> body) {
        long t0 = System.nanoTime();
        T result = body.get();
        Entry e = entries.computeIfAbsent(op, o -> new Entry());
        e.nanos += System.nanoTime() - t0;
        e.calls++;
        if (result instanceof Tensor t && t.deferredValues() != null) {
            e.deferred++;
        }
        afterEach.run();
        return result;
    }

    @Override
    public String name() {
        return inner.name();
    }

    /**
     * The wrapped backend's scope, untimed. A backend that defers its work (tornado, inside a
     * scope) is timed where the host first reads a result, not where each operation is asked for.
     */
    @Override
    public Scope scope(Tensor... consumed) {
        return inner.scope(consumed);
    }

    @Override
    public Tensor linear(Tensor x, Tensor w, Tensor bias, Activation act) {
        return time("linear", () -> inner.linear(x, w, bias, act));
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, float scale, Tensor bias, boolean causal) {
        return time("attention", () -> inner.attention(q, k, v, scale, bias, causal));
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        return time("layerNorm", () -> inner.layerNorm(x, weight, bias, eps));
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor scale, float eps) {
        return time("rmsNorm", () -> inner.rmsNorm(x, scale, eps));
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        return time("groupNorm", () -> inner.groupNorm(x, groups, weight, bias, eps));
    }

    @Override
    public Tensor layerNormModulate(Tensor x, Tensor shift, Tensor scale, float eps) {
        return time("layerNormModulate", () -> inner.layerNormModulate(x, shift, scale, eps));
    }

    @Override
    public Tensor activation(Tensor x, Activation act) {
        return time("activation", () -> inner.activation(x, act));
    }

    @Override
    public Tensor add(Tensor a, Tensor b) {
        return time("add", () -> inner.add(a, b));
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        return time("mul", () -> inner.mul(a, b));
    }

    @Override
    public Tensor scale(Tensor a, float s) {
        return time("scale", () -> inner.scale(a, s));
    }

    @Override
    public Tensor gatedResidual(Tensor residual, Tensor gate, Tensor x) {
        return time("gatedResidual", () -> inner.gatedResidual(residual, gate, x));
    }

    @Override
    public void axpyInPlace(Tensor x, float s, Tensor y) {
        time("axpyInPlace", () -> {
            inner.axpyInPlace(x, s, y);
            return null;
        });
    }

    @Override
    public Tensor rope(Tensor x, Tensor pe) {
        return time("rope", () -> inner.rope(x, pe));
    }

    @Override
    public Tensor concatRows(Tensor... parts) {
        return time("concatRows", () -> inner.concatRows(parts));
    }

    @Override
    public Tensor concatColumns(Tensor... parts) {
        return time("concatColumns", () -> inner.concatColumns(parts));
    }

    @Override
    public Tensor sliceColumns(Tensor x, int from, int to) {
        return time("sliceColumns", () -> inner.sliceColumns(x, from, to));
    }

    @Override
    public Tensor sliceRows(Tensor x, int from, int to) {
        return time("sliceRows", () -> inner.sliceRows(x, from, to));
    }

    @Override
    public Tensor transpose(Tensor x) {
        return time("transpose", () -> inner.transpose(x));
    }

    @Override
    public Tensor gatherRows(Tensor table, int[] ids) {
        return time("gatherRows", () -> inner.gatherRows(table, ids));
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor w, Tensor bias, int stride, int[] padding) {
        return time("conv2d", () -> inner.conv2d(x, w, bias, stride, padding));
    }

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        return time("upsampleNearest2x", () -> inner.upsampleNearest2x(x));
    }

    // ---- backward (training) ----------------------------------------------------------------

    @Override
    public AttentionOutput attentionWithLogSumExp(Tensor q, Tensor k, Tensor v) {
        return time("attention", () -> inner.attentionWithLogSumExp(q, k, v));
    }

    @Override
    public AttentionGrads attentionBackward(Tensor q, Tensor k, Tensor v, AttentionOutput out, Tensor dOut) {
        return time("attentionBackward", () -> inner.attentionBackward(q, k, v, out, dOut));
    }

    @Override
    public Tensor linearBackwardInput(Tensor dy, Tensor w) {
        return time("linearBackwardInput", () -> inner.linearBackwardInput(dy, w));
    }

    @Override
    public Tensor linearBackwardWeight(Tensor dy, Tensor x) {
        return time("linearBackwardWeight", () -> inner.linearBackwardWeight(dy, x));
    }

    @Override
    public Tensor sumRows(Tensor x) {
        return time("sumRows", () -> inner.sumRows(x));
    }

    @Override
    public Tensor activationBackward(Tensor x, Tensor dy, Activation act) {
        return time("activationBackward", () -> inner.activationBackward(x, dy, act));
    }

    @Override
    public NormGrads layerNormModulateBackward(Tensor x, Tensor shift, Tensor scale, float eps, Tensor dy) {
        return time("layerNormModulateBackward", () -> inner.layerNormModulateBackward(x, shift, scale, eps, dy));
    }

    @Override
    public ConvGrads conv2dBackward(Tensor x, Tensor w, int stride, int[] padding, Tensor dy) {
        return time("conv2dBackward", () -> inner.conv2dBackward(x, w, stride, padding, dy));
    }

    @Override
    public NormGrads groupNormBackward(Tensor x, int groups, Tensor weight, float eps, Tensor dy) {
        return time("groupNormBackward", () -> inner.groupNormBackward(x, groups, weight, eps, dy));
    }

    @Override
    public Tensor upsampleNearest2xBackward(Tensor dy) {
        return time("upsampleNearest2xBackward", () -> inner.upsampleNearest2xBackward(dy));
    }

    @Override
    public NormGrads rmsNormBackward(Tensor x, Tensor scale, float eps, Tensor dy) {
        return time("rmsNormBackward", () -> inner.rmsNormBackward(x, scale, eps, dy));
    }

    @Override
    public Tensor ropeBackward(Tensor dy, Tensor pe) {
        return time("ropeBackward", () -> inner.ropeBackward(dy, pe));
    }

    @Override
    public Tensor[] gatedResidualBackward(Tensor gate, Tensor x, Tensor dOut) {
        return time("gatedResidualBackward", () -> inner.gatedResidualBackward(gate, x, dOut));
    }
}
