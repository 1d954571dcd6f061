package dev.anyrefill.cli;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.Pixels;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.train.AdamW;
import dev.anyrefill.train.LearningRateSchedule;
import dev.anyrefill.train.TrainingState;
import dev.anyrefill.training.AutoEncoderTrainer;
import dev.anyrefill.training.CheckpointFiles;
import dev.anyrefill.training.ImageFolder;
import dev.anyrefill.training.TrainingLog;
import dev.anyrefill.training.TrainingSet;
import dev.anyrefill.vae.AutoEncoder;
import dev.anyrefill.vae.AutoEncoderInit;
import dev.anyrefill.vae.AutoEncoderParams;
import dev.anyrefill.weights.Checkpoints;
import dev.anyrefill.weights.HeapWeights;
import dev.anyrefill.weights.SafetensorsWriter;
import dev.anyrefill.weights.TensorSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * {@code anyrefill vae train}: an AutoEncoder of FLUX's architecture trained on a folder of
 * images (random crops, reconstruction + KL loss, AdamW), written in BFL's layout, which
 * {@code vae encode|decode}, {@code refill} and BFL's own code load.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train an AutoEncoder (new, of a given shape, or from --init) on a folder of images.")
final class VaeTrainCommand implements Callable<Integer> {
    @Option(names = "--images", required = true, paramLabel = "DIR", description = "A folder of images (PNG, JPEG, WebP, ...).")
    Path images;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The trained ae.safetensors (BFL names).")
    Path out;

    @Option(names = "--init", paramLabel = "FILE", description = "Start from this AutoEncoder instead of a new one.")
    Path init;

    @Option(names = "--ch", defaultValue = "32", paramLabel = "N", description = "Base channels of a new one, a multiple of 32 (default: ${DEFAULT-VALUE}; FLUX: 128).")
    int ch;

    @Option(names = "--ch-mult", defaultValue = "1,2,2,2", split = ",", paramLabel = "M,...",
            description = "Channel multiplier per level (default: ${DEFAULT-VALUE}; FLUX: 1,2,4,4).")
    int[] chMult;

    @Option(names = "--res-blocks", defaultValue = "1", paramLabel = "N", description = "ResnetBlocks per level (default: ${DEFAULT-VALUE}; FLUX: 2).")
    int resBlocks;

    @Option(names = "--z-channels", defaultValue = "16", paramLabel = "N", description = "Latent channels (default: ${DEFAULT-VALUE}, FLUX's).")
    int zChannels;

    @Option(names = "--size", defaultValue = "64", paramLabel = "N", description = "Side of the random square crops (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--steps", defaultValue = "1000", paramLabel = "N", description = "Optimiser steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--batch", defaultValue = "4", paramLabel = "B", description = "Crops per step, by accumulation (default: ${DEFAULT-VALUE}).")
    int batch;

    @Mixin
    OptimizerOptions optimizer;

    @Mixin
    TrainingRunOptions run;

    @Option(names = "--lr-schedule", defaultValue = "constant", paramLabel = "NAME", description = "constant or cosine (default: ${DEFAULT-VALUE}).")
    String lrSchedule;

    @Option(names = "--warmup-steps", defaultValue = "0", paramLabel = "N", description = "Linear warm-up steps (default: ${DEFAULT-VALUE}).")
    int warmupSteps;

    @Option(names = "--kl-weight", defaultValue = "1e-6", paramLabel = "W", description = "Weight of the KL term (default: ${DEFAULT-VALUE}).")
    double klWeight;

    @Option(names = "--max-grad-norm", defaultValue = "1.0", paramLabel = "X", description = "Clip to this global norm; 0 = none (default: ${DEFAULT-VALUE}).")
    double maxGradNorm;

    @Option(names = "--validation-split", defaultValue = "0.1", paramLabel = "F", description = "Fraction of images held out (default: ${DEFAULT-VALUE}).")
    double validationSplit;

    @Option(names = "--validate-every", defaultValue = "50", paramLabel = "N", description = "Held-out PSNR every N steps, and before the first (default: ${DEFAULT-VALUE}).")
    int validateEvery;

