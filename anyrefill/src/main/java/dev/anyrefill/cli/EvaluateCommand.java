package dev.anyrefill.cli;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.ImageOps;
import dev.anyrefill.metrics.EdgeF1;
import dev.anyrefill.metrics.ImageMetrics;
import dev.anyrefill.pipeline.Canvas;
import dev.anyrefill.pipeline.LpgImages;
import dev.anyrefill.pipeline.RefillPipeline;
import dev.anyrefill.pipeline.Stages;
import dev.anyrefill.pipeline.Task;
import dev.anyrefill.sampler.Euler;
import dev.anyrefill.sampler.TorchRandom;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.training.PairsFolder;
import dev.anyrefill.training.SamplePanels;
import dev.anyrefill.vae.AutoEncoder;
import dev.anyrefill.weights.AtomicFiles;
import dev.anyrefill.weights.Checkpoints;
import dev.anyrefill.weights.TensorSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code anyrefill evaluate}: how well a task is solved on held-out pairs, as PSNR and SSIM of
 * each answer against the pair's target (ImageMetrics), and their means. The edge tasks are also
 * scored by edge F1 (EdgeF1): image-to-canny's answer map against the true one, and
 * canny-to-image's answer by how closely its own Canny edges follow the input map (PSNR cannot
 * say whether a picture painted from edges drew the scene they outline: its colours are a
 * guess). The answer comes from
 * the model (with its LoRAs) on the LPG canvas, or from a baseline: the left image itself (the
 * grey, blurred or nearest-upsampled input, what a task must beat), or the model with the
 * reference left out (the whole canvas masked: what the left prompt adds), or the target through
 * the AutoEncoder alone (the best any answer of the model can score).
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "PSNR and SSIM of a task's answers on a folder of pairs against their targets, or of a baseline.")
final class EvaluateCommand implements Callable<Integer> {
    /** Where the answers come from. */
    enum Source { MODEL, INPUT, NO_REFERENCE, AUTOENCODER }

    @Option(names = "--pairs", required = true, paramLabel = "DIR", description = "NAME.ref.png + NAME.target.png pairs (see train).")
    Path pairs;

    @Option(names = "--task", required = true, paramLabel = "TASK", description = "The task (sets the masking; see refill --help).")
    String task;

    @Option(names = "--baseline", defaultValue = "none", paramLabel = "NAME",
            description = "none (the model's answers, default), input (the left image as the answer), no-reference "
                    + "(the model with the whole canvas masked), or autoencoder (the target encoded and decoded: the "
                    + "ceiling; needs --ae only).")
    String baseline;

    @Option(names = "--model", paramLabel = "FILE", description = "FLUX.Fill transformer (not with --baseline input).")
    Path model;

    @Option(names = "--lora", paramLabel = "FILE[:WEIGHT]", description = "A LoRA with its weight; repeatable.")
    List<String> loras = new ArrayList<>();

    @Option(names = "--ae", paramLabel = "FILE", description = "FLUX AutoEncoder (not with --baseline input).")
    Path ae;

    @Option(names = "--prompt-embeddings", paramLabel = "FILE", description = "'txt' and 'vec' of the prompt (not with --baseline input).")
    Path promptEmbeddings;

    @Option(names = "--size", paramLabel = "HxW", description = "Size of each half (default: the pairs' own).")
    String size;

    @Option(names = "--steps", defaultValue = "20", paramLabel = "N", description = "Euler steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--guidance", defaultValue = "30", paramLabel = "G", description = "Guidance (default: ${DEFAULT-VALUE}).")
    double guidance;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seed of pair i's noise: S + i (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--limit", paramLabel = "N", description = "Only the first N pairs (by name).")
    Integer limit;

    @Option(names = "--canny", paramLabel = "LOW,HIGH", split = ",", defaultValue = "100,200",
            description = "With canny-to-image: the thresholds that drew the pairs' edge maps (prepare --canny), to "
                    + "draw the answer's own edges with (default: ${DEFAULT-VALUE}, prepare's).")
    int[] canny;

    @Option(names = "--out", paramLabel = "FILE", description = "One JSON line per pair and a last one with the means.")
    Path out;

    @Option(names = "--panel", paramLabel = "IMAGE", description = "A panel of the first pairs: reference | target | answer.")
    Path panel;

    /** Image-to-canny's edge F1 at every threshold, summed over the pairs (for ODS). */
    private final double[] summedF1 = new double[EdgeF1.THRESHOLDS.length];

