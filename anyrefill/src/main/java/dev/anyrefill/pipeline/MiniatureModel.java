package dev.anyrefill.pipeline;

import dev.anyrefill.weights.AutoEncoderShapes;
import dev.anyrefill.weights.FluxConfig;
import dev.anyrefill.weights.FluxShapes;
import dev.anyrefill.weights.SyntheticWeights;

/**
 * The untrained miniature ({@code demo --untrained}, the tests and the benchmarks; the demo's
 * default is the trained {@link TrainedMiniature}): FLUX.1-Fill's architecture (384 channels
 * in: noisy latent, masked image latent, mask; 64 out; head size 128, RoPE axes [16, 56, 56],
 * guidance embedding) at tiny widths, and FLUX's AutoEncoder at a small width, with weights generated from a fixed
 * seed. Nothing is downloaded; the model is untrained, so its pictures show the pipeline
 * working, not image quality.
 */
public final class MiniatureModel {
    /** Hidden 256, 2 heads, 2 double and 2 single blocks, text width 64, pooled width 32. */
    public static final FluxConfig CONFIG = new FluxConfig(384, 64, 32, 64, 256, 4.0, 2, 2, 2,
            new int[]{16, 56, 56}, 10000, true, true);
    /** Text tokens of the demo's generated prompt embedding. */
    public static final int TEXT_TOKENS = 16;
    private static final long SEED = 20250101L;

    private MiniatureModel() {
    }

    /** The transformer's weights (BFL names, BF16). */
    public static SyntheticWeights transformer() {
        return new SyntheticWeights(FluxShapes.of(CONFIG), SEED, "built-in miniature FLUX.1-Fill");
    }

    /** The AutoEncoder's weights: ch 32, ch_mult [1, 2, 2, 2], one res block, 16 latent channels. */
    public static SyntheticWeights autoEncoder() {
        return new SyntheticWeights(AutoEncoderShapes.of(32, new int[]{1, 2, 2, 2}, 1, 16, 3), SEED + 1,
                "built-in miniature AutoEncoder");
    }
}
