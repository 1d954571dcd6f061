package dev.anyrefill.cli;

import dev.anyrefill.pipeline.LpgImages;
import dev.anyrefill.pipeline.RefillPipeline;
import dev.anyrefill.pipeline.Stages;
import dev.anyrefill.pipeline.Task;
import dev.anyrefill.sampler.TorchRandom;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.text.PromptEncoder;
import dev.anyrefill.text.TextEncoderPaths;
import dev.anyrefill.vae.AutoEncoder;
import dev.anyrefill.weights.Checkpoints;
import dev.anyrefill.weights.TensorSource;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The main job: an LPG task on two images. The reference goes on the left of the canvas, the
 * target on the right (fully masked unless --mask says which pixels to repaint), and the
 * model paints the right half.
 */
@Command(name = "refill", mixinStandardHelpOptions = true,
        description = "Run an AnyRefill (LPG) task: reference on the left, the model paints the (masked) target on the right.")
final class RefillCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--ae", required = true, paramLabel = "FILE", description = "FLUX AutoEncoder (ae.safetensors).")
    Path ae;

    @Option(names = "--reference", required = true, paramLabel = "IMAGE", description = "The left image (PNG, JPEG, WebP).")
    Path reference;

    @Option(names = "--target", required = true, paramLabel = "IMAGE",
            description = "The right image: its unmasked pixels are kept as context (fully masked tasks only use its size).")
    Path target;

    @Option(names = "--mask", paramLabel = "IMAGE",
            description = "Mask of the target, 255 = repaint (Ref-inpainting). Without it the whole target is repainted.")
    Path mask;

    @Option(names = "--binarize-mask", description = "Threshold the mask at 128 (diffusers) instead of keeping it soft (BFL).")
    boolean binarizeMask;

    @Option(names = "--task", paramLabel = "TASK",
            description = "A task of the paper's Table I; sets the masking (ref-inpainting keeps --mask, every other task "
                    + "repaints the whole target). One of: canny-to-image, depth-to-image, segment-to-image, colorization, "
                    + "deblur, super-resolution-4x, super-resolution-8x, super-resolution-16x, age, gender, relighting, "
                    + "image-to-canny, image-to-depth, image-to-segment, ref-inpainting.")
    String task;

    @Option(names = "--size", paramLabel = "HxW", description = "Size of each half (default: the reference's own size).")
    String size;

    @Option(names = "--swap", description = "Mirror the layout: reference on the right, target on the left.")
    boolean swap;

    static final class TextSource {
        @Option(names = "--prompt-embeddings", paramLabel = "FILE",
                description = "safetensors with 'txt' [L, context dim] (T5) and 'vec' [vec dim] (CLIP pooled).")
        Path embeddings;

        @Option(names = "--prompt", paramLabel = "TEXT", description = "Encode this prompt with T5 and CLIP (see --text-encoders).")
        String prompt;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    TextSource text;

    @Option(names = "--text-encoders", paramLabel = "DIR",
            description = "With --prompt: a FLUX repo folder (text_encoder/, text_encoder_2/, tokenizer/, tokenizer_2/).")
    Path textEncoders;

    @Option(names = "--t5", paramLabel = "FILE", description = "With --prompt: the T5 encoder's weights (instead of --text-encoders).")
    Path t5;

    @Option(names = "--clip", paramLabel = "FILE", description = "With --prompt: the CLIP text model's weights (instead of --text-encoders).")
    Path clip;

    @Option(names = "--t5-tokenizer", paramLabel = "DIR", description = "With --prompt: the T5 tokenizer's folder (default: tokenizer_2/ of --text-encoders).")
    Path t5Tokenizer;

    @Option(names = "--clip-tokenizer", paramLabel = "DIR", description = "With --prompt: the CLIP tokenizer's folder (default: tokenizer/ of --text-encoders).")
    Path clipTokenizer;

    @Option(names = "--noise", paramLabel = "FILE",
            description = "Start from the tensor 'noise' [16, H/8, 2W/8] of this file (to reproduce another implementation's run).")
    Path noise;

    @Option(names = "--seed", paramLabel = "N",
            description = "Seed of the starting noise, drawn as torch.randn on the CPU draws it (default: 0).")
    Long seed;

    @Option(names = "--steps", defaultValue = "50", paramLabel = "N", description = "Euler steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--guidance", defaultValue = "30", paramLabel = "G",
            description = "Guidance (default: ${DEFAULT-VALUE}, FLUX.1-Fill's).")
    double guidance;

    @ArgGroup(exclusive = false)
    VaeCommand.TilingOptions tiling;

    @Option(names = "--paste-back", description = "Keep the target's own pixels outside a partial mask.")
    boolean pasteBack;

    @Option(names = "--save-canvas", paramLabel = "IMAGE", description = "Also write the whole decoded canvas.")
    Path saveCanvas;

    @Option(names = "--out", required = true, paramLabel = "IMAGE", description = "The answer: the painted target half.")
    Path out;

    @Override
    public Integer call() {
        if (steps < 1) {
            throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
        }
        Task chosen = task == null ? null : Task.fromCliName(task);
        if (chosen != null && chosen.fullyMasked() && mask != null) {
            throw new IllegalArgumentException("--task " + chosen.cliName() + " repaints the whole target; --mask is for "
                    + "ref-inpainting");
        }
        if (chosen == Task.REF_INPAINTING && mask == null) {
            throw new IllegalArgumentException("--task ref-inpainting needs --mask (255 = repaint)");
        }
        OptionChecks.finite("--guidance", guidance);
        if (noise != null && seed != null) {
            System.err.println("anyrefill: warning: --noise " + noise + " gives the starting noise; --seed " + seed
                    + " is not used");
        }
        Path[] inputs = inputPaths();
        Outputs.requireNotInput(out, inputs);
        Outputs.requireWritable(out);
        if (saveCanvas != null) {
            Outputs.requireNotInput(saveCanvas, inputs);
            if (saveCanvas.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
                throw new IllegalArgumentException("--save-canvas " + saveCanvas + " and --out are the same file; the "
                        + "canvas would replace the answer");
            }
            Outputs.requireWritable(saveCanvas);
        }
        if (size != null) {
            OptionChecks.canvas("--size", LpgImages.Size.parse(size), 128, tiling != null);
        }
        Stages stages = new Stages(System.out);
        LpgImages images = stages.time("read images", () -> LpgImages.read(reference, target, mask,
                size == null ? null : LpgImages.Size.parse(size), binarizeMask));
        if (size == null) {
            OptionChecks.canvas(reference + ": a reference of", new LpgImages.Size(images.reference().dim(1),
                    images.reference().dim(2)), 128, tiling != null);
        }
        if (images.targetMask() != null && dev.anyrefill.training.RandomMasks.cover(images.targetMask().data()) == 0) {
            System.err.println("anyrefill: warning: " + mask + " marks nothing to repaint (every pixel is 0); the model "
                    + "still paints the whole target half, and --paste-back keeps the target");
        }
        try (ModelOptions.Loaded loaded = modelOptions.load(stages, System.out);
             TensorSource aeWeights = Checkpoints.open(ae)) {
            AutoEncoder autoEncoder = stages.time("load VAE", () -> new AutoEncoder(aeWeights, loaded.model().kernels()));
            Tensor[] embeddings = stages.time("text conditioning", () -> textConditioning(loaded));
            RefillPipeline pipeline = new RefillPipeline(loaded.model(), autoEncoder,
                    tiling == null ? null : tiling.toTiling());
            RefillRunner.Result result = RefillRunner.run(pipeline, images, swap, embeddings[0], embeddings[1],
                    this::startingNoise, steps, guidance, pasteBack, stages);
            Map<String, String> metadata = metadata(images, chosen);
            stages.time("write " + out, () -> {
                RefillRunner.writeImage(out, result.answer(), metadata, inputs);
                if (saveCanvas != null) {
                    RefillRunner.writeImage(saveCanvas, result.decoded(), metadata, inputs);
                }
            });
        }
        return 0;
    }

    private Tensor[] textConditioning(ModelOptions.Loaded loaded) {
        if (text.embeddings != null) {
            try (InputTensors in = new InputTensors(text.embeddings)) {
                var c = loaded.model().config();
                return new Tensor[]{in.get("txt", dev.anyrefill.dit.Shapes.ANY, c.contextInDim()), in.get("vec", c.vecInDim())};
            }
        }
        if (textEncoders == null && (t5 == null || clip == null)) {
            throw new IllegalArgumentException("--prompt needs --text-encoders DIR (a FLUX repo folder) or --t5 and --clip");
        }
        PromptEncoder encoder = new PromptEncoder(TextEncoderPaths.resolve(textEncoders, t5, clip, t5Tokenizer, clipTokenizer));
        PromptEncoder.Embeddings e = encoder.encode(loaded.model().kernels(), text.prompt);
        return new Tensor[]{e.txt(), e.vec()};
    }

    private Tensor startingNoise(int[] shape) {
        if (noise == null) {
            return TorchRandom.randn(seed == null ? 0 : seed, shape);
        }
        try (InputTensors in = new InputTensors(noise)) {
            return in.get("noise", shape);
        }
    }

    private Path[] inputPaths() {
        List<Path> paths = new ArrayList<>(List.of(modelOptions.inputPaths()));
        for (Path p : new Path[]{ae, reference, target, mask, text.embeddings, noise}) {
            if (p != null) {
                paths.add(p);
            }
        }
        return paths.toArray(Path[]::new);
    }

    private Map<String, String> metadata(LpgImages images, Task chosen) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("Software", "anyrefill-jvm " + Main.VERSION);
        m.put("anyrefill.model", modelOptions.model.getFileName().toString());
        m.put("anyrefill.loras", String.join(", ", modelOptions.loras));
        m.put("anyrefill.lora-mode", modelOptions.loraMode);
        m.put("anyrefill.task", chosen == null ? "" : chosen.cliName());
        m.put("anyrefill.seed", noise == null ? Long.toString(seed == null ? 0 : seed) : "noise from " + noise.getFileName());
        m.put("anyrefill.steps", Integer.toString(steps));
        m.put("anyrefill.guidance", String.format(Locale.ROOT, "%s", guidance));
        m.put("anyrefill.size", images.reference().dim(1) + "x" + images.reference().dim(2));
        m.put("anyrefill.prompt", text.prompt != null ? text.prompt : "embeddings " + text.embeddings.getFileName());
        m.put("anyrefill.backend", modelOptions.backend);
        return m;
    }
}
