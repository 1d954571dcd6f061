package dev.anyrefill.cli;

import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.Pixels;
import dev.anyrefill.kernels.Backends;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.pipeline.Canvas;
import dev.anyrefill.pipeline.LpgImages;
import dev.anyrefill.pipeline.MiniatureModel;
import dev.anyrefill.pipeline.RefillPipeline;
import dev.anyrefill.pipeline.SampleImages;
import dev.anyrefill.pipeline.Stages;
import dev.anyrefill.pipeline.Task;
import dev.anyrefill.sampler.TorchRandom;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.vae.AutoEncoder;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.SyntheticWeights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The whole pipeline on the built-in miniature FLUX.1-Fill and a built-in picture: nothing to
 * download, done in seconds. The task is colorization: the greyscale picture on the left, the
 * model paints the right half.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the whole LPG pipeline on a built-in miniature (untrained) FLUX.1-Fill and a built-in picture.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out-dir", defaultValue = "demo-output", paramLabel = "DIR",
            description = "Where to write canvas.png, canvas-mask.png, result.png and panel.png (default: ${DEFAULT-VALUE}).")
    Path outDir;

    @Option(names = "--steps", defaultValue = "8", paramLabel = "N", description = "Euler steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Noise seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--size", defaultValue = "128", paramLabel = "PIXELS",
            description = "Side of each square half, a multiple of 16 (default: ${DEFAULT-VALUE}).")
    int size;

    @Override
    public Integer call() {
        if (size % 16 != 0 || size < 16) {
            throw new IllegalArgumentException("--size must be a positive multiple of 16, got " + size);
        }
        OptionChecks.canvas("--size", new dev.anyrefill.pipeline.LpgImages.Size(size, size), 32, false);
        Outputs.requireWritable(outDir.resolve("demo.png"));
        System.out.println("anyrefill demo: the built-in miniature FLUX.1-Fill (hidden 256, 2+2 blocks) and AutoEncoder "
                + "have UNTRAINED random weights from a fixed seed; the pictures show the pipeline working, "
                + "not image quality.");
        Stages stages = new Stages(System.out);
        Kernels kernels = Backends.java();
        try (SyntheticWeights transformer = MiniatureModel.transformer();
             SyntheticWeights aeWeights = MiniatureModel.autoEncoder()) {
            FluxModel model = stages.time("build model", () -> new FluxModel(FluxCheckpoint.of(transformer), kernels));
            AutoEncoder ae = stages.time("build VAE", () -> new AutoEncoder(aeWeights, kernels));

            Pixels photo = SampleImages.landscape(size, size);
            Task task = Task.COLORIZATION;
            Tensor left = ImageFiles.toTensor(task.prepare(photo));
            LpgImages images = new LpgImages(left, ImageFiles.toTensor(photo), null);
            Tensor txt = TorchRandom.randn(seed + 1, MiniatureModel.TEXT_TOKENS, MiniatureModel.CONFIG.contextInDim());
            Tensor vec = TorchRandom.randn(seed + 2, MiniatureModel.CONFIG.vecInDim());

            RefillPipeline pipeline = new RefillPipeline(model, ae, null);
            RefillRunner.Result result = RefillRunner.run(pipeline, images, false, txt, vec,
                    shape -> TorchRandom.randn(seed, shape), steps, 30.0, false, stages);

            Canvas canvas = result.canvas();
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("Software", "anyrefill-jvm " + Main.VERSION);
            metadata.put("anyrefill.model", "built-in miniature FLUX.1-Fill (untrained)");
            metadata.put("anyrefill.task", task.cliName());
            metadata.put("anyrefill.seed", Long.toString(seed));
            metadata.put("anyrefill.steps", Integer.toString(steps));
            metadata.put("anyrefill.guidance", "30.0");
            metadata.put("anyrefill.size", size + "x" + size);
            Tensor shownTarget = Canvas.pasteBack(Tensor.zeros(3, size, size), canvas.targetHalf(canvas.image()),
                    canvas.targetHalf(canvas.mask())); // what the model sees of the target: nothing
            Tensor panel = Canvas.sideBySide(Canvas.sideBySide(left, shownTarget),
                    Canvas.sideBySide(result.answer(), images.target()));
            stages.time("write " + outDir, () -> {
                ImageFiles.writeImage(outDir.resolve("canvas.png"), canvas.image(), metadata);
                ImageFiles.writeImage(outDir.resolve("canvas-mask.png"), toImage(canvas.mask()), metadata);
                ImageFiles.writeImage(outDir.resolve("result.png"), result.answer(), metadata);
                ImageFiles.writeImage(outDir.resolve("panel.png"), panel, metadata);
            });
            System.out.println("wrote " + outDir.resolve("canvas.png") + ", canvas-mask.png, result.png and panel.png "
                    + "(panel: greyscale reference | masked target | painted result | the original picture)");
        }
        return 0;
    }

    /** A [1, H, W] mask in [0, 1] as a grey [3, H, W] image in [-1, 1]. */
    private static Tensor toImage(Tensor mask) {
        float[] m = mask.data();
        int plane = m.length;
        float[] out = new float[3 * plane];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < plane; i++) {
                out[c * plane + i] = 2 * m[i] - 1;
            }
        }
        return Tensor.wrap(out, 3, mask.dim(1), mask.dim(2));
    }
}
