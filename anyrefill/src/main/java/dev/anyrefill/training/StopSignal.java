package dev.anyrefill.training;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C during training: the JVM's shutdown hook only raises a flag and waits (up to ten
 * minutes) while the training loop, which checks the flag after every step, saves a
 * checkpoint and returns. The step in flight is finished first: a checkpoint is always of a
 * whole step.
 */
final class StopSignal implements AutoCloseable {
    private static final long WAIT_MINUTES = 10;
    private final CountDownLatch saved = new CountDownLatch(1);
    private final Thread hook;
    private volatile boolean requested;

    StopSignal() {
        hook = new Thread(() -> {
            requested = true;
            System.err.println("\nstopping: finishing the current step and saving a checkpoint");
            try {
                saved.await(WAIT_MINUTES, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "anyrefill-train-stop");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    boolean requested() {
        return requested;
    }

    /** The loop is done (saved or finished): the JVM may exit. */
    @Override
    public void close() {
        saved.countDown();
        if (!requested) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down: the hook has been released above
            }
        }
    }
}
