package dev.anyrefill.pipeline;

import java.io.PrintStream;
import java.util.function.LongSupplier;

/** A progress bar off a terminal with a test's clock (the constructor that takes one is package-private). */
public final class ProgressBarProbe {
    private final ProgressBar bar;

    public ProgressBarProbe(PrintStream out, LongSupplier clock) {
        bar = new ProgressBar(out, false, "denoise", 0, clock);
    }

    public void afterStep(int step, int steps, double t, double tNext) {
        bar.afterStep(step, steps, t, tNext);
    }
}
