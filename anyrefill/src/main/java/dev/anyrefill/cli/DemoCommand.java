package dev.anyrefill.cli;

import dev.anyrefill.dataset.Scenes;
import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.dit.LoraMode;
import dev.anyrefill.dit.Loras;
import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.Pixels;
import dev.anyrefill.kernels.Backends;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.pipeline.Canvas;
import dev.anyrefill.pipeline.LpgImages;
import dev.anyrefill.pipeline.MiniatureModel;
import dev.anyrefill.pipeline.RefillPipeline;
import dev.anyrefill.pipeline.Stages;
import dev.anyrefill.pipeline.Task;
import dev.anyrefill.pipeline.TrainedMiniature;
import dev.anyrefill.sampler.TorchRandom;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.vae.AutoEncoder;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.Checkpoints;
import dev.anyrefill.weights.TensorSource;
import dev.anyrefill.weights.lora.LoraFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The whole pipeline in seconds with nothing to download: the miniature AnyRefill the project
 * trains itself (models/miniature: a FLUX.Fill transformer, its AutoEncoder, a prompt embedding
 * and one LoRA per task) on a held-out scene. Where the trained files are not all there, the
 * built-in untrained miniature (random weights from a fixed seed) runs instead and says so: its
 * pictures show the pipeline working, not image quality.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run an LPG task on the miniature AnyRefill (models/miniature) and a held-out scene; writes a panel.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out-dir", defaultValue = "demo-output", paramLabel = "DIR",
            description = "Where to write canvas.png, canvas-mask.png, result.png and panel.png (default: ${DEFAULT-VALUE}).")
    Path outDir;

    @Option(names = "--task", defaultValue = "colorization", paramLabel = "TASK",
            description = "The task; the trained miniature needs models/miniature/lora-TASK.safetensors (default: ${DEFAULT-VALUE}).")
    String task;

    @Option(names = "--all", description = "One panel per task the models folder has a LoRA for: panel-TASK.png.")
    boolean all;

    @Option(names = "--untrained", description = "Run the built-in untrained miniature (random weights) instead.")
    boolean untrained;

    @Option(names = "--models", paramLabel = "DIR", description = "The trained miniature's folder (default: models/miniature of the installation).")
    Path models;

    @Option(names = "--scene", defaultValue = "0", paramLabel = "K", description = "Evaluation scene K (seed 10^9 + K; default: ${DEFAULT-VALUE}).")
    long scene;

    @Option(names = "--steps", defaultValue = "20", paramLabel = "N", description = "Euler steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Noise seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--size", defaultValue = "128", paramLabel = "PIXELS",
            description = "Side of each square half, a multiple of 16 (default: ${DEFAULT-VALUE}: the miniature's).")
    int size;

    @Override
    public Integer call() {
        if (size % 16 != 0 || size < 16) {
            throw new IllegalArgumentException("--size must be a positive multiple of 16, got " + size);
        }
        OptionChecks.canvas("--size", new LpgImages.Size(size, size), 32, false);
        Outputs.requireWritable(outDir.resolve("demo.png"));
        Path dir = models != null ? models : TrainedMiniature.defaultFolder();
        List<Task> tasks = all ? TrainedMiniature.lorasIn(dir) : List.of(Task.fromCliName(task));
        String missing = untrained ? null : TrainedMiniature.missing(dir, tasks);
        Stages stages = new Stages(System.out);
        Kernels kernels = Backends.java();
        Pixels photo = Scenes.render(size, size, DatasetCommand.EVALUATION_SEEDS + scene);
        if (!untrained && missing == null) {
            System.out.println("anyrefill demo: the miniature AnyRefill trained by this project (" + dir + ")");
            try (FluxCheckpoint ckpt = FluxCheckpoint.open(dir.resolve(TrainedMiniature.TRANSFORMER));
                 TensorSource aeFile = Checkpoints.open(dir.resolve(TrainedMiniature.AUTOENCODER));
                 InputTensors prompt = new InputTensors(dir.resolve(TrainedMiniature.PROMPT))) {
                FluxModel model = stages.time("load model", () -> new FluxModel(ckpt, kernels));
                AutoEncoder ae = stages.time("load VAE", () -> new AutoEncoder(aeFile, kernels));
                Tensor txt = prompt.get("txt", dev.anyrefill.dit.Shapes.ANY, model.config().contextInDim());
                Tensor vec = prompt.get("vec", model.config().vecInDim());
                for (Task t : tasks) {
                    try (LoraFile lora = LoraFile.open(dir.resolve(TrainedMiniature.loraName(t)))) {
                        Loras.apply(model, List.of(new Loras.Weighted(lora, 1.0)), LoraMode.RUNTIME);
                        run(t, model, ae, txt, vec, photo, all, stages, "the miniature with " + TrainedMiniature.loraName(t));
                    }
                }
            }
        } else {
            String why = untrained ? "--untrained" : "the trained miniature is not in " + dir + " (" + missing + ")";
            System.out.println("anyrefill demo: " + why + "; running the built-in miniature FLUX.1-Fill (hidden 256, "
                    + "2+2 blocks) and AutoEncoder with UNTRAINED random weights from a fixed seed: the pictures show the "
                    + "pipeline working, not image quality.");
            try (TensorSource transformer = MiniatureModel.transformer();
                 TensorSource aeWeights = MiniatureModel.autoEncoder()) {
                FluxModel model = stages.time("build model", () -> new FluxModel(FluxCheckpoint.of(transformer), kernels));
                AutoEncoder ae = stages.time("build VAE", () -> new AutoEncoder(aeWeights, kernels));
                Tensor txt = TorchRandom.randn(seed + 1, MiniatureModel.TEXT_TOKENS, MiniatureModel.CONFIG.contextInDim());
                Tensor vec = TorchRandom.randn(seed + 2, MiniatureModel.CONFIG.vecInDim());
                for (Task t : all ? List.of(Task.COLORIZATION) : tasks) {
                    run(t, model, ae, txt, vec, photo, all, stages, "built-in miniature FLUX.1-Fill (untrained)");
                }
            }
        }
        return 0;
    }

    /** One task: canvas, denoising, decoding; writes the canvas, its mask, the result and the panel. */
    private void run(Task t, FluxModel model, AutoEncoder ae, Tensor txt, Tensor vec, Pixels photo, boolean perTask,
                     Stages stages, String modelName) {
        if (!t.hasPreparation()) {
            throw new IllegalArgumentException("the demo runs the tasks it can prepare from a scene; " + t.cliName()
                    + " is not one");
        }
        boolean perception = t.preparedSide() == Task.Side.RIGHT;
        Pixels prepared = TrainedMiniature.prepare(t, photo);
        Tensor left = ImageFiles.toTensor(perception ? photo : prepared);
        Tensor truth = ImageFiles.toTensor(perception ? prepared : photo);
        LpgImages images = new LpgImages(left, truth, null);
        RefillPipeline pipeline = new RefillPipeline(model, ae, null);
        RefillRunner.Result result = RefillRunner.run(pipeline, images, false, txt, vec,
                shape -> TorchRandom.randn(seed, shape), steps, 30.0, false, stages);
        Canvas canvas = result.canvas();
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("Software", "anyrefill-jvm " + Main.VERSION);
        metadata.put("anyrefill.model", modelName);
        metadata.put("anyrefill.task", t.cliName());
        metadata.put("anyrefill.scene-seed", Long.toString(DatasetCommand.EVALUATION_SEEDS + scene));
        metadata.put("anyrefill.seed", Long.toString(seed));
        metadata.put("anyrefill.steps", Integer.toString(steps));
        metadata.put("anyrefill.guidance", "30.0");
        metadata.put("anyrefill.size", size + "x" + size);
        Tensor shownTarget = Canvas.pasteBack(Tensor.zeros(3, size, size), canvas.targetHalf(canvas.image()),
                canvas.targetHalf(canvas.mask())); // what the model sees of the target: nothing
        Tensor panel = Canvas.sideBySide(Canvas.sideBySide(left, shownTarget), Canvas.sideBySide(result.answer(), truth));
        String suffix = perTask ? "-" + t.cliName() : "";
        stages.time("write " + outDir, () -> {
            ImageFiles.writeImage(outDir.resolve("canvas" + suffix + ".png"), canvas.image(), metadata);
            ImageFiles.writeImage(outDir.resolve("canvas-mask" + suffix + ".png"), toImage(canvas.mask()), metadata);
            ImageFiles.writeImage(outDir.resolve("result" + suffix + ".png"), result.answer(), metadata);
            ImageFiles.writeImage(outDir.resolve("panel" + suffix + ".png"), panel, metadata);
        });
        System.out.println(t.cliName() + ": wrote " + outDir.resolve("panel" + suffix + ".png") + " (reference | masked "
                + "target | painted result | ground truth), with canvas, canvas-mask and result");
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