    @Option(names = "--sample-every", defaultValue = "0", paramLabel = "N", description = "A panel of inputs | reconstructions every N steps (default: ${DEFAULT-VALUE}).")
    int sampleEvery;

    @Option(names = "--save-every", defaultValue = "250", paramLabel = "N", description = "A checkpoint every N steps (default: ${DEFAULT-VALUE}).")
    int saveEvery;

    @Override
    public Integer call() {
        if (steps < 1 || batch < 1 || !(klWeight >= 0) || !(validationSplit >= 0 && validationSplit < 1)) {
            throw new IllegalArgumentException("--steps and --batch must be positive, --kl-weight >= 0, --validation-split in [0, 1)");
        }
        DType dtype = run.precision();
        Outputs.requireNotInput(out, init, run.resume);
        Outputs.requireWritable(out);
        Path metricsFile = run.metricsFile(out);
        Outputs.requireWritable(metricsFile);
        HeapWeights weights = initialWeights();
        AutoEncoderParams params = AutoEncoderParams.infer(weights);
        requireTrainable(params);
        List<List<Pixels>> split = readImages(params);
        AutoEncoder ae = new AutoEncoder(weights, params, run.kernels());
        AdamW adam = new AdamW(optimizer.settings());
        Map<String, String> meta = metadata(params);
        Integer resumed = run.resume == null ? null : resume(weights, adam, meta);
        System.out.printf("training an AutoEncoder (%s; %,d parameters) on %d images (%d held out), crops of %dx%d%n",
                params, weights.parameters().values().stream().mapToLong(t -> t.size()).sum(), split.get(0).size(),
                split.get(1).size(), size, size);
        try (TrainingLog log = new TrainingLog(metricsFile, resumed)) {
            AutoEncoderTrainer trainer = new AutoEncoderTrainer(ae, weights.parameters(), adam,
                    new LearningRateSchedule(optimizer.lr, LearningRateSchedule.Shape.fromCliName(lrSchedule), warmupSteps, steps),
                    split.get(0), split.get(1), new AutoEncoderTrainer.Loop(steps, batch, size, klWeight, maxGradNorm,
                    saveEvery, validateEvery, sampleEvery), run.seed,
                    step -> out.resolveSibling(CheckpointFiles.stem(out) + String.format("-step%06d.safetensors", step)),
                    file -> save(file, weights, adam, meta, dtype, latentFactors(ae, split.get(0))), log,
                    sampleEvery > 0 ? out.resolveSibling(CheckpointFiles.stem(out) + "-reconstructions") : null, System.out);
            Path last = trainer.run(out);
            System.out.println("AutoEncoder: " + last + "; metrics: " + metricsFile);
        }
        return 0;
    }

    private HeapWeights initialWeights() {
        if (init != null) {
            try (TensorSource source = Checkpoints.open(init)) {
                return HeapWeights.copyOf(source);
            }
        }
        return AutoEncoderInit.fresh(new AutoEncoderParams(3, ch, 3, chMult, resBlocks, zChannels,
                AutoEncoderParams.FLUX_SCALE_FACTOR, AutoEncoderParams.FLUX_SHIFT_FACTOR), run.seed);
    }

    /** GroupNorm's 32 groups need every level's channels to be a multiple of 32; crops a multiple of the downscale. */
    private void requireTrainable(AutoEncoderParams p) {
        for (int m : p.chMult()) {
            if (p.ch() * m % 32 != 0) {
                throw new IllegalArgumentException("--ch " + p.ch() + " --ch-mult " + Arrays.toString(p.chMult())
                        + ": level channels " + p.ch() * m + " are not a multiple of 32 (GroupNorm's 32 groups)");
            }
        }
        if (size < p.downscale() || size % p.downscale() != 0) {
            throw new IllegalArgumentException("--size " + size + " is not a multiple of the AutoEncoder's downscale "
                    + p.downscale());
        }
    }

