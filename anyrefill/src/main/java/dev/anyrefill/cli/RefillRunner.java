package dev.anyrefill.cli;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.pipeline.Canvas;
import dev.anyrefill.pipeline.LpgImages;
import dev.anyrefill.pipeline.ProgressBar;
import dev.anyrefill.pipeline.RefillPipeline;
import dev.anyrefill.pipeline.Stages;
import dev.anyrefill.tensor.Tensor;

import java.nio.file.Path;
import java.util.Map;

/**
 * The stages of one LPG run shared by {@code refill} and {@code demo}: canvas, Fill
 * conditioning, denoising with a progress bar, decoding, the answer; each stage timed.
 */
final class RefillRunner {
    /** What the run made. */
    record Result(Canvas canvas, Tensor decoded, Tensor answer) {
    }

    private RefillRunner() {
    }

    static Result run(RefillPipeline pipeline, LpgImages images, boolean swap, Tensor txt, Tensor vec,
                      NoiseSource noise, int steps, double guidance, boolean pasteBack, Stages stages) {
        Canvas canvas = Canvas.of(images.reference(), images.target(), images.targetMask(), swap);
        Tensor imgCond = stages.time("encode (VAE, Fill conditioning)", () -> pipeline.condition(canvas));
        Tensor start = noise.noise(pipeline.noiseShape(canvas));
        Tensor packed = stages.time("denoise " + steps + " steps", () -> pipeline.denoise(canvas, imgCond, start,
                txt, vec, steps, guidance, ProgressBar.onStderr()));
        Tensor decoded = stages.time("decode (VAE)", () -> pipeline.decode(canvas, packed));
        return new Result(canvas, decoded, RefillPipeline.answer(canvas, decoded, pasteBack));
    }

    /** The starting noise for a canvas, given the shape the canvas needs. */
    @FunctionalInterface
    interface NoiseSource {
        Tensor noise(int[] shape);
    }

    /** Writes an image with the run's metadata, refusing to write over an input. */
    static void writeImage(Path file, Tensor image, Map<String, String> metadata, Path... inputs) {
        Outputs.requireNotInput(file, inputs);
        ImageFiles.writeImage(file, image, file.toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png") ? metadata : Map.of());
    }
}
