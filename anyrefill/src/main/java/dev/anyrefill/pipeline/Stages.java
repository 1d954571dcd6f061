package dev.anyrefill.pipeline;

import java.io.PrintStream;
import java.util.function.Supplier;

/** Prints the wall time of each stage of a command ("load model: 0.42 s"). */
public final class Stages {
    private final PrintStream out;

    public Stages(PrintStream out) {
        this.out = out;
    }

    public <T> T time(String stage, Supplier<T> work) {
        long start = System.nanoTime();
        T result = work.get();
        out.printf("%s: %.3f s%n", stage, (System.nanoTime() - start) / 1e9);
        return result;
    }

    public void time(String stage, Runnable work) {
        time(stage, () -> {
            work.run();
            return null;
        });
    }
}
