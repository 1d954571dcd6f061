package dev.anyrefill.cli;

import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.pipeline.LpgImages;
import dev.anyrefill.pipeline.RefillPipeline;
import dev.anyrefill.pipeline.Stages;
import dev.anyrefill.pipeline.Task;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.text.TextEncoderPaths;
import dev.anyrefill.train.AdamW;
import dev.anyrefill.train.LearningRateSchedule;
import dev.anyrefill.train.LoraWriter;
import dev.anyrefill.train.TimestepSampler;
import dev.anyrefill.train.TrainableLora;
import dev.anyrefill.training.CaptionEmbeddings;
import dev.anyrefill.training.CheckpointFiles;
import dev.anyrefill.training.ContentHash;
import dev.anyrefill.training.LatentCache;
import dev.anyrefill.training.LoraTrainer;
import dev.anyrefill.training.PairsFolder;
import dev.anyrefill.training.SamplePanels;
import dev.anyrefill.training.TrainingLog;
import dev.anyrefill.training.TrainingSet;
import dev.anyrefill.vae.AutoEncoder;
import dev.anyrefill.weights.Checkpoints;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.TensorSource;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One {@code train} job, stage by stage: open the frozen model and the VAE, read the pairs and
 * split off the validation ones, encode (or find cached) every pair's latents and captions,
 * make the LoRA (or resume it), then the loop. Timed as every command's stages are.
 */
final class LoraTraining {
    /** The training options, checked. */
    record Options(Task task, LpgImages.Size size, boolean swap, int rank, double alpha, Pattern targets,
                   AdamW.Settings adam, LearningRateSchedule.Shape lrShape, int warmupSteps, Double shift,
                   TimestepSampler timesteps, double captionDropout, TrainingSet.Region lossRegion, int masksPerPair,
                   double validationSplit, long seed, LoraTrainer.Loop loop, Samples samples,
                   LoraWriter.Format format, DType precision) {
    }

    /** Sample panels: how many pairs, Euler steps and guidance. */
    record Samples(int pairs, int steps, double guidance) {
    }

    private final Path model;
    private final Path ae;
    private final Path pairsDir;
    private final Path embeddings;
    private final Path emptyEmbeddings;
    private final Path textEncoders;
    private final Path out;
    private final Path metrics;
    private final Path resume;
    private final Options o;
    private final TrainCommand command;
    private final PrintStream log = System.out;

    LoraTraining(Path model, Path ae, Path pairsDir, Path embeddings, Path emptyEmbeddings, Path textEncoders, Path out,
                 Path metrics, Path resume, Options o, TrainCommand command) {
        this.model = model;
        this.ae = ae;
        this.pairsDir = pairsDir;
        this.embeddings = embeddings;
        this.emptyEmbeddings = emptyEmbeddings;
        this.textEncoders = textEncoders;
        this.out = out;
        this.metrics = metrics;
        this.resume = resume;
        this.o = o;
        this.command = command;
    }

