package dev.anyrefill.train;

import dev.anyrefill.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter), exactly as {@code torch.optim.AdamW} steps: the weight decay
 * is decoupled ({@code p -= lr * wd * p}, not added to the gradient), then
 * <pre>
 *   m = b1 m + (1 - b1) g,   v = b2 v + (1 - b2) g^2
 *   p -= lr * (m / (1 - b1^k)) / (sqrt(v / (1 - b2^k)) + eps)       at step k = 1, 2, ...
 * </pre>
 * The moments are F32 on the heap, one pair per parameter, created at the first step.
 */
public final class AdamW {
    /** The optimiser's settings. */
    public record Settings(double lr, double beta1, double beta2, double eps, double weightDecay) {
        public Settings {
            requirePositive("learning rate", lr);
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("beta1 and beta2 must be in [0, 1), got " + beta1 + " and " + beta2);
            }
            requirePositive("eps", eps);
            if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
                throw new IllegalArgumentException("weight decay must be a finite number >= 0, got " + weightDecay);
            }
        }

        /** torch's defaults with the given learning rate: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
        public static Settings defaults(double lr) {
            return new Settings(lr, 0.9, 0.999, 1e-8, 0.01);
        }

        private static void requirePositive(String what, double x) {
            if (!(x > 0) || Double.isInfinite(x)) {
                throw new IllegalArgumentException(what + " must be a positive finite number, got " + x);
            }
        }
    }

    private final Settings settings;
    private final Map<String, float[]> m = new LinkedHashMap<>();
    private final Map<String, float[]> v = new LinkedHashMap<>();
    private int step;

    public AdamW(Settings settings) {
        this.settings = settings;
    }

    public Settings settings() {
        return settings;
    }

    /** Steps taken so far. */
    public int steps() {
        return step;
    }

    /**
     * One step: every parameter (heap F32, updated in place) with its gradient, times
     * {@code gradScale} (1, or the factor of gradient-norm clipping). A parameter without a
     * gradient is an error: the backward did not reach it.
     */
    public void step(Map<String, Tensor> parameters, Map<String, Tensor> grads, double gradScale) {
        step(parameters, grads, gradScale, settings.lr());
    }

    /** One step at learning rate {@code lr} (a schedule's value) instead of the settings' own. */
    public void step(Map<String, Tensor> parameters, Map<String, Tensor> grads, double gradScale, double lr) {
        step++;
        double b1 = settings.beta1();
        double b2 = settings.beta2();
        double correction1 = 1 - Math.pow(b1, step);
        double correction2 = 1 - Math.pow(b2, step);
        double decay = 1 - lr * settings.weightDecay();
        for (Map.Entry<String, Tensor> e : parameters.entrySet()) {
            Tensor g = grads.get(e.getKey());
            if (g == null) {
                throw new IllegalStateException("no gradient reached parameter " + e.getKey());
            }
            float[] p = e.getValue().data();
            float[] gr = g.data();
            float[] mm = m.computeIfAbsent(e.getKey(), k -> new float[p.length]);
            float[] vv = v.computeIfAbsent(e.getKey(), k -> new float[p.length]);
            for (int i = 0; i < p.length; i++) {
                double gi = gr[i] * gradScale;
                mm[i] = (float) (b1 * mm[i] + (1 - b1) * gi);
                vv[i] = (float) (b2 * vv[i] + (1 - b2) * gi * gi);
                double denom = Math.sqrt(vv[i] / correction2) + settings.eps();
                p[i] = (float) (p[i] * decay - lr * (mm[i] / correction1) / denom);
            }
        }
    }

    /** What resuming needs: the step count and both moments per parameter (the live arrays). */
    public record State(int steps, Map<String, float[]> firstMoments, Map<String, float[]> secondMoments) {
    }

    public State state() {
        return new State(step, m, v);
    }

    /** Continues from a saved state: its step count and moments replace this optimiser's. */
    public void restore(State saved) {
        if (!saved.firstMoments().keySet().equals(saved.secondMoments().keySet())) {
            throw new IllegalArgumentException("optimiser state: the first and second moments name different parameters");
        }
        step = saved.steps();
        m.clear();
        v.clear();
        saved.firstMoments().forEach((name, a) -> m.put(name, a.clone()));
        saved.secondMoments().forEach((name, a) -> v.put(name, a.clone()));
    }
}
