package dev.anyrefill.kernels;

import dev.anyrefill.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Wraps a backend and adds up the wall time and calls of each operation, for the benchmarks'
 * per-operation breakdown. Scopes pass through untimed: a backend that defers its work (tornado,
 * inside a scope) is timed where the host first reads a result, not where each operation is
 * asked for. Not thread-safe across concurrent callers: a model runs its
 * operations one after another and parallelises inside them.
 */
public final class TimingKernels extends ForwardingKernels {
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
        super(inner);
        this.afterEach = afterEach;
    }

    /** Operation name to time and calls, in order of first use. */
    public Map<String, Entry> entries() {
        return entries;
    }

    public void reset() {
        entries.clear();
    }

    @Override
    protected <T> T call(String op, Supplier<T> body) {
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
}
