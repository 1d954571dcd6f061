package dev.anyrefill.sampler;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Finite;
import dev.anyrefill.tensor.Tensor;

/**
 * BFL's {@code denoise}: rectified-flow integration with Euler steps,
 * {@code x += (t_next - t) * v(x, t)}, at a guidance value constant over the steps. For FLUX
 * Fill the model sees {@code cat(x, img_cond)} along channels at every step.
 */
public final class Euler {
    /** Told after each step (progress, timings). */
    @FunctionalInterface
    public interface StepListener {
        StepListener NONE = (step, steps, t, tNext) -> {
        };

        void afterStep(int step, int steps, double t, double tNext);
    }

    private Euler() {
    }

    /**
     * Integrates img [N, C] from timesteps[0] to the last timestep.
     *
     * @param imgCond [N, Cc] channels appended at every step (Fill), or null
     * @return a new tensor [N, C]; img is not modified
     */
    public static Tensor denoise(Kernels k, VelocityModel model, Tensor img, Tensor imgCond, double[] timesteps,
                                 double guidance, StepListener listener) {
        if (imgCond != null && imgCond.rows() != img.rows()) {
            throw new IllegalArgumentException("img_cond has " + imgCond.rows() + " tokens, the image has "
                    + img.rows());
        }
        Tensor x = img.toF32(); // our own copy: the steps update it in place
        int steps = timesteps.length - 1;
        for (int i = 0; i < steps; i++) {
            double t = timesteps[i];
            double tNext = timesteps[i + 1];
            Tensor input = imgCond == null ? x : k.concatColumns(x, imgCond); // [N, C + Cc]
            Tensor v = model.velocity(input, t, guidance);                     // [N, C]
            if (v.rows() != x.rows() || v.cols() != x.cols()) {
                throw new IllegalArgumentException("the model's velocity " + v + " does not match the image " + x);
            }
            k.axpyInPlace(x, (float) (tNext - t), v);
            Finite.require(x, "denoising step " + (i + 1) + " of " + steps + ": the latent", "NaN or infinity in the "
                    + "transformer's or a LoRA's weights, a LoRA weight far too large, or a non-finite guidance");
            listener.afterStep(i + 1, steps, t, tNext);
        }
        return x;
    }
}
