package dev.anyrefill.train;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How a training step draws its time t in (0, 1) (1 = pure noise), as the established FLUX
 * trainers do. {@code sigmoid}: t = sigmoid(s z) with z ~ N(0, 1), which concentrates steps
 * around t = 0.5 (kohya's, ai-toolkit's and the Fill diptych trainers' default);
 * {@code logit-normal}: t = sigmoid(mean + std z), the SD3 paper's; {@code uniform}: t ~ U(0, 1).
 * Then the optional shift S of FLUX's schedule: t' = S t / (1 + (S - 1) t), which moves steps
 * towards noise for large images (S = e^mu is what sampling uses at that token count).
 *
 * @param kind  the distribution
 * @param scale the sigmoid's s, or the logit-normal's std
 * @param mean  the logit-normal's mean (0 for the others)
 * @param shift S; 1 leaves t as drawn
 */
public record TimestepSampler(Kind kind, double scale, double mean, double shift) {
    /** The distributions, by their command-line names. */
    public enum Kind {
        SIGMOID, UNIFORM, LOGIT_NORMAL;

        public String cliName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        public static Kind fromCliName(String name) {
            for (Kind k : values()) {
                if (k.cliName().equals(name)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("--timestep-sampling '" + name + "': one of sigmoid, uniform, logit-normal");
        }
    }

    public TimestepSampler {
        if (!(scale > 0) || Double.isInfinite(scale) || !Double.isFinite(mean)) {
            throw new IllegalArgumentException("timestep sampling: the scale must be positive and finite and the mean "
                    + "finite, got scale " + scale + ", mean " + mean);
        }
        if (!(shift > 0) || Double.isInfinite(shift)) {
            throw new IllegalArgumentException("--shift must be a positive finite number, got " + shift);
        }
    }

    /** One t in (0, 1) from rnd. */
    public double sample(SplittableRandom rnd) {
        double t = switch (kind) {
            case UNIFORM -> rnd.nextDouble();
            case SIGMOID -> sigmoid(scale * gaussian(rnd));
            case LOGIT_NORMAL -> sigmoid(mean + scale * gaussian(rnd));
        };
        return shifted(t);
    }

    /** S t / (1 + (S - 1) t): equal to FLUX's time_shift(log S, 1, t). */
    public double shifted(double t) {
        return shift * t / (1 + (shift - 1) * t);
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    /** A standard normal by Box-Muller (two uniforms per draw, so a seed fixes it everywhere). */
    private static double gaussian(SplittableRandom rnd) {
        double u1 = 1 - rnd.nextDouble(); // (0, 1]: the log stays finite
        double u2 = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
