package dev.anyrefill.training;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.pipeline.Canvas;
import dev.anyrefill.pipeline.LpgImages;
import dev.anyrefill.pipeline.RefillPipeline;
import dev.anyrefill.pipeline.Task;
import dev.anyrefill.sampler.Euler;
import dev.anyrefill.sampler.TorchRandom;
import dev.anyrefill.tensor.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What the LoRA paints during training: {@code refill} with the current LoRA on a few pairs
 * (held-out ones where there are, else the first training pairs), the same noise every time,
 * as one PNG per sample step with a row per pair: reference | target | result.
 */
public final class SamplePanels {
    /** How samples are made. */
    public record Settings(int steps, double guidance, long seed, LpgImages.Size size, boolean swap, Task task) {
    }

    private final RefillPipeline pipeline;
    private final List<PairsFolder.Pair> pairs;
    private final CaptionEmbeddings captions;
    private final Settings settings;
    private final Path dir;

    public SamplePanels(RefillPipeline pipeline, List<PairsFolder.Pair> pairs, CaptionEmbeddings captions,
                        Settings settings, Path dir) {
        this.pipeline = pipeline;
        this.pairs = List.copyOf(pairs);
        this.captions = captions;
        this.settings = settings;
        this.dir = dir;
    }

    /** Writes the panel after {@code step} updates; returns its file. */
    public Path write(int step) {
        List<Tensor> rows = new ArrayList<>();
        for (int i = 0; i < pairs.size(); i++) {
            PairsFolder.Pair p = pairs.get(i);
            LpgImages images = LpgImages.read(p.reference(), p.target(), p.mask(), settings.size(), false);
            Tensor mask = images.targetMask();
            if (settings.task() == Task.REF_INPAINTING && mask == null) {
                mask = RandomMasks.draw(new SplittableRandom(Seeds.of(settings.seed(), "sample mask", i)),
                        images.target().dim(1), images.target().dim(2));
            }
            Canvas canvas = Canvas.of(images.reference(), images.target(), mask, settings.swap());
            CaptionEmbeddings.Embedding text = captions.get(p.caption(), false);
            Tensor noise = TorchRandom.randn(Seeds.of(settings.seed(), "sample noise", i) & Long.MAX_VALUE,
                    pipeline.noiseShape(canvas));
            Tensor packed = pipeline.denoise(canvas, pipeline.condition(canvas), noise, text.txt(), text.vec(),
                    settings.steps(), settings.guidance(), Euler.StepListener.NONE);
            Tensor answer = RefillPipeline.answer(canvas, pipeline.decode(canvas, packed), false);
            rows.add(beside(List.of(images.reference(), images.target(), answer)));
        }
        Path file = dir.resolve(String.format("step%06d.png", step));
        ImageFiles.writeImage(file, below(rows), Map.of("Software", "anyrefill-jvm", "anyrefill.step",
                Integer.toString(step)));
        return file;
    }

    /** Images [3, H, W_i] side by side: [3, H, sum W_i]. */
    public static Tensor beside(List<Tensor> images) {
        int c = images.getFirst().dim(0);
        int h = images.getFirst().dim(1);
        int width = images.stream().mapToInt(t -> t.dim(2)).sum();
        float[] out = new float[c * h * width];
        int x0 = 0;
        for (Tensor t : images) {
            int w = t.dim(2);
            for (int row = 0; row < c * h; row++) {
                System.arraycopy(t.data(), row * w, out, row * width + x0, w);
            }
            x0 += w;
        }
        return Tensor.wrap(out, c, h, width);
    }

    /** Images [3, H_i, W] one below the other: [3, sum H_i, W]. */
    public static Tensor below(List<Tensor> images) {
        int c = images.getFirst().dim(0);
        int w = images.getFirst().dim(2);
        int height = images.stream().mapToInt(t -> t.dim(1)).sum();
        float[] out = new float[c * height * w];
        int y0 = 0;
        for (Tensor t : images) {
            int plane = t.dim(1) * w;
            for (int ch = 0; ch < c; ch++) {
                System.arraycopy(t.data(), ch * plane, out, (ch * height + y0) * w, plane);
            }
            y0 += t.dim(1);
        }
        return Tensor.wrap(out, c, height, w);
    }
}
