package dev.anyrefill.sampler;

import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.GoldenFile;

/** The reference's denoising run (expected.safetensors: 4 steps, 32 image tokens, guidance 30) on a model. */
final class GoldenDenoise {
    private GoldenDenoise() {
    }

    /** Denoises the reference's noise beside its img_cond; returns the packed latent (denoise.packed). */
    static Tensor denoise(FluxModel model, GoldenFile expected) {
        Tensor txt = expected.get("txt").toF32();
        Tensor vec = expected.get("vec").toF32();
        Tensor imgIds = PositionIds.image(4, 8);
        Tensor txtIds = PositionIds.text(txt.dim(0));
        VelocityModel velocity = (img, t, guidance) ->
                model.forward(img, imgIds, txt, txtIds, t, vec, guidance, FluxModel.Trace.NONE);
        double[] timesteps = Schedule.schedule(4, 32, true);
        return Euler.denoise(model.kernels(), velocity, Packing.pack(expected.get("noise")),
                expected.get("img_cond").toF32(), timesteps, 30.0, Euler.StepListener.NONE);
    }
}
