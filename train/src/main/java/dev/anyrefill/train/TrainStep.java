package dev.anyrefill.train;

import dev.anyrefill.dit.ActivationCheckpointing;
import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.dit.Gradients;
import dev.anyrefill.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One optimiser step on a batch (DESIGN.md's training data flow): per sample, the noisy latent
 * z_t, a training forward of the model on cat(z_t, img_cond), the rectified-flow loss and the
 * backward into the trained parameters; the batch loss is the mean of the samples' (their
 * gradients are accumulated sample by sample, which equals the batched mean). Then the
 * trained parameters' gradients are checked finite, optionally clipped by their global norm,
 * and AdamW steps.
 */
public final class TrainStep {
    /** One training sample: packed latents and conditioning of one canvas, and its noise and time. */
    public record Sample(
            Tensor x0,      // [N, 64] clean packed latent
            Tensor imgCond, // [N, 320] masked-image latent and mask (Fill), or null
            Tensor txt,     // [L, context]
            Tensor vec,     // [vecIn]
            Tensor noise,   // [N, 64]
            double t,       // in [0, 1], 1 = pure noise
            float[] lossWeights) { // [N] per-token weight of the loss (0 leaves a token out), or null for all

        /** A sample whose loss covers every token. */
        public Sample(Tensor x0, Tensor imgCond, Tensor txt, Tensor vec, Tensor noise, double t) {
            this(x0, imgCond, txt, vec, noise, t, null);
        }

        /** cat(z_t, img_cond) [N, 64 + 320]: what the transformer sees. */
        Tensor input(FluxModel model) {
            Tensor zt = RectifiedFlow.noisy(x0, noise, t);
            return imgCond == null ? zt : model.kernels().concatColumns(zt, imgCond);
        }
    }

    /** What a step computed: the batch loss, each sample's velocity, the gradients (before any clipping). */
    public record Result(double loss, List<Tensor> velocities, Map<String, Tensor> grads) {
        /** The global norm of the gradients of the given parameters: sqrt of the sum of their squares. */
        public double gradNorm(Set<String> parameters) {
            return TrainStep.gradNorm(grads, parameters);
        }
    }

    private TrainStep() {
    }

    /**
     * Forward and backward of the whole batch into grads (cleared first); no update.
     *
     * @param imgIds [N, axes], txtIds [L, axes]: the same for every sample
     * @param keep     what each sample's forward keeps for its backward (the gradients are the same either way)
     */
    public static Result gradients(FluxModel model, Tensor imgIds, Tensor txtIds, double guidance, List<Sample> batch,
                                   Gradients grads, ActivationCheckpointing keep) {
        grads.clear();
        double loss = 0;
        List<Tensor> velocities = new ArrayList<>();
        for (Sample s : batch) {
            FluxModel.Checkpoints c = model.forwardForTraining(s.input(model), imgIds, s.txt(), txtIds, s.t(), s.vec(),
                    guidance, keep);
            RectifiedFlow.Loss l = RectifiedFlow.loss(c.velocity(), s.x0(), s.noise(), s.lossWeights(), batch.size());
            loss += l.value() / batch.size();
            velocities.add(c.velocity());
            model.backward(c, l.dVelocity(), grads);
        }
        return new Result(loss, velocities, grads.all());
    }

    /** The sample's loss from a forward alone (validation: no activations kept, no gradients). */
    public static double loss(FluxModel model, Tensor imgIds, Tensor txtIds, double guidance, Sample s) {
        Tensor v = model.forward(s.input(model), imgIds, s.txt(), txtIds, s.t(), s.vec(), guidance,
                FluxModel.Trace.NONE);
        return RectifiedFlow.loss(v, s.x0(), s.noise(), s.lossWeights(), 1).value();
    }

    /**
     * The update after {@link #gradients}: an error naming the first non-finite tensor (loss or
     * gradient) before anything changes, then AdamW on the parameters with the gradients scaled
     * down to a global norm of {@code maxGradNorm} where it is exceeded (0 or less: no clipping).
     */
    public static void update(AdamW optimizer, Map<String, Tensor> parameters, Result r, double maxGradNorm,
                              int step) {
        update(optimizer, parameters, r, maxGradNorm, step, optimizer.settings().lr());
    }

    /** {@link #update} at the learning rate {@code lr} of a schedule. */
    public static void update(AdamW optimizer, Map<String, Tensor> parameters, Result r, double maxGradNorm,
                              int step, double lr) {
        update(optimizer, parameters, r.loss(), r.grads(), maxGradNorm, step, lr);
    }

    /** The update of any trained parameters (a LoRA's, a whole model's) from their loss and gradients. */
    public static void update(AdamW optimizer, Map<String, Tensor> parameters, double loss, Map<String, Tensor> grads,
                              double maxGradNorm, int step, double lr) {
        if (!Double.isFinite(loss)) {
            throw new NonFiniteException("step " + step + ": the loss is " + loss);
        }
        for (String name : parameters.keySet()) {
            Tensor g = grads.get(name);
            if (g != null && !allFinite(g)) {
                throw new NonFiniteException("step " + step + ": the gradient of " + name
                        + " is not finite (NaN or infinity)");
            }
        }
        double norm = gradNorm(grads, parameters.keySet());
        double scale = maxGradNorm > 0 && norm > maxGradNorm ? maxGradNorm / norm : 1;
        optimizer.step(parameters, grads, scale, lr);
        for (Map.Entry<String, Tensor> e : parameters.entrySet()) {
            if (!allFinite(e.getValue())) {
                throw new NonFiniteException("step " + step + ": parameter " + e.getKey() + " became non-finite");
            }
        }
    }

    /** The global norm of the named gradients: sqrt of the sum of their squares. */
    public static double gradNorm(Map<String, Tensor> grads, Set<String> parameters) {
        double s = 0;
        for (String name : parameters) {
            Tensor g = grads.get(name);
            if (g != null) {
                for (float x : g.data()) {
                    s += (double) x * x;
                }
            }
        }
        return Math.sqrt(s);
    }

    static boolean allFinite(Tensor t) {
        for (float x : t.data()) {
            if (!Float.isFinite(x)) {
                return false;
            }
        }
        return true;
    }

    /** Training produced a NaN or an infinity: the message names the step and the tensor. */
    public static final class NonFiniteException extends dev.anyrefill.tensor.Finite.NonFiniteException {
        public NonFiniteException(String message) {
            super(message);
        }
    }
}
