package dev.anyrefill.cli;

/**
 * While switched on, after every kernel operation (a {@link dev.anyrefill.kernels.TimingKernels}
 * hook): a full garbage collection, then the heap in use. The maximum is the live set's peak at
 * operation boundaries: what a piece of work needs, short of kernel-internal scratch, without
 * the garbage a heap peak also counts. Slow (a collection per operation), so used on one extra
 * step after the timed ones.
 */
final class LiveHeapProbe implements Runnable {
    private boolean on;
    private long baseline;
    private long max;

    /** Starts measuring: a full collection, whose heap in use is the baseline. */
    void start() {
        System.gc();
        baseline = HeapPeak.heapUsed();
        max = baseline;
        on = true;
    }

    void stop() {
        on = false;
    }

    @Override
    public void run() {
        if (on) {
            System.gc();
            max = Math.max(max, HeapPeak.heapUsed());
        }
    }

    /** Heap in use after the collection at {@link #start}. */
    long baseline() {
        return baseline;
    }

    /** The largest live heap seen, above the baseline. */
    long peakAboveBaseline() {
        return max - baseline;
    }
}
