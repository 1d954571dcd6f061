package dev.anyrefill.cli;

import dev.anyrefill.dit.ActivationCheckpointing;
import dev.anyrefill.pipeline.LpgImages;
import dev.anyrefill.pipeline.Task;
import dev.anyrefill.sampler.Schedule;
import dev.anyrefill.train.LearningRateSchedule;
import dev.anyrefill.train.LoraWriter;
import dev.anyrefill.train.TimestepSampler;
import dev.anyrefill.train.TrainableLora;
import dev.anyrefill.training.TrainingSet;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * {@code anyrefill train}: a task LoRA from a folder of pairs, the paper's recipe. This class
 * holds the options and checks them; {@link LoraTraining} runs the job.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train an AnyRefill task LoRA on a folder of [reference | target] pairs (rectified flow, AdamW).")
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "FILE",
            description = "FLUX.1-Fill transformer (BFL, diffusers or ComfyUI layout); stays frozen and mapped for a LoRA. "
                    + "With --full, omit it to train a new model of the shape below.")
    Path model;

    @Option(names = "--full", description = "Train every weight (F32 master weights on the heap; small models only), not a LoRA.")
    boolean full;

    @Option(names = "--hidden", defaultValue = "256", paramLabel = "N", description = "--full, new model: hidden size (default: ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--heads", defaultValue = "2", paramLabel = "N", description = "--full, new model: attention heads of 128 channels (default: ${DEFAULT-VALUE}).")
    int heads;

    @Option(names = "--double", defaultValue = "2", paramLabel = "N", description = "--full, new model: double-stream blocks (default: ${DEFAULT-VALUE}).")
    int doubleBlocks;

    @Option(names = "--single", defaultValue = "2", paramLabel = "N", description = "--full, new model: single-stream blocks (default: ${DEFAULT-VALUE}).")
    int singleBlocks;

    @Option(names = "--context", defaultValue = "64", paramLabel = "N", description = "--full, new model: text embedding width (default: ${DEFAULT-VALUE}; FLUX: 4096).")
    int context;

    @Option(names = "--vec", defaultValue = "32", paramLabel = "N", description = "--full, new model: pooled vector width (default: ${DEFAULT-VALUE}; FLUX: 768).")
    int vec;

    @Option(names = "--ae", required = true, paramLabel = "FILE", description = "FLUX AutoEncoder (ae.safetensors).")
    Path ae;

    @Option(names = "--task", paramLabel = "TASK",
            description = "With --pairs: the task (see refill --help); ref-inpainting draws random masks, every other task "
                    + "masks the whole target.")
    String task;

    static final class Data {
        @Option(names = "--pairs", paramLabel = "DIR",
                description = "NAME.ref.png + NAME.target.png (+ NAME.txt caption, NAME.mask.png), or a pairs.jsonl manifest.")
        Path pairs;

        @Option(names = "--images", paramLabel = "DIR",
                description = "Single images instead of pairs: FLUX.Fill's own inpainting pretraining (random rectangle and "
                        + "stroke, half, whole and outpainting masks; --masks-per-pair of them per image), for --full.")
        Path images;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Data data;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The trained LoRA (.safetensors).")
    Path out;

    @Option(names = "--steps", defaultValue = "1000", paramLabel = "N", description = "Optimiser steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--batch", defaultValue = "1", paramLabel = "B",
            description = "Samples per step, by gradient accumulation (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr-schedule", defaultValue = "constant", paramLabel = "NAME",
            description = "constant or cosine after the warm-up (default: ${DEFAULT-VALUE}).")
    String lrSchedule;

    @Option(names = "--warmup-steps", defaultValue = "0", paramLabel = "N", description = "Linear warm-up steps (default: ${DEFAULT-VALUE}).")
    int warmupSteps;

    @Option(names = "--rank", defaultValue = "128", paramLabel = "R", description = "LoRA rank (default: ${DEFAULT-VALUE}, the paper's).")
    int rank;

    @Option(names = "--alpha", defaultValue = "128", paramLabel = "A", description = "LoRA alpha; scale = alpha / rank (default: ${DEFAULT-VALUE}).")
    double alpha;

    @Option(names = "--targets", paramLabel = "REGEX",
            description = "BFL names of the linears to adapt (default: AnyRefill's, every attention qkv/proj, MLP and single-block linear).")
    String targets;

    @Option(names = "--size", paramLabel = "HxW", description = "Size of each half (default: the pairs' own, which must then agree).")
    String size;

    @Option(names = "--swap", description = "Reference on the right, target on the left (as refill --swap).")
    boolean swap;

    static final class Text {
        @Option(names = "--prompt-embeddings", paramLabel = "FILE",
                description = "One shared embedding for every pair: safetensors with 'txt' [L, context] and 'vec' [vec dim].")
        Path embeddings;

        @Option(names = "--text-encoders", paramLabel = "DIR",
                description = "Encode each pair's caption with the JVM T5 and CLIP of this FLUX repo folder (cached).")
        Path encoders;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Text text;

    @Option(names = "--empty-prompt-embeddings", paramLabel = "FILE",
            description = "With --prompt-embeddings and --caption-dropout: the empty prompt's embedding.")
    Path emptyEmbeddings;

    @Option(names = "--caption-dropout", defaultValue = "0", paramLabel = "P",
            description = "Probability of training a sample on the empty prompt (default: ${DEFAULT-VALUE}).")
    double captionDropout;

    @Option(names = "--timestep-sampling", defaultValue = "sigmoid", paramLabel = "NAME",
            description = "sigmoid (t = sigmoid(s z)), uniform or logit-normal (default: ${DEFAULT-VALUE}).")
    String timestepSampling;

    @Option(names = "--sigmoid-scale", defaultValue = "1.0", paramLabel = "S", description = "s of sigmoid sampling (default: ${DEFAULT-VALUE}).")
    double sigmoidScale;

    @Option(names = "--logit-mean", defaultValue = "0.0", paramLabel = "M", description = "Mean of logit-normal sampling (default: ${DEFAULT-VALUE}).")
    double logitMean;

    @Option(names = "--logit-std", defaultValue = "1.0", paramLabel = "S", description = "Std of logit-normal sampling (default: ${DEFAULT-VALUE}).")
    double logitStd;

    @Option(names = "--shift", defaultValue = "1", paramLabel = "S|auto",
            description = "Time shift t' = S t / (1 + (S - 1) t); auto: S = e^mu at the canvas's token count, as sampling uses (default: ${DEFAULT-VALUE}).")
    String shift;

    @Option(names = "--guidance", defaultValue = "1.0", paramLabel = "G",
            description = "The guidance embedding's input while training (default: ${DEFAULT-VALUE}; inference keeps 30).")
    double guidance;

    @Mixin
    OptimizerOptions optimizer;

    @Mixin
    TrainingRunOptions run;

    @Option(names = "--activation-checkpointing", defaultValue = "auto", paramLabel = "auto|blocks|none",
            description = "What a step's forward keeps for the backward: none keeps every activation, blocks keeps "
                    + "each block's inputs and recomputes its inside (less memory, a second forward); auto: none where "
                    + "that takes at most half the heap (default: ${DEFAULT-VALUE}).")
    String activationCheckpointing;

    @Option(names = "--max-grad-norm", defaultValue = "1.0", paramLabel = "X",
            description = "Clip gradients to this global norm; 0 = no clipping (default: ${DEFAULT-VALUE}).")
    double maxGradNorm;

    @Option(names = "--loss-region", defaultValue = "canvas", paramLabel = "canvas|target",
            description = "The loss over the whole canvas (the paper's) or the target half only (default: ${DEFAULT-VALUE}).")
    String lossRegion;

    @Option(names = "--masks-per-pair", defaultValue = "8", paramLabel = "N",
            description = "Ref-inpainting: random masks drawn and encoded once per pair; each step picks one (default: ${DEFAULT-VALUE}).")
    int masksPerPair;

    @Option(names = "--validation-split", defaultValue = "0", paramLabel = "F",
            description = "Fraction of pairs held out for the validation loss (default: ${DEFAULT-VALUE}).")
    double validationSplit;

    @Option(names = "--validate-every", defaultValue = "50", paramLabel = "N", description = "Validation loss every N steps, and before the first (default: ${DEFAULT-VALUE}).")
    int validateEvery;

    @Option(names = "--save-every", defaultValue = "250", paramLabel = "N", description = "A checkpoint every N steps; 0 = only at the end (default: ${DEFAULT-VALUE}).")
    int saveEvery;

    @Option(names = "--sample-every", defaultValue = "0", paramLabel = "N", description = "A sample panel every N steps; 0 = none (default: ${DEFAULT-VALUE}).")
    int sampleEvery;

    @Option(names = "--sample-pairs", defaultValue = "2", paramLabel = "N", description = "Pairs in each sample panel (default: ${DEFAULT-VALUE}).")
    int samplePairs;

    @Option(names = "--sample-steps", defaultValue = "20", paramLabel = "N", description = "Euler steps of each sample (default: ${DEFAULT-VALUE}).")
    int sampleSteps;

    @Option(names = "--sample-guidance", defaultValue = "30", paramLabel = "G", description = "Guidance of each sample (default: ${DEFAULT-VALUE}).")
    double sampleGuidance;

    @Option(names = "--format", defaultValue = "kohya", paramLabel = "kohya|peft",
            description = "Key layout: kohya (BFL names, lora_down/lora_up/alpha; ComfyUI) or peft (diffusers) (default: ${DEFAULT-VALUE}).")
    String format;

    @Override
    public Integer call() {
        if (data.pairs != null && task == null) {
            throw new IllegalArgumentException("--pairs needs --task (the task the LoRA or model learns)");
        }
        if (data.images != null && (task != null || swap || sampleEvery > 0 || lossRegion.equals("target"))) {
            throw new IllegalArgumentException("--images trains plain inpainting: --task, --swap, --sample-every and "
                    + "--loss-region target are for --pairs");
        }
        if (data.images != null && text.embeddings == null) {
            throw new IllegalArgumentException("--images has no captions: give --prompt-embeddings (one shared embedding)");
        }
        Task t = task == null ? null : Task.fromCliName(task);
        if (model == null && !full) {
            throw new IllegalArgumentException("--model is needed (a FLUX.1-Fill checkpoint), unless --full trains a new model");
        }
        if (rank < 1 || !(alpha > 0) || masksPerPair < 1 || samplePairs < 1 || sampleSteps < 1) {
            throw new IllegalArgumentException("--rank, --alpha, --masks-per-pair, --sample-pairs and --sample-steps must be positive");
        }
        if (!(captionDropout >= 0 && captionDropout < 1) || !(validationSplit >= 0 && validationSplit < 1)) {
            throw new IllegalArgumentException("--caption-dropout and --validation-split must be in [0, 1)");
        }
        if (!Double.isFinite(guidance) || !Double.isFinite(sampleGuidance)) {
            throw new IllegalArgumentException("--guidance and --sample-guidance must be finite numbers");
        }
        if (captionDropout > 0 && text.embeddings != null && emptyEmbeddings == null) {
            throw new IllegalArgumentException("--caption-dropout with --prompt-embeddings needs --empty-prompt-embeddings "
                    + "(the empty prompt's embedding), or use --text-encoders");
        }
        Path[] inputs = {model, ae, text.embeddings, emptyEmbeddings, run.resume, data.pairs, data.images};
        Outputs.requireNotInput(out, inputs);
        Path metricsFile = run.metricsFile(out);
        Outputs.requireNotInput(metricsFile, inputs);
        Outputs.requireWritable(out);
        Outputs.requireWritable(metricsFile);
        TransformerTraining.Options o = new TransformerTraining.Options(t, size == null ? null : LpgImages.Size.parse(size), swap,
                rank, alpha, targetPattern(), optimizer.settings(),
                LearningRateSchedule.Shape.fromCliName(lrSchedule), warmupSteps, shiftValue(),
                new TimestepSampler(TimestepSampler.Kind.fromCliName(timestepSampling),
                        TimestepSampler.Kind.fromCliName(timestepSampling) == TimestepSampler.Kind.LOGIT_NORMAL
                                ? logitStd : sigmoidScale, logitMean, 1),
                captionDropout, lossRegion(), masksPerPair, validationSplit, run.seed,
                new dev.anyrefill.training.TransformerTrainer.Loop(steps, batch, maxGradNorm, guidance, saveEvery,
                        validateEvery, sampleEvery, ActivationCheckpointing.fromCliName(activationCheckpointing)),
                sampleEvery > 0 ? new TransformerTraining.Samples(samplePairs, sampleSteps, sampleGuidance) : null,
                LoraWriter.Format.fromCliName(format), run.precision(), full && model == null ? newModel() : null);
        new TransformerTraining(model, ae, data.pairs != null ? data.pairs : data.images, text.embeddings, emptyEmbeddings, text.encoders, out, metricsFile, run.resume,
                o, this, full, run.kernels()).run();
        return 0;
    }

    /** The options as the user gave them, for the LoRA's metadata (paths left out: they name this machine). */
    String describe() {
        return String.format(java.util.Locale.ROOT,
                "task=%s steps=%d batch=%d lr=%s lr_schedule=%s warmup=%d rank=%d alpha=%s size=%s swap=%s "
                        + "timestep_sampling=%s sigmoid_scale=%s logit_mean=%s logit_std=%s shift=%s guidance=%s "
                        + "betas=%s,%s eps=%s weight_decay=%s max_grad_norm=%s loss_region=%s caption_dropout=%s "
                        + "masks_per_pair=%d validation_split=%s seed=%d",
                task, steps, batch, optimizer.lr, lrSchedule, warmupSteps, rank, alpha, size, swap, timestepSampling, sigmoidScale,
                logitMean, logitStd, shift, guidance, optimizer.beta1, optimizer.beta2, optimizer.eps,
                optimizer.weightDecay, maxGradNorm, lossRegion,
                captionDropout, masksPerPair, validationSplit, run.seed);
    }

    /** FLUX.1-Fill's architecture (384 in, 64 out, head dim 128, RoPE axes 16, 56, 56, guidance) at the given size. */
    private dev.anyrefill.weights.FluxConfig newModel() {
        if (hidden < 1 || heads < 1 || doubleBlocks < 0 || singleBlocks < 0 || context < 1 || vec < 1
                || doubleBlocks + singleBlocks == 0) {
            throw new IllegalArgumentException("--hidden, --heads, --context and --vec must be positive, --double and "
                    + "--single at least 0 and not both 0");
        }
        if (hidden != 128 * heads) {
            throw new IllegalArgumentException("--hidden " + hidden + " --heads " + heads + ": FLUX's heads are 128 "
                    + "channels (RoPE axes 16 + 56 + 56), so --hidden must be 128 x --heads");
        }
        return new dev.anyrefill.weights.FluxConfig(384, 64, vec, context, hidden, 4.0, heads, doubleBlocks, singleBlocks,
                new int[]{16, 56, 56}, 10000, true, true);
    }

    private Pattern targetPattern() {
        if (targets == null) {
            return TrainableLora.ANYREFILL_TARGETS;
        }
        try {
            return Pattern.compile(targets);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("--targets '" + targets + "' is not a regular expression: "
                    + e.getDescription());
        }
    }

    /** null for auto (decided once the canvas size is known). */
    private Double shiftValue() {
        if (shift.equals("auto")) {
            return null;
        }
        try {
            return Double.parseDouble(shift);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--shift '" + shift + "': a number or auto");
        }
    }

    /** e^mu of FLUX's schedule at a token count: --shift auto. */
    static double autoShift(int tokens) {
        return Math.exp(Schedule.mu(tokens));
    }

    private TrainingSet.Region lossRegion() {
        return switch (lossRegion) {
            case "canvas" -> TrainingSet.Region.CANVAS;
            case "target" -> TrainingSet.Region.TARGET;
            default -> throw new IllegalArgumentException("--loss-region '" + lossRegion + "': canvas or target");
        };
    }

}
