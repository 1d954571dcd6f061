package dev.anyrefill.train;

import java.util.Locale;

/**
 * The learning rate at each step: a linear warm-up from 0 over the first {@code warmupSteps},
 * then constant or a cosine decay to 0 at {@code totalSteps} (the schedules of diffusers'
 * get_scheduler that the LoRA trainers expose).
 */
public record LearningRateSchedule(double peak, Shape shape, int warmupSteps, int totalSteps) {
    /** After the warm-up. */
    public enum Shape {
        CONSTANT, COSINE;

        public static Shape fromCliName(String name) {
            for (Shape s : values()) {
                if (s.name().toLowerCase(Locale.ROOT).equals(name)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("--lr-schedule '" + name + "': one of constant, cosine");
        }
    }

    public LearningRateSchedule {
        if (warmupSteps < 0 || totalSteps < 1) {
            throw new IllegalArgumentException("warm-up steps must be >= 0 and total steps >= 1, got " + warmupSteps
                    + " and " + totalSteps);
        }
    }

    /** The rate of step {@code step} (0-based: the first update is step 0). */
    public double at(int step) {
        if (step < warmupSteps) {
            return peak * (step + 1) / (warmupSteps + 1);
        }
        if (shape == Shape.CONSTANT) {
            return peak;
        }
        double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        return peak * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
    }
}
