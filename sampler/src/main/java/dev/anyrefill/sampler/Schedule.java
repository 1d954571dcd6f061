package dev.anyrefill.sampler;

/**
 * BFL's {@code get_schedule}: time runs from 1 (noise) to 0 (image) in equal steps, then is
 * shifted towards 1 by an amount that grows with the image's token count, because larger
 * images keep their structure longer under the same noise level.
 */
public final class Schedule {
    /** mu at 256 image tokens. */
    public static final double BASE_SHIFT = 0.5;
    /** mu at 4096 image tokens. */
    public static final double MAX_SHIFT = 1.15;
    static final double BASE_TOKENS = 256;
    static final double MAX_TOKENS = 4096;

    private Schedule() {
    }

    /** The steps + 1 times of a run: linspace(1, 0, steps + 1), time-shifted when {@code shift}. */
    public static double[] schedule(int steps, int imageTokens, boolean shift) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1, got " + steps);
        }
        double mu = mu(imageTokens);
        double[] t = new double[steps + 1];
        for (int i = 0; i <= steps; i++) {
            double linear = 1.0 - (double) i / steps;
            t[i] = shift ? timeShift(mu, 1.0, linear) : linear;
        }
        return t;
    }

    /** The linear function through (256, 0.5) and (4096, 1.15), at the image token count. */
    public static double mu(int imageTokens) {
        double m = (MAX_SHIFT - BASE_SHIFT) / (MAX_TOKENS - BASE_TOKENS);
        double b = BASE_SHIFT - m * BASE_TOKENS;
        return m * imageTokens + b;
    }

    /** e^mu / (e^mu + (1/t - 1)^sigma); 0 at t = 0 and 1 at t = 1. */
    public static double timeShift(double mu, double sigma, double t) {
        if (t <= 0) {
            return 0.0; // 1/t - 1 is infinite: the limit
        }
        double e = Math.exp(mu);
        return e / (e + Math.pow(1.0 / t - 1.0, sigma));
    }
}
