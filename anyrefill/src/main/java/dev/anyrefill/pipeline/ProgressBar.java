package dev.anyrefill.pipeline;

import dev.anyrefill.sampler.Euler;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress bar over steps (the denoising's, or training's) with seconds per step and the
 * time left. On a terminal it redraws one line; otherwise (logs, pipes) it prints a line per
 * step.
 */
public final class ProgressBar implements Euler.StepListener {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final boolean redraw;
    private final String label;
    private final int firstStep;
    /** Off a terminal, at most one line per this many seconds (and the last step's). */
    static final double LOG_INTERVAL_SECONDS = 5;
    private final long start = System.nanoTime();
    private final java.util.function.LongSupplier clock;
    private long lastLine = Long.MIN_VALUE;

    /**
     * @param firstStep the step count when the bar starts (a resumed run's), so the speed and
     *                  the time left count this run's steps only
     */
    public ProgressBar(PrintStream out, boolean redraw, String label, int firstStep) {
        this(out, redraw, label, firstStep, System::nanoTime);
    }

    /** @param clock nanoseconds, for the pace of lines off a terminal (a test's clock) */
    ProgressBar(PrintStream out, boolean redraw, String label, int firstStep, java.util.function.LongSupplier clock) {
        this.clock = clock;
        this.out = out;
        this.redraw = redraw;
        this.label = label;
        this.firstStep = firstStep;
    }

    /** The denoising's bar on standard error, redrawn in place when a console is attached. */
    public static ProgressBar onStderr() {
        return onStderr("denoise", 0);
    }

    /** A bar on standard error, redrawn in place when a console is attached. */
    public static ProgressBar onStderr(String label, int firstStep) {
        return new ProgressBar(System.err, System.console() != null, label, firstStep);
    }

    @Override
    public void afterStep(int step, int steps, double t, double tNext) {
        show(step, steps, "");
    }

    /** The bar after {@code step} of {@code steps}, with {@code detail} (a loss) after the count. */
    public void show(int step, int steps, String detail) {
        double elapsed = (System.nanoTime() - start) / 1e9;
        double perStep = elapsed / Math.max(1, step - firstStep);
        double left = perStep * (steps - step);
        int filled = (int) Math.round(WIDTH * (double) step / steps);
        String bar = String.format(Locale.ROOT, "%s |%s%s| %d/%d%s  %.2f s/step  ETA %s", label,
                "#".repeat(filled), ".".repeat(WIDTH - filled), step, steps, detail.isEmpty() ? "" : "  " + detail,
                perStep, clock(left));
        if (redraw) {
            out.print("\r" + bar + (step == steps ? System.lineSeparator() : ""));
        } else {
            long now = clock.getAsLong();
            if (step != steps && lastLine != Long.MIN_VALUE && now - lastLine < LOG_INTERVAL_SECONDS * 1e9) {
                return; // a log of 100,000 steps gets a line every few seconds, not 100,000
            }
            lastLine = now;
            out.println(bar);
        }
        out.flush();
    }

    private static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