    void run() {
        Stages stages = new Stages(log);
        List<PairsFolder.Pair> all = stages.time("read pairs", () -> PairsFolder.read(pairsDir, textEncoders != null));
        Kernels kernels = new JavaKernels();
        try (FluxCheckpoint checkpoint = stages.time("open checkpoint", () -> FluxCheckpoint.open(model));
             TensorSource aeWeights = Checkpoints.open(ae)) {
            FluxModel flux = stages.time("load model", () -> new FluxModel(checkpoint, kernels));
            AutoEncoder autoEncoder = stages.time("load VAE", () -> new AutoEncoder(aeWeights, kernels));
            RefillPipeline pipeline = new RefillPipeline(flux, autoEncoder, null); // checks the two fit
            Path cache = out.resolveSibling(CheckpointFiles.stem(out) + ".cache");
            List<List<PairsFolder.Pair>> split = split(all);
            LatentCache latents = new LatentCache(cache, autoEncoder, new LatentCache.Settings(o.size(), o.swap(),
                    o.task(), o.masksPerPair(), o.seed(), fingerprint(ae)), log);
            List<TrainingSet.Encoded> train = stages.time("latents of " + split.get(0).size() + " training pairs",
                    () -> encode(latents, split.get(0)));
            List<TrainingSet.Encoded> validation = stages.time("latents of " + split.get(1).size() + " validation pairs",
                    () -> encode(latents, split.get(1)));
            CaptionEmbeddings captions = stages.time("text conditioning", () -> embeddings != null
                    ? CaptionEmbeddings.shared(embeddings, emptyEmbeddings, flux.config())
                    : CaptionEmbeddings.encoded(TextEncoderPaths.resolve(textEncoders, null, null, null, null), kernels,
                    all.stream().map(PairsFolder.Pair::caption).toList(), cache, flux.config(), log));
            TrainingSet probe = new TrainingSet(train, validation, captions, draw(o.timesteps()), o.swap());
            double shift = o.shift() != null ? o.shift() : TrainCommand.autoShift(probe.tokens());
            TimestepSampler timesteps = new TimestepSampler(o.timesteps().kind(), o.timesteps().scale(),
                    o.timesteps().mean(), shift);
            TrainingSet data = new TrainingSet(train, validation, captions, draw(timesteps), o.swap());

            TrainableLora lora = TrainableLora.fresh(flux, o.targets(), o.rank(), o.alpha(), o.seed());
            lora.attach(flux);
            AdamW adam = new AdamW(o.adam());
            CheckpointFiles checkpoints = new CheckpointFiles(out, lora, adam, o.format(), o.precision(), metadata(shift));
            Integer resumed = resume == null ? null : checkpoints.resume(resume);
            if (resumed != null) {
                log.println("resumed " + resume + " at step " + resumed + " of " + o.loop().steps());
                if (resumed > o.loop().steps()) {
                    throw new IllegalArgumentException(resume + ": holds " + resumed + " steps, more than --steps "
                            + o.loop().steps());
                }
            }
            log.printf(Locale.ROOT, "training %d LoRA modules (rank %d, alpha %s, %,d parameters) on %d pairs "
                            + "(%d held out), %d tokens per canvas, timestep shift %.4g; the model stays frozen%n",
                    lora.modules().size(), o.rank(), o.alpha(), parameterCount(lora), train.size(), validation.size(),
                    data.tokens(), shift);
            SamplePanels samples = o.samples() == null ? null : new SamplePanels(pipeline, samplePairs(split),
                    captions, new SamplePanels.Settings(o.samples().steps(), o.samples().guidance(), o.seed(), o.size(),
                    o.swap(), o.task()), out.resolveSibling(CheckpointFiles.stem(out) + "-samples"));
            LearningRateSchedule schedule = new LearningRateSchedule(o.adam().lr(), o.lrShape(), o.warmupSteps(),
                    o.loop().steps());
            try (TrainingLog metricsLog = new TrainingLog(metrics, resumed)) {
                LoraTrainer trainer = new LoraTrainer(flux, lora, adam, schedule, data, o.loop(), checkpoints, metricsLog,
                        samples, log);
                Path last = stages.time("train", () -> trainer.run(out));
                log.println("LoRA: " + last + "; metrics: " + metrics + "; loss curve: " + LoraTrainer.lossCurveOf(metrics));
            }
        }
    }

    /** [training pairs, validation pairs]: the held-out ones drawn by the seed, at least one when a split is asked. */
    private List<List<PairsFolder.Pair>> split(List<PairsFolder.Pair> all) {
        int held = (int) Math.round(o.validationSplit() * all.size());
        if (o.validationSplit() > 0 && held == 0 && all.size() > 1) {
            held = 1;
        }
        int[] order = TrainingSet.shuffle(all.size(), o.seed() ^ 0x5EED5EEDL);
        boolean[] isHeld = new boolean[all.size()];
        for (int i = 0; i < held; i++) {
            isHeld[order[i]] = true;
        }
        List<PairsFolder.Pair> train = new ArrayList<>();
        List<PairsFolder.Pair> validation = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            (isHeld[i] ? validation : train).add(all.get(i));
        }
        return List.of(train, validation);
    }

    private List<PairsFolder.Pair> samplePairs(List<List<PairsFolder.Pair>> split) {
        List<PairsFolder.Pair> from = split.get(1).isEmpty() ? split.get(0) : split.get(1);
        return from.subList(0, Math.min(o.samples().pairs(), from.size()));
    }

    private static List<TrainingSet.Encoded> encode(LatentCache cache, List<PairsFolder.Pair> pairs) {
        List<TrainingSet.Encoded> out = new ArrayList<>();
        for (PairsFolder.Pair p : pairs) {
            out.add(new TrainingSet.Encoded(p, cache.get(p)));
        }
        return out;
    }

    private TrainingSet.Draw draw(TimestepSampler timesteps) {
        return new TrainingSet.Draw(timesteps, o.captionDropout(), o.lossRegion(), o.seed());
    }

    private Map<String, String> metadata(double shift) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("ss_network_module", "networks.lora_flux");
        m.put("ss_network_dim", Integer.toString(o.rank()));
        m.put("ss_network_alpha", fmt(o.alpha()));
        m.put("ss_base_model_version", "flux1");
        m.put("anyrefill.software", "anyrefill-jvm " + Main.VERSION);
        m.put("anyrefill.task", o.task().cliName());
        m.put("anyrefill.rank", Integer.toString(o.rank()));
        m.put("anyrefill.alpha", fmt(o.alpha()));
        m.put("anyrefill.targets", o.targets().pattern());
        m.put("anyrefill.base_model", model.getFileName().toString());
        m.put("anyrefill.base_model_hash", fingerprint(model));
        m.put("anyrefill.timestep_shift", fmt(shift));
        m.put("anyrefill.options", command.describe());
        return m;
    }

    private static String fingerprint(Path weights) {
        return ContentHash.weights(weights);
    }

    private static String fmt(double x) {
        return String.format(Locale.ROOT, "%s", x);
    }

    private static long parameterCount(TrainableLora lora) {
        return lora.parameters().values().stream().mapToLong(dev.anyrefill.tensor.Tensor::size).sum();
    }
}
