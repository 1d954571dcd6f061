package dev.anyrefill.training;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.ImageOps;
import dev.anyrefill.image.Pixels;
import dev.anyrefill.pipeline.FillConditioning;
import dev.anyrefill.pipeline.LpgImages;
import dev.anyrefill.sampler.Packing;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.vae.AutoEncoder;
import dev.anyrefill.weights.SafetensorsWriter;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The latents of single images for FLUX.Fill's own pretraining (inpainting, before any LPG
 * task): per image {@code x0} [N, 64] of the image itself and {@code masksPerImage} Fill
 * conditions under masks of {@link RandomMasks#fill}'s mix, drawn once and cached like the
 * pairs' latents. The entry's half width is half the image's, so the training set measures a
 * single image as it measures an LPG canvas.
 */
public final class SingleImageLatents {
    private final Path dir;
    private final AutoEncoder ae;
    private final LpgImages.Size size;
    private final int masksPerImage;
    private final long seed;
    private final String aeFingerprint;
    private final PrintStream log;

    public SingleImageLatents(Path dir, AutoEncoder ae, LpgImages.Size size, int masksPerImage, long seed,
                              String aeFingerprint, PrintStream log) {
        this.dir = dir;
        this.ae = ae;
        this.size = size;
        this.masksPerImage = masksPerImage;
        this.seed = seed;
        this.aeFingerprint = aeFingerprint;
        this.log = log;
    }

    public LatentCache.Entry get(PairsFolder.Pair image) {
        ContentHash key = new ContentHash("single-image-latents-v1").file(image.target()).text(String.valueOf(size))
                .text(masksPerImage + " masks, seed " + seed + ", image " + image.name()).text(aeFingerprint);
        Path file = dir.resolve("image-" + key.hex() + ".safetensors");
        if (Files.exists(file)) {
            return LatentCache.Entry.cached(file);
        }
        Pixels px = ImageFiles.readRgb(image.target());
        if (size != null) {
            px = ImageOps.resize(px, size.height(), size.width());
        }
        int m = FillConditioning.MULTIPLE;
        if (px.height() % m != 0 || px.width() % m != 0) {
            throw new IllegalArgumentException(image.target() + ": the image is " + px.size() + "; Fill training needs "
                    + "sides that are multiples of " + m + " (give --size HxW)");
        }
        Tensor x = ImageFiles.toTensor(px);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("x0", Packing.pack(ae.encode(x)));
        SplittableRandom rnd = new SplittableRandom(Seeds.of(seed, "fill masks of " + image.name()));
        for (int k = 0; k < masksPerImage; k++) {
            tensors.put("img_cond." + k, FillConditioning.prepare(ae, x, RandomMasks.fill(rnd, px.height(), px.width()), null));
        }
        SafetensorsWriter.write(file, tensors, Map.of("image", image.name(), "height", Integer.toString(px.height()),
                "half_width", Integer.toString(px.width() / 2), "masks", Integer.toString(masksPerImage)), DType.F32);
        log.println("encoded " + image.name() + " (" + px.size() + ", " + masksPerImage + " Fill masks) into "
                + file.getFileName());
        return new LatentCache.Entry(file, px.height(), px.width() / 2, masksPerImage);
    }
}
