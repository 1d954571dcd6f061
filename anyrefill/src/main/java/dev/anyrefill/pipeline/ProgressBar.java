package dev.anyrefill.pipeline;

import dev.anyrefill.sampler.Euler;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress bar over the denoising steps with seconds per step and the time left. On a
 * terminal it redraws one line; otherwise (logs, pipes) it prints a line per step.
 */
public final class ProgressBar implements Euler.StepListener {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final boolean redraw;
    private final long start = System.nanoTime();

    public ProgressBar(PrintStream out, boolean redraw) {
        this.out = out;
        this.redraw = redraw;
    }

    /** A bar on standard error, redrawn in place when a console is attached. */
    public static ProgressBar onStderr() {
        return new ProgressBar(System.err, System.console() != null);
    }

    @Override
    public void afterStep(int step, int steps, double t, double tNext) {
        double elapsed = (System.nanoTime() - start) / 1e9;
        double perStep = elapsed / step;
        double left = perStep * (steps - step);
        int filled = (int) Math.round(WIDTH * (double) step / steps);
        String bar = String.format(Locale.ROOT, "denoise |%s%s| %d/%d  %.2f s/step  ETA %s",
                "#".repeat(filled), ".".repeat(WIDTH - filled), step, steps, perStep, clock(left));
        if (redraw) {
            out.print("\r" + bar + (step == steps ? System.lineSeparator() : ""));
        } else {
            out.println(bar);
        }
        out.flush();
    }

    private static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
