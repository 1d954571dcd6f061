package dev.anyrefill.cli;

import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.weights.SafetensorsWriter;
import dev.anyrefill.weights.HeapWeights;
import dev.anyrefill.weights.FluxShapes;
import dev.anyrefill.weights.FluxConfig;
import dev.anyrefill.train.FluxInit;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.dit.Gradients;
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
import dev.anyrefill.training.ImageFolder;
import dev.anyrefill.training.SingleImageLatents;
import dev.anyrefill.training.ContentHash;
import dev.anyrefill.training.LatentCache;
import dev.anyrefill.training.TransformerTrainer;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One {@code train} job, stage by stage: open the model (mapped and frozen for a LoRA; F32 on
 * the heap for {@code --full}) and the VAE, read the pairs and split off the validation ones,
 * encode (or find cached) every pair's latents and captions, make the LoRA or take every
 * weight as trained (or resume them), then the loop. Timed as every command's stages are.
 */
final class TransformerTraining {
    /** The training options, checked. */
    record Options(Task task, LpgImages.Size size, boolean swap, int rank, double alpha, Pattern targets,
                   AdamW.Settings adam, LearningRateSchedule.Shape lrShape, int warmupSteps, Double shift,
                   TimestepSampler timesteps, double captionDropout, TrainingSet.Region lossRegion, int masksPerPair,
                   double validationSplit, long seed, TransformerTrainer.Loop loop, Samples samples,
                   LoraWriter.Format format, DType precision, FluxConfig newModel) {
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
    private final boolean fullExisting;
    private final Kernels kernels;
    private final PrintStream log = System.out;

    TransformerTraining(Path model, Path ae, Path pairsDir, Path embeddings, Path emptyEmbeddings, Path textEncoders, Path out,
                 Path metrics, Path resume, Options o, TrainCommand command, boolean full, Kernels kernels) {
        this.kernels = kernels;
        this.fullExisting = full && o.newModel() == null;
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

    /** What a run trains: the model, its trained parameters, where their gradients go, how they are written. */
    private record Trained(Map<String, Tensor> params, Gradients grads, CheckpointFiles.Writer writer,
                           String description) {
    }

    void run() {
        Stages stages = new Stages(log);
        List<PairsFolder.Pair> all = stages.time(o.task() == null ? "list images" : "read pairs", () -> o.task() == null
                ? ImageFolder.list(pairsDir).stream().map(f -> new PairsFolder.Pair(f.getFileName().toString(), f, f, null,
                null)).toList()
                : PairsFolder.read(pairsDir, textEncoders != null));
        if (all.isEmpty()) {
            throw new IllegalArgumentException(pairsDir + ": no images (" + ImageFolder.EXTENSIONS + ")");
        }
        try (TensorSource weights = stages.time("open model", this::openModel);
             TensorSource aeWeights = Checkpoints.open(ae)) {
            FluxCheckpoint checkpoint = weights instanceof FluxCheckpoint c ? c : FluxCheckpoint.of(weights);
            FluxModel flux = stages.time("load model", () -> new FluxModel(checkpoint, kernels));
            log.println("model: " + (model == null ? "new" : model) + " (" + checkpoint.config() + ")");
            AutoEncoder autoEncoder = stages.time("load VAE", () -> new AutoEncoder(aeWeights, kernels));
            RefillPipeline pipeline = new RefillPipeline(flux, autoEncoder, null); // checks the two fit
            Path cache = out.resolveSibling(CheckpointFiles.stem(out) + ".cache");
            List<List<PairsFolder.Pair>> split = split(all);
            java.util.function.Function<PairsFolder.Pair, LatentCache.Entry> latents = o.task() == null
                    ? new SingleImageLatents(cache, autoEncoder, o.size(), o.masksPerPair(), o.seed(), fingerprint(ae), log)::get
                    : new LatentCache(cache, autoEncoder, new LatentCache.Settings(o.size(), o.swap(), o.task(),
                    o.masksPerPair(), o.seed(), fingerprint(ae)), log)::get;
            List<TrainingSet.Encoded> train = stages.time("latents of " + split.get(0).size() + " training pairs",
                    () -> encode(latents, split.get(0)));
            List<TrainingSet.Encoded> validation = stages.time("latents of " + split.get(1).size() + " validation pairs",
                    () -> encode(latents, split.get(1)));
            CaptionEmbeddings captions = stages.time("text conditioning", () -> embeddings != null
                    ? CaptionEmbeddings.shared(embeddings, emptyEmbeddings, flux.config())
                    : CaptionEmbeddings.encoded(TextEncoderPaths.resolve(textEncoders, null, null, null, null), kernels,
                    all.stream().map(PairsFolder.Pair::caption).toList(), cache, flux.config(), log));
            // the automatic shift needs the canvas's token count, which the set measures (and checks) first
            TrainingSet probe = new TrainingSet(train, validation, captions, draw(o.timesteps()), o.swap());
            double shift = o.shift() != null ? o.shift() : TrainCommand.autoShift(probe.tokens());
            TimestepSampler timesteps = new TimestepSampler(o.timesteps().kind(), o.timesteps().scale(),
                    o.timesteps().mean(), shift);
            TrainingSet data = new TrainingSet(train, validation, captions, draw(timesteps), o.swap());

            Trained trained = isFull() ? full((HeapWeights) weights) : lora(flux);
            AdamW adam = new AdamW(o.adam());
            CheckpointFiles checkpoints = new CheckpointFiles(out, trained.params(), adam, trained.writer(),
                    metadata(shift));
            Integer resumed = resume == null ? null : checkpoints.resume(resume);
            if (resumed != null) {
                log.println("resumed " + resume + " at step " + resumed + " of " + o.loop().steps());
                if (resumed > o.loop().steps()) {
                    throw new IllegalArgumentException(resume + ": holds " + resumed + " steps, more than --steps "
                            + o.loop().steps());
                }
            }
            log.printf(Locale.ROOT, "training %s: %,d parameters, on %d %s (%d held out), %d tokens per canvas, "
                            + "timestep shift %.4g%n", trained.description(), count(trained.params()), train.size(),
                    o.task() == null ? "images" : "pairs", validation.size(), data.tokens(), shift);
            SamplePanels samples = o.samples() == null ? null : new SamplePanels(pipeline, samplePairs(split),
                    captions, new SamplePanels.Settings(o.samples().steps(), o.samples().guidance(), o.seed(), o.size(),
                    o.swap(), o.task()), out.resolveSibling(CheckpointFiles.stem(out) + "-samples"));
            LearningRateSchedule schedule = new LearningRateSchedule(o.adam().lr(), o.lrShape(), o.warmupSteps(),
                    o.loop().steps());
            try (TrainingLog metricsLog = new TrainingLog(metrics, resumed)) {
                TransformerTrainer trainer = new TransformerTrainer(flux, trained.params(), trained.grads(), adam,
                        schedule, data, o.loop(), checkpoints, metricsLog, samples, log);
                long start = System.nanoTime();
                Path last = trainer.run(out); // its own progress bar: no stage heartbeat
                log.printf(Locale.ROOT, "train: %.3f s%n", (System.nanoTime() - start) / 1e9);
                log.println((isFull() ? "model: " : "LoRA: ") + last + "; metrics: " + metrics + "; loss curve: "
                        + TransformerTrainer.lossCurveOf(metrics));
            }
        }
    }

    private boolean isFull() {
        return o.newModel() != null || fullExisting;
    }

    /** A LoRA run maps the model (frozen, in its stored type); --full copies it to the heap as F32, or makes one. */
    private TensorSource openModel() {
        if (o.newModel() != null) {
            requireHeapFits(o.newModel());
            return FluxInit.fresh(o.newModel(), o.seed());
        }
        FluxCheckpoint c = FluxCheckpoint.open(model);
        if (!fullExisting) {
            return c;
        }
        try (c) {
            requireHeapFits(c.config());
            return HeapWeights.copyOf(c);
        }
    }

    private Trained lora(FluxModel flux) {
        TrainableLora lora = TrainableLora.fresh(flux, o.targets(), o.rank(), o.alpha(), o.seed());
        lora.attach(flux);
        Gradients grads = Gradients.loraOnly();
        lora.register(grads);
        return new Trained(lora.parameters(), grads,
                (file, meta) -> LoraWriter.write(file, lora, o.format(), o.precision(), meta),
                lora.modules().size() + " LoRA modules (rank " + o.rank() + ", alpha " + o.alpha()
                        + "; the model stays frozen)");
    }

    private Trained full(HeapWeights weights) {
        Map<String, Tensor> params = weights.parameters();
        return new Trained(params, new Gradients(name -> true),
                (file, meta) -> SafetensorsWriter.write(file, params, meta, o.precision()),
                "every weight of the transformer (F32 master weights)");
    }

    /** Full-parameter training holds 16 bytes per parameter on the heap (weight, gradient, two moments). */
    private static void requireHeapFits(FluxConfig c) {
        long count = FluxShapes.of(c).values().stream().mapToLong(s -> Tensor.count(s)).sum();
        long need = count * FluxInit.BYTES_PER_PARAMETER;
        long max = Runtime.getRuntime().maxMemory();
        if (need > max * 0.8) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "--full: %,d parameters need %.1f GB of heap "
                    + "(weights, gradients and AdamW's moments in F32), this JVM has %.1f GB (-Xmx); full training is for "
                    + "small models, train a LoRA instead", count, need / 1e9, max / 1e9));
        }
    }

    /** [training pairs, validation pairs]: the held-out ones drawn by the seed, at least one when a split is asked. */
    private List<List<PairsFolder.Pair>> split(List<PairsFolder.Pair> all) {
        int held = TrainingSet.heldOut(all.size(), o.validationSplit());
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

    private static List<TrainingSet.Encoded> encode(java.util.function.Function<PairsFolder.Pair, LatentCache.Entry> cache,
                                                    List<PairsFolder.Pair> pairs) {
        List<TrainingSet.Encoded> out = new ArrayList<>();
        for (PairsFolder.Pair p : pairs) {
            out.add(new TrainingSet.Encoded(p, cache.apply(p)));
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
        m.put("anyrefill.task", o.task() == null ? "inpainting (single images)" : o.task().cliName());
        m.put("anyrefill.rank", isFull() ? "full" : Integer.toString(o.rank()));
        m.put("anyrefill.alpha", isFull() ? "full" : fmt(o.alpha()));
        m.put("anyrefill.targets", isFull() ? "every weight" : o.targets().pattern());
        m.put("anyrefill.base_model", model == null ? "new" : model.getFileName().toString());
        m.put("anyrefill.base_model_hash", model == null ? "new: " + o.newModel() + ", seed " + o.seed()
                : fingerprint(model));
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

    private static long count(Map<String, Tensor> params) {
        return params.values().stream().mapToLong(Tensor::size).sum();
    }
}
