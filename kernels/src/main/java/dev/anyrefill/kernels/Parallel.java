package dev.anyrefill.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
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
        forChunks(n, 1, eachOf(body));
    }

    /** body(i) for every i of a chunk. */
    private static RangeBody eachOf(IntConsumer body) {
        return (from, to) -> {
            for (int i = from; i < to; i++) {
                body.accept(i);
            }
        };
    }

    /** A range [from, to) of work. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    /**
     * Splits [0, n) into chunks of at least {@code minChunk} items, several per thread, and runs
     * them on the calling thread and {@code threads - 1} pool workers, each taking the next
     * chunk as it finishes one (so a thread slowed down by another process costs at most a
     * chunk at the end, and no more threads than {@code threads} compute at once). Runs inline
     * when there is one chunk or we are already on the pool.
     */
    public static void forChunks(int n, int minChunk, RangeBody body) {
        int threads = pool.getParallelism();
        run(n, Math.min(Math.max(1, n / Math.max(1, minChunk)), threads * 8), body);
    }

    /**
     * Runs body(i) for i in [0, n), each item a chunk of its own, claimed one at a time: for a
     * few large items whose count was chosen to split evenly over the threads (a GEMM's tiles),
     * which {@link #forChunks}' grouping into at most eight chunks per thread would unbalance.
     */
    public static void forEach(int n, IntConsumer body) {
        run(n, n, eachOf(body));
    }

    /** Runs [0, n) in {@code chunks} chunks on the caller and the pool's workers. */
    private static void run(int n, int chunks, RangeBody body) {
        if (n <= 0) {
            return;
        }
        ForkJoinPool p = pool;
        int threads = p.getParallelism();
        if (chunks <= 1 || threads == 1 || ForkJoinTask.inForkJoinPool()) {
            body.run(0, n);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable share = () -> {
            for (int c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
                body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
            }
        };
        int helpers = Math.min(threads, chunks) - 1;
        List<ForkJoinTask<?>> tasks = new ArrayList<>(helpers);
        for (int i = 0; i < helpers; i++) {
            tasks.add(p.submit(share));
        }
        Throwable failure = null;
        try {
            share.run();
        } catch (RuntimeException | Error e) {
            failure = e;
            next.set(chunks); // let the helpers stop early
        }
        for (ForkJoinTask<?> t : tasks) {
            try {
                t.join();
            } catch (RuntimeException | Error e) {
                if (failure == null) {
                    failure = e;
                }
            }
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        }
        if (failure instanceof Error er) {
            throw er;
        }
    }
}
