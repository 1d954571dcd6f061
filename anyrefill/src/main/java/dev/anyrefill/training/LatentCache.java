package dev.anyrefill.training;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.Pixels;
import dev.anyrefill.pipeline.Canvas;
import dev.anyrefill.pipeline.FillConditioning;
import dev.anyrefill.pipeline.LpgImages;
import dev.anyrefill.pipeline.Task;
import dev.anyrefill.sampler.Packing;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.vae.AutoEncoder;
import dev.anyrefill.weights.SafetensorsFile;
import dev.anyrefill.weights.SafetensorsWriter;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The VAE latents of each pair, encoded once and kept on disk: per pair one safetensors file
 * with {@code x0} [N, 64] (the packed latent of the whole canvas, the VAE's mean: training
 * targets are deterministic) and {@code img_cond.K} [N, 320] (Fill's masked-canvas latent and
 * mask; one for a fully masked task, {@code masksPerPair} drawn once per pair for
 * Ref-inpainting without a mask of its own). A file is named by a hash of everything that
 * makes it (the image bytes, size, layout, task masking, mask seed, the VAE), so a changed
 * input is encoded again and an unchanged one never.
 */
public final class LatentCache {
    /** What the latents depend on besides the pair's files. */
    public record Settings(LpgImages.Size size, boolean swap, Task task, int masksPerPair, long seed,
                           String aeFingerprint) {
    }

    /** A pair's latents on disk, with the canvas size they were made at. */
    public record Entry(Path file, int height, int halfWidth, int masks) {
        /** An entry written earlier, described by its file's metadata. */
        static Entry cached(Path file) {
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                Map<String, String> m = f.metadata();
                return new Entry(file, Integer.parseInt(m.get("height")), Integer.parseInt(m.get("half_width")),
                        Integer.parseInt(m.get("masks")));
            }
        }

        /** The clean canvas latent [N, 64]. */
        public Tensor x0() {
            return read("x0");
        }

        /** Fill conditioning number k [N, 320]. */
        public Tensor imgCond(int k) {
            return read("img_cond." + k);
        }

        private Tensor read(String name) {
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                return f.get(name).toF32(); // a heap copy: the file closes here
            }
        }
    }

    private final Path dir;
    private final AutoEncoder ae;
    private final Settings settings;
    private final PrintStream log;

    public LatentCache(Path dir, AutoEncoder ae, Settings settings, PrintStream log) {
        this.dir = dir;
        this.ae = ae;
        this.settings = settings;
        this.log = log;
    }

    /** The pair's latents, from the cache or encoded now (and cached). */
    public Entry get(PairsFolder.Pair pair) {
        boolean randomMasks = settings.task() == Task.REF_INPAINTING && pair.mask() == null;
        if (pair.mask() != null && settings.task().fullyMasked()) {
            throw new IllegalArgumentException(pair.mask() + ": --task " + settings.task().cliName()
                    + " repaints the whole target; masks are for ref-inpainting");
        }
        ContentHash key = new ContentHash("latents-v1").file(pair.reference()).file(pair.target()).file(pair.mask())
                .text(String.valueOf(settings.size())).text(Boolean.toString(settings.swap()))
                .text(Boolean.toString(settings.task().fullyMasked())).text(settings.aeFingerprint());
        if (randomMasks) {
            key.text(settings.masksPerPair() + " masks, seed " + settings.seed() + ", pair " + pair.name());
        }
        Path file = dir.resolve("latents-" + key.hex() + ".safetensors");
        return Files.exists(file) ? Entry.cached(file) : encode(pair, file, randomMasks);
    }

    private Entry encode(PairsFolder.Pair pair, Path file, boolean randomMasks) {
        Pixels ref = ImageFiles.readRgb(pair.reference());
        Pixels tgt = ImageFiles.readRgb(pair.target());
        if (settings.size() == null && (ref.height() != tgt.height() || ref.width() != tgt.width())) {
            throw new IllegalArgumentException(pair.target() + ": the target is " + tgt.size() + ", its reference "
                    + pair.reference() + " is " + ref.size() + "; give --size HxW to bring pairs to one size");
        }
        Pixels msk = pair.mask() == null ? null : ImageFiles.readGrey(pair.mask());
        LpgImages images = LpgImages.of(pair.reference(), ref, pair.target(), tgt, pair.mask(), msk, settings.size(),
                false);
        int h = images.target().dim(1);
        int w = images.target().dim(2);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Canvas whole = Canvas.of(images.reference(), images.target(), null, settings.swap());
        tensors.put("x0", Packing.pack(ae.encode(whole.image())));
        int masks = randomMasks ? settings.masksPerPair() : 1;
        SplittableRandom rnd = new SplittableRandom(Seeds.of(settings.seed(), "masks of " + pair.name()));
        for (int k = 0; k < masks; k++) {
            Tensor targetMask = randomMasks ? RandomMasks.draw(rnd, h, w) : images.targetMask();
            Canvas c = Canvas.of(images.reference(), images.target(), targetMask, settings.swap());
            tensors.put("img_cond." + k, FillConditioning.prepare(ae, c.image(), c.mask(), null));
        }
        Map<String, String> meta = Map.of("pair", pair.name(), "height", Integer.toString(h),
                "half_width", Integer.toString(w), "masks", Integer.toString(masks));
        SafetensorsWriter.write(file, tensors, meta, dev.anyrefill.tensor.DType.F32);
        log.println("encoded " + pair.name() + " (" + w + "x" + h + " halves, " + masks + " Fill condition"
                + (masks == 1 ? "" : "s") + ") into " + file.getFileName());
        return new Entry(file, h, w, masks);
    }
}