    @Override
    public Integer call() throws IOException {
        Task chosen = Task.fromCliName(task);
        Source source = source();
        if (canny.length != 2 || canny[0] < 0 || canny[0] > canny[1]) {
            throw new IllegalArgumentException("--canny LOW,HIGH needs 0 <= LOW <= HIGH");
        }
        if (steps < 1) {
            throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
        }
        List<PairsFolder.Pair> all = PairsFolder.read(pairs, false);
        List<PairsFolder.Pair> chosenPairs = limit == null ? all : all.subList(0, Math.min(limit, all.size()));
        for (Path p : new Path[]{out, panel}) {
            if (p != null) {
                Outputs.requireWritable(p);
            }
        }
        LpgImages.Size halves = size == null ? null : LpgImages.Size.parse(size);
        List<double[]> scores = new ArrayList<>();
        List<Tensor> rows = new ArrayList<>();
        if (source == Source.INPUT) {
            for (PairsFolder.Pair p : chosenPairs) {
                LpgImages images = LpgImages.read(p.reference(), p.target(), p.mask(), halves, false);
                scores.add(score(chosen, images.reference(), images.target(), rows, images));
            }
        } else if (source == Source.AUTOENCODER) {
            if (ae == null) {
                throw new IllegalArgumentException("--baseline autoencoder needs --ae");
            }
            try (TensorSource aeWeights = Checkpoints.open(ae)) {
                AutoEncoder autoEncoder = new AutoEncoder(aeWeights, dev.anyrefill.kernels.Backends.java());
                for (PairsFolder.Pair p : chosenPairs) {
                    LpgImages images = LpgImages.read(p.reference(), p.target(), p.mask(), halves, false);
                    Tensor through = clamp(autoEncoder.decode(autoEncoder.encode(images.target())));
                    scores.add(score(chosen, through, images.target(), rows, images));
                }
            }
        } else {
            requireModel();
            ModelOptions options = new ModelOptions();
            options.model = model;
            options.loras = loras;
            options.loraMode = "runtime";
            options.backend = dev.anyrefill.kernels.Backends.JAVA;
            Stages quiet = new Stages(new PrintStream(PrintStream.nullOutputStream()));
            try (ModelOptions.Loaded loaded = options.load(quiet, System.out);
                 TensorSource aeWeights = Checkpoints.open(ae);
                 InputTensors prompt = new InputTensors(promptEmbeddings)) {
                var c = loaded.model().config();
                Tensor txt = prompt.get("txt", dev.anyrefill.dit.Shapes.ANY, c.contextInDim());
                Tensor vec = prompt.get("vec", c.vecInDim());
                RefillPipeline pipeline = new RefillPipeline(loaded.model(), new AutoEncoder(aeWeights,
                        loaded.model().kernels()), null);
                for (int i = 0; i < chosenPairs.size(); i++) {
                    PairsFolder.Pair p = chosenPairs.get(i);
                    LpgImages images = LpgImages.read(p.reference(), p.target(), chosen.fullyMasked() ? null : p.mask(),
                            halves, false);
                    Canvas canvas = Canvas.of(images.reference(), images.target(), images.targetMask(), false);
                    if (source == Source.NO_REFERENCE) {
                        canvas = canvas.withEverythingMasked();
                    }
                    Tensor noise = TorchRandom.randn(seed + i, pipeline.noiseShape(canvas));
                    Tensor packed = pipeline.denoise(canvas, pipeline.condition(canvas), noise, txt, vec, steps, guidance,
                            Euler.StepListener.NONE);
                    Tensor answer = clamp(RefillPipeline.answer(canvas, pipeline.decode(canvas, packed), false));
                    scores.add(score(chosen, answer, images.target(), rows, images));
                }
            }
        }
        report(chosen, source, chosenPairs, scores);
        if (panel != null && !rows.isEmpty()) {
            ImageFiles.writeImage(panel, SamplePanels.below(rows));
        }
        return 0;
    }

    private Source source() {
        return switch (baseline) {
            case "none" -> Source.MODEL;
            case "input" -> Source.INPUT;
            case "no-reference" -> Source.NO_REFERENCE;
            case "autoencoder" -> Source.AUTOENCODER;
            default -> throw new IllegalArgumentException("--baseline '" + baseline + "': none, input, no-reference or "
                    + "autoencoder");
        };
    }

    private void requireModel() {
        if (model == null || ae == null || promptEmbeddings == null) {
            throw new IllegalArgumentException("evaluating a model needs --model, --ae and --prompt-embeddings"
                    + " (--baseline input needs none of them)");
        }
    }

