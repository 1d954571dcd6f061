package dev.anyrefill.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * The one thread pool of the pure-Java kernels, sized from the available processors unless
 * {@link #setThreads} (the CLI's {@code --threads}) or the system property
 * {@code anyrefill.threads} says otherwise.
 */
public final class Parallel {
    private static volatile ForkJoinPool pool = newPool(defaultThreads());

    private Parallel() {
    }

    private static int defaultThreads() {
        String prop = System.getProperty("anyrefill.threads");
        return prop != null ? Integer.parseInt(prop) : Runtime.getRuntime().availableProcessors();
    }

    private static ForkJoinPool newPool(int threads) {
        return new ForkJoinPool(Math.max(1, threads));
    }

    public static synchronized void setThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        ForkJoinPool old = pool;
        pool = newPool(threads);
        old.shutdown();
    }

    public static int threads() {
        return pool.getParallelism();
    }

    /** Runs body(i) for i in [0, n), split into at most a few chunks per thread. */
    public static void forRange(int n, IntConsumer body) {
        forChunks(n, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                body.accept(i);
            }
        });
    }

    /** A range [from, to) of work. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /**
     * Splits [0, n) into chunks of at least {@code minChunk} items, a few per thread, and runs
     * them on the pool; runs inline when there is one chunk or we are already on the pool.
     */
    public static void forChunks(int n, int minChunk, RangeBody body) {
        if (n <= 0) {
            return;
        }
        ForkJoinPool p = pool;
        int threads = p.getParallelism();
        int chunks = Math.min(Math.max(1, n / Math.max(1, minChunk)), threads * 4);
        if (chunks <= 1 || threads == 1 || ForkJoinTask.inForkJoinPool()) {
            body.run(0, n);
            return;
        }
        List<ForkJoinTask<?>> tasks = new ArrayList<>(chunks);
        for (int c = 0; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks);
            int to = (int) ((long) n * (c + 1) / chunks);
            tasks.add(p.submit(() -> body.run(from, to)));
        }
        for (ForkJoinTask<?> t : tasks) {
            t.join();
        }
    }
}
