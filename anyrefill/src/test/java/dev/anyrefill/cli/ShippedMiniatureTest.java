package dev.anyrefill.cli;

import dev.anyrefill.pipeline.Task;
import dev.anyrefill.pipeline.TrainedMiniature;
import dev.anyrefill.testing.Golden;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped miniature AnyRefill (models/miniature) solves its tasks: on held-out evaluation
 * scenes, through the whole command line (dataset, prepare, evaluate), each task LoRA's answers
 * must beat a baseline by a stated margin (PSNR, or edge F1 for image-to-canny). A change that
 * breaks the model, the LoRA path, the sampler or the AutoEncoder drops the answers below it.
 *
 * <p>The baseline is the task's trivial answer (the grey input) where the miniature can beat
 * it. On 4x super-resolution and deblur it cannot: the blurred and the up-sampled inputs score
 * above the miniature AutoEncoder's own ceiling on these smooth scenes
 * (models/miniature/README.md), and an edge map is no answer to canny-to-image; there the
 * baseline is the same model without its LoRA, on the same LPG canvas: what the LoRA adds.
 * The margins are at most about half the gap measured on these four scenes (5.6 dB for colorization,
 * 9.9 for canny-to-image, 6.6 for super-resolution and deblur, edge F1 0.26 for
 * image-to-canny; AMD EPYC family 26 model 2).
 * Image-to-canny is scored by edge F1 (PSNR favours an all-black map), against the photo
 * itself as the answer (the task's input: about a third of its edges lie near true ones).
 */
class ShippedMiniatureTest {
    /** Evaluation scenes per task: enough for a mean that a broken pipeline cannot reach by chance. */
    private static final int PAIRS = 4;
    private static Path models;
    private static Path scenes;

    @BeforeAll
    static void scenes(@TempDir Path tmp) {
        models = Golden.dir().resolve("../../models/miniature").normalize(); // beside testdata/golden
        scenes = tmp.resolve("scenes");
        CliRun r = CliRun.of("dataset", "scenes", "--count", Integer.toString(PAIRS), "--size", "128", "--split", "eval",
                "--out", scenes.toString());
        assertEquals(0, r.exitCode(), r.err());
    }

    @ParameterizedTest(name = "{0} beats {1} by {3} in {2}")
    @CsvSource({
            "colorization, input, psnr, 2.0",
            "canny-to-image, no-lora, psnr, 3.0",
            "super-resolution-4x, no-lora, psnr, 3.5",
            "deblur, no-lora, psnr, 3.5",
            "image-to-canny, input, edge-f1, 0.12",
    })
    void theTaskLoraBeatsItsBaseline(String task, String baseline, String metric, double margin,
                                     @TempDir Path tmp) throws IOException {
        Task t = Task.fromCliName(task);
        assertNull(TrainedMiniature.missing(models, List.of(t)), "the shipped miniature in " + models);
        Path pairs = tmp.resolve("pairs");
        List<String> prepare = new ArrayList<>(List.of("prepare", "--task", task, "--pairs-from", scenes.toString(),
                "--out", pairs.toString()));
        if (t == Task.CANNY_TO_IMAGE || t == Task.IMAGE_TO_CANNY) {
            prepare.addAll(List.of("--canny", TrainedMiniature.CANNY_LOW + "," + TrainedMiniature.CANNY_HIGH));
        }
        assertEquals(0, CliRun.of(prepare.toArray(String[]::new)).exitCode());
        double withLora = score(metric, evaluate(pairs, task, "--lora",
                models.resolve(TrainedMiniature.loraName(t)).toString()));
        double base = score(metric, baseline.equals("no-lora")
                ? evaluate(pairs, task)
                : evaluate(pairs, task, "--baseline", baseline));
        System.out.printf(Locale.ROOT, "shipped miniature, %s on %d evaluation scenes, %s: %.3f with its LoRA, "
                + "%.3f for the %s baseline, margin %.3f (needed %.2f)%n", task, PAIRS, metric, withLora, base, baseline,
                withLora - base, margin);
        assertTrue(withLora > base + margin, task + ", " + metric + ": " + withLora + " against " + baseline + "'s " + base
                + ", needed a margin of " + margin);
    }

    private static CliRun evaluate(Path pairs, String task, String... extra) {
        List<String> args = new ArrayList<>(List.of("evaluate", "--pairs", pairs.toString(), "--task", task,
                "--canny", TrainedMiniature.CANNY_LOW + "," + TrainedMiniature.CANNY_HIGH));
        if (!List.of(extra).contains("input")) {
            args.addAll(List.of("--model", models.resolve(TrainedMiniature.TRANSFORMER).toString(),
                    "--ae", models.resolve(TrainedMiniature.AUTOENCODER).toString(),
                    "--prompt-embeddings", models.resolve(TrainedMiniature.PROMPT).toString()));
        }
        args.addAll(List.of(extra));
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        return r;
    }

    /** PSNR in dB, or the edge F1 at mid grey that evaluate reports for an edge task. */
    private static double score(String metric, CliRun r) {
        Matcher m = Pattern.compile(metric.equals("psnr") ? "PSNR (-?[0-9.]+) dB" : "edge F1 ([0-9.]+)").matcher(r.out());
        assertTrue(m.find(), r.out());
        return Double.parseDouble(m.group(1));
    }
}