    /**
     * PSNR and SSIM of answer against target, and for an edge task its edge F1 (PSNR favours a
     * black map for image-to-canny, and cannot tell a scene that follows canny-to-image's edges
     * from one that does not); the first four pairs also go into the panel.
     */
    private double[] score(Task chosen, Tensor answer, Tensor target, List<Tensor> rows, LpgImages images) {
        if (rows.size() < 4) {
            rows.add(SamplePanels.beside(List.of(images.reference(), target, answer)));
        }
        double psnr = ImageMetrics.psnr(answer, target);
        double ssim = ImageMetrics.ssim(answer, target);
        return switch (chosen) {
            case IMAGE_TO_CANNY -> {
                double[] f1 = EdgeF1.f1AtThresholds(answer, target, EdgeF1.TOLERANCE);
                for (int i = 0; i < f1.length; i++) {
                    summedF1[i] += f1[i];
                }
                yield new double[]{psnr, ssim, EdgeF1.f1(answer, target, EdgeF1.TOLERANCE)};
            }
            case CANNY_TO_IMAGE -> new double[]{psnr, ssim, EdgeF1.f1(edgesOf(answer), images.reference(),
                    EdgeF1.TOLERANCE)};
            default -> new double[]{psnr, ssim};
        };
    }

    /** The answer's Canny edges, drawn as the pairs' input maps were. */
    private Tensor edgesOf(Tensor answer) {
        return ImageFiles.toTensor(ImageOps.canny(ImageFiles.toPixels(answer), canny[0], canny[1]));
    }

    private static boolean edgeTarget(Task chosen) {
        return chosen == Task.IMAGE_TO_CANNY || chosen == Task.CANNY_TO_IMAGE;
    }

    /** Image-to-canny's F1 at the set's best threshold (EdgeF1's ODS), for the report or the JSON line. */
    private String ods(Task chosen, int pairCount, boolean json) {
        if (chosen != Task.IMAGE_TO_CANNY) {
            return "";
        }
        int best = EdgeF1.best(summedF1);
        double f1 = summedF1[best] / pairCount;
        double threshold = EdgeF1.THRESHOLDS[best];
        return json ? String.format(Locale.ROOT, ",\"edge_f1_ods\":%.5f,\"ods_threshold\":%.1f", f1, threshold)
                : String.format(Locale.ROOT, "; at the set's best threshold (ODS, %.1f) %.4f", threshold, f1);
    }

    /** An answer as an image file holds it: values clamped to [-1, 1]. */
    private static Tensor clamp(Tensor image) {
        float[] v = image.data().clone();
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.clamp(v[i], -1f, 1f);
        }
        return Tensor.wrap(v, image.shape());
    }

    private void report(Task chosen, Source source, List<PairsFolder.Pair> chosenPairs, List<double[]> scores)
            throws IOException {
        double psnr = scores.stream().mapToDouble(s -> s[0]).average().orElseThrow();
        double ssim = scores.stream().mapToDouble(s -> s[1]).average().orElseThrow();
        String what = switch (source) {
            case INPUT -> "the input itself";
            case NO_REFERENCE -> "the model without the reference";
            case AUTOENCODER -> "the target through the AutoEncoder (the ceiling)";
            case MODEL -> "the model" + (loras.isEmpty() ? " (no LoRA)" : " with " + String.join(", ", loras));
        };
        boolean edges = edgeTarget(chosen);
        double f1 = edges ? scores.stream().mapToDouble(s -> s[2]).average().orElseThrow() : Double.NaN;
        System.out.printf(Locale.ROOT, "evaluate %s on %d pairs of %s, answers from %s: PSNR %.2f dB, SSIM %.4f%s%n",
                chosen.cliName(), scores.size(), pairs, what, psnr, ssim,
                edges ? String.format(Locale.ROOT, ", edge F1 %.4f (%s, tolerance %d px)", f1,
                        chosen == Task.CANNY_TO_IMAGE ? "the answer's Canny edges against the input map"
                                : "against the true map", EdgeF1.TOLERANCE) + ods(chosen, scores.size(), false) : "");
        if (out != null) {
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < scores.size(); i++) {
                lines.add(String.format(Locale.ROOT, "{\"pair\":\"%s\",\"psnr\":%.4f,\"ssim\":%.5f%s}",
                        chosenPairs.get(i).name(), scores.get(i)[0], scores.get(i)[1],
                        edges ? String.format(Locale.ROOT, ",\"edge_f1\":%.5f", scores.get(i)[2]) : ""));
            }
            lines.add(String.format(Locale.ROOT, "{\"task\":\"%s\",\"source\":\"%s\",\"loras\":\"%s\",\"pairs\":%d,"
                            + "\"psnr\":%.4f,\"ssim\":%.5f%s}", chosen.cliName(), source.name().toLowerCase(Locale.ROOT),
                    String.join(",", loras), scores.size(), psnr, ssim,
                    edges ? String.format(Locale.ROOT, ",\"edge_f1\":%.5f", f1) + ods(chosen, scores.size(), true) : ""));
            AtomicFiles.write(out, (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }
}
