package dev.anyrefill.pipeline;

import java.io.PrintStream;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Prints the wall time of each stage of a command ("load model: 0.42 s"), and while a stage runs
 * long (the VAE on a large canvas runs for minutes), a line every {@link #HEARTBEAT_SECONDS}
 * saying it is still running, so no stage is silent for long.
 */
public final class Stages {
    /** Seconds between the "still running" lines of a long stage. */
    static final long HEARTBEAT_SECONDS = 30;
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "anyrefill-stage-heartbeat");
        t.setDaemon(true);
        return t;
    });

    private final PrintStream out;
    private final long heartbeatMillis;

    public Stages(PrintStream out) {
        this(out, HEARTBEAT_SECONDS * 1000);
    }

    Stages(PrintStream out, long heartbeatMillis) {
        this.out = out;
        this.heartbeatMillis = heartbeatMillis;
    }

    public <T> T time(String stage, Supplier<T> work) {
        long start = System.nanoTime();
        ScheduledFuture<?> heartbeat = TIMER.scheduleAtFixedRate(() -> out.printf("%s: still running, %.0f s so far%n",
                stage, (System.nanoTime() - start) / 1e9), heartbeatMillis, heartbeatMillis, TimeUnit.MILLISECONDS);
        try {
            T result = work.get();
            heartbeat.cancel(false);
            out.printf("%s: %.3f s%n", stage, (System.nanoTime() - start) / 1e9);
            return result;
        } finally {
            heartbeat.cancel(false);
        }
    }

    public void time(String stage, Runnable work) {
        time(stage, () -> {
            work.run();
            return null;
        });
    }
}