    /** [training images, held-out images], every one at least --size on each side. */
    private List<List<Pixels>> readImages(AutoEncoderParams p) {
        List<Path> files = ImageFolder.list(images);
        if (files.isEmpty()) {
            throw new IllegalArgumentException(images + ": no images (" + ImageFolder.EXTENSIONS + ")");
        }
        List<Pixels> all = new ArrayList<>();
        for (Path f : files) {
            Pixels px = ImageFiles.readRgb(f);
            if (px.height() < size || px.width() < size) {
                throw new IllegalArgumentException(f + ": the image is " + px.size() + ", smaller than --size " + size);
            }
            all.add(px);
        }
        int held = TrainingSet.heldOut(all.size(), validationSplit);
        int[] order = TrainingSet.shuffle(all.size(), run.seed ^ 0x5EED5EEDL);
        List<Pixels> train = new ArrayList<>();
        List<Pixels> validation = new ArrayList<>();
        for (int i = 0; i < order.length; i++) {
            (i < held ? validation : train).add(all.get(order[i]));
        }
        return List.of(train, validation);
    }

    private Map<String, String> metadata(AutoEncoderParams p) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("anyrefill.software", "anyrefill-jvm " + Main.VERSION);
        m.put("anyrefill.ae_shape", "ch " + p.ch() + ", ch_mult " + Arrays.toString(p.chMult()) + ", res_blocks "
                + p.numResBlocks() + ", z_channels " + p.zChannels());
        m.put("anyrefill.options", String.format(java.util.Locale.ROOT, "size=%d batch=%d steps=%d lr=%s kl_weight=%s "
                + "max_grad_norm=%s seed=%d", size, batch, steps, optimizer.lr, klWeight, maxGradNorm, run.seed));
        return m;
    }

    /**
     * The latent's scale and shift as FLUX's were chosen: 1 / std and the mean of the encoder's
     * means over the centre crops of (up to) 32 training images, so the transformer sees latents
     * of unit variance around 0. Written into each saved file's metadata, where loading reads it.
     */
    private float[] latentFactors(AutoEncoder ae, List<Pixels> images) {
        double sum = 0;
        double sumSq = 0;
        long n = 0;
        AutoEncoderParams p = ae.params();
        for (Pixels px : images.subList(0, Math.min(32, images.size()))) {
            float[] z = ae.encode(ImageFiles.toTensor(dev.anyrefill.image.ImageOps.cropCentre(px, size, size))).data();
            for (float v : z) {
                double raw = v / p.scaleFactor() + p.shiftFactor(); // undo encode's scaling: the encoder's mean
                sum += raw;
                sumSq += raw * raw;
                n++;
            }
        }
        double mean = sum / n;
        double std = Math.sqrt(Math.max(1e-12, sumSq / n - mean * mean));
        return new float[]{(float) (1 / std), (float) mean};
    }

    private int resume(HeapWeights weights, AdamW adam, Map<String, String> meta) {
        Path state = CheckpointFiles.stateOf(run.resume);
        if (!java.nio.file.Files.isRegularFile(state)) {
            throw new IllegalArgumentException(run.resume + ": --resume needs the training state beside it, " + state);
        }
        String saved = TrainingState.metadata(state).get("anyrefill.ae_shape");
        if (!Objects.equals(saved, meta.get("anyrefill.ae_shape"))) {
            throw new IllegalArgumentException(state + ": made for another AutoEncoder: " + saved + " there, "
                    + meta.get("anyrefill.ae_shape") + " here");
        }
        TrainingState.restore(state, weights.parameters(), adam);
        System.out.println("resumed " + run.resume + " at step " + adam.steps() + " of " + steps);
        return adam.steps();
    }

    private static void save(Path file, HeapWeights weights, AdamW adam, Map<String, String> meta, DType dtype,
                             float[] factors) {
        Map<String, String> m = new LinkedHashMap<>(meta);
        m.put(TrainingState.STEPS, Integer.toString(adam.steps()));
        m.put(AutoEncoderParams.SCALE_KEY, Float.toString(factors[0]));
        m.put(AutoEncoderParams.SHIFT_KEY, Float.toString(factors[1]));
        TrainingState.save(CheckpointFiles.stateOf(file), weights.parameters(), adam, m);
        SafetensorsWriter.write(file, weights.parameters(), m, dtype);
    }
}
