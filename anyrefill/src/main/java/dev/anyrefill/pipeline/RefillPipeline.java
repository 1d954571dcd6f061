package dev.anyrefill.pipeline;

import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.sampler.Euler;
import dev.anyrefill.sampler.Packing;
import dev.anyrefill.sampler.PositionIds;
import dev.anyrefill.sampler.Schedule;
import dev.anyrefill.sampler.VelocityModel;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.vae.AutoEncoder;
import dev.anyrefill.vae.Tiling;
import dev.anyrefill.weights.FluxConfig;

import java.util.Arrays;

/**
 * One LPG run, stage by stage (BFL's Fill sampling on the stitched canvas): {@link #condition}
 * encodes {@code canvas * (1 - mask)} and the mask into img_cond, {@link #denoise} integrates
 * the packed noise with the transformer, {@link #decode} turns the latent back into the
 * canvas, whose target half is the answer. The stages are separate so a caller can time,
 * report or replace each.
 */
public final class RefillPipeline {
    private final FluxModel model;
    private final AutoEncoder ae;
    private final Tiling tiling;

    /** @param tiling null encodes and decodes the canvas whole; else tile by tile */
    public RefillPipeline(FluxModel model, AutoEncoder ae, Tiling tiling) {
        this.model = model;
        this.ae = ae;
        this.tiling = tiling;
        int latentChannels = ae.params().zChannels();
        if (model.config().outChannels() != 4 * latentChannels) {
            throw new IllegalArgumentException("the transformer paints " + model.config().outChannels()
                    + " channels per token, the VAE's latent packs to " + 4 * latentChannels);
        }
    }

    /** img_cond [(H/16)(2W/16), 320]: the packed latent of the visible canvas and the packed mask. */
    public Tensor condition(Canvas canvas) {
        Tensor cond = FillConditioning.prepare(ae, canvas.image(), canvas.mask(), tiling);
        int expected = model.config().inChannels() - model.config().outChannels();
        if (cond.cols() != expected) {
            throw new IllegalArgumentException("the Fill conditioning has " + cond.cols()
                    + " channels, the transformer takes " + expected + " beside the image");
        }
        return cond;
    }

    /** The noise shape for a canvas: [z channels, H/8, 2W/8]. */
    public int[] noiseShape(Canvas canvas) {
        return new int[]{ae.params().zChannels(), canvas.height() / 8, canvas.image().dim(2) / 8};
    }

    /**
     * Euler integration of the packed noise from t = 1 to 0 on the shifted schedule, the
     * transformer seeing cat(img, img_cond) at every step; returns the packed latent [N, 64].
     *
     * @param txt [L, context] text embeddings; vec [vec dim] the pooled vector
     */
    public Tensor denoise(Canvas canvas, Tensor imgCond, Tensor noise, Tensor txt, Tensor vec, int steps,
                          double guidance, Euler.StepListener listener) {
        FluxConfig c = model.config();
        int[] shape = noiseShape(canvas);
        if (!Arrays.equals(noise.shape(), shape)) {
            throw new IllegalArgumentException("the noise is " + Arrays.toString(noise.shape())
                    + ", the canvas needs " + Arrays.toString(shape));
        }
        if (txt.rank() != 2 || txt.dim(1) != c.contextInDim()) {
            throw new IllegalArgumentException("the text embeddings 'txt' are " + Arrays.toString(txt.shape())
                    + ", this model takes [L, " + c.contextInDim() + "]");
        }
        if (vec.size() != c.vecInDim()) {
            throw new IllegalArgumentException("the pooled vector 'vec' is " + Arrays.toString(vec.shape())
                    + ", this model takes [" + c.vecInDim() + "]");
        }
        int rows = shape[1] / 2;
        int cols = shape[2] / 2;                         // the ids run over the whole canvas
        Tensor imgIds = PositionIds.image(rows, cols);     // [N, 3]
        Tensor txtIds = PositionIds.text(txt.dim(0));      // [L, 3]
        Tensor y = vec.reshape(c.vecInDim());
        double[] timesteps = Schedule.schedule(steps, rows * cols, true);
        VelocityModel velocity = (img, t, g) -> model.forward(img, imgIds, txt, txtIds, t, y, g, FluxModel.Trace.NONE);
        return Euler.denoise(model.kernels(), velocity, Packing.pack(noise), imgCond, timesteps, guidance, listener);
    }

    /** The packed latent back to the canvas image [3, H, 2W] in [-1, 1] (unclamped). */
    public Tensor decode(Canvas canvas, Tensor packed) {
        int[] shape = noiseShape(canvas);
        Tensor latent = Packing.unpack(packed, shape[1], shape[2]); // [16, H/8, 2W/8]
        return tiling == null ? ae.decode(latent) : tiling.decode(ae, latent);
    }

    /**
     * The answer: the target half of the decoded canvas, or with {@code pasteBack} the painted
     * pixels only where the mask is set and the target's own elsewhere.
     */
    public static Tensor answer(Canvas canvas, Tensor decoded, boolean pasteBack) {
        Tensor painted = canvas.targetHalf(decoded);
        if (!pasteBack) {
            return painted;
        }
        return Canvas.pasteBack(painted, canvas.targetHalf(canvas.image()), canvas.targetHalf(canvas.mask()));
    }
}
