package dev.anyrefill.cli;

import java.io.PrintStream;
import java.util.function.Supplier;

/** Prints the wall time of each stage of a command ("load model: 0.42 s"). */
final class Stages {
    private final PrintStream out;

    Stages(PrintStream out) {
        this.out = out;
    }

    <T> T time(String stage, Supplier<T> work) {
        long start = System.nanoTime();
        T result = work.get();
        out.printf("%s: %.3f s%n", stage, (System.nanoTime() - start) / 1e9);
        return result;
    }

    void time(String stage, Runnable work) {
        time(stage, () -> {
            work.run();
            return null;
        });
    }
}
