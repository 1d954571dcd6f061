package dev.anyrefill.cli;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.ImageOps;
import dev.anyrefill.metrics.EdgeF1;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.training.SyntheticPhotos;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code anyrefill evaluate}: the input baseline's PSNR recomputed here from the files, and model runs on the tiny model. */
class EvaluateCommandTest {
    @TempDir
    Path tmp;
    private Path pairs;

    @BeforeEach
    void makePairs() throws IOException {
        Path photos = Files.createDirectories(tmp.resolve("photos"));
        SyntheticPhotos.write(photos, 3, 64, 5);
        pairs = tmp.resolve("pairs");
        CliRun r = CliRun.of("prepare", "--task", "colorization", "--pairs-from", photos.toString(), "--out", pairs.toString());
        assertEquals(0, r.exitCode(), r.err());
    }

    @Test
    void theInputBaselineScoresTheGreyPhotoAgainstTheColourOne() throws IOException {
        Path out = tmp.resolve("input.jsonl");
        CliRun r = CliRun.of("evaluate", "--pairs", pairs.toString(), "--task", "colorization", "--baseline", "input",
                "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertEquals(4, lines.size(), "a line per pair and one with the means");
        double sum = 0;
        try (var files = Files.list(pairs)) {
            for (Path ref : files.filter(p -> p.getFileName().toString().contains(".ref.")).sorted().toList()) {
                Tensor grey = ImageFiles.readImage(ref);
                Tensor colour = ImageFiles.readImage(Path.of(ref.toString().replace(".ref.", ".target.")));
                double mse = 0;
                for (int i = 0; i < grey.data().length; i++) {
                    double d = (grey.data()[i] - colour.data()[i]) / 2.0;
                    mse += d * d / grey.data().length;
                }
                sum += 10 * Math.log10(1 / mse);
            }
        }
        double expected = sum / 3;
        double got = Double.parseDouble(lines.getLast().replaceAll(".*\"psnr\":([0-9.]+).*", "$1"));
        System.out.printf("evaluate --baseline input: mean PSNR %.4f dB, recomputed here %.4f dB (tolerance 1e-3)%n",
                got, expected);
        assertEquals(expected, got, 1e-3);
        assertTrue(r.out().contains("answers from the input itself"), r.out());
    }

    @Test
    void theModelAndTheNoReferenceBaselineRunAndWriteTheirPanels() throws IOException {
        for (String baseline : new String[]{"none", "no-reference"}) {
            Path panel = tmp.resolve(baseline + ".png");
            CliRun r = CliRun.of("evaluate", "--pairs", pairs.toString(), "--task", "colorization", "--baseline", baseline,
                    "--model", Golden.tiny("flux-fill.safetensors").toString(), "--ae", Golden.tiny("ae.safetensors").toString(),
                    "--prompt-embeddings", Golden.tiny("expected.safetensors").toString(), "--steps", "2", "--limit", "2",
                    "--panel", panel.toString());
            assertEquals(0, r.exitCode(), r.err());
            assertTrue(r.out().matches("(?s).*on 2 pairs.*PSNR [0-9.]+ dB, SSIM -?[0-9.]+.*"), r.out());
            Tensor p = ImageFiles.readImage(panel);
            assertEquals(2 * 64, p.dim(1), "two rows");
            assertEquals(3 * 64, p.dim(2), "reference | target | answer");
        }
        CliRun ceiling = CliRun.of("evaluate", "--pairs", pairs.toString(), "--task", "colorization", "--baseline",
                "autoencoder", "--ae", Golden.tiny("ae.safetensors").toString());
        assertEquals(0, ceiling.exitCode(), ceiling.err());
        assertTrue(ceiling.out().contains("through the AutoEncoder (the ceiling)"), ceiling.out());
        CliRun bad = CliRun.of("evaluate", "--pairs", pairs.toString(), "--task", "colorization");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("needs --model, --ae and --prompt-embeddings"), bad.err());
    }

    @Test
    void cannyToImageScoresTheAnswersOwnEdgesAgainstTheInputMap() throws IOException {
        Path photos = tmp.resolve("photos");
        Path edgePairs = tmp.resolve("edge-pairs");
        CliRun made = CliRun.of("prepare", "--task", "canny-to-image", "--pairs-from", photos.toString(), "--canny", "20,60",
                "--out", edgePairs.toString());
        assertEquals(0, made.exitCode(), made.err());
        Path out = tmp.resolve("edges.jsonl");
        CliRun r = CliRun.of("evaluate", "--pairs", edgePairs.toString(), "--task", "canny-to-image", "--baseline", "input",
                "--canny", "20,60", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        double sum = 0;
        try (var files = Files.list(edgePairs)) {
            for (Path ref : files.filter(p -> p.getFileName().toString().contains(".ref.")).sorted().toList()) {
                Tensor map = ImageFiles.readImage(ref);
                Tensor answersEdges = ImageFiles.toTensor(ImageOps.canny(ImageFiles.readRgb(ref), 20, 60));
                sum += EdgeF1.f1(answersEdges, map, EdgeF1.TOLERANCE);
            }
        }
        double expected = sum / 3;
        double got = Double.parseDouble(Files.readAllLines(out, StandardCharsets.UTF_8).getLast()
                .replaceAll(".*\"edge_f1\":([0-9.]+).*", "$1"));
        System.out.printf("evaluate canny-to-image --baseline input: edge F1 %.5f, recomputed here %.5f (tolerance 1e-4)%n",
                got, expected);
        assertEquals(expected, got, 1e-4);
        assertTrue(r.out().contains("the answer's Canny edges against the input map"), r.out());
        CliRun bad = CliRun.of("evaluate", "--pairs", edgePairs.toString(), "--task", "canny-to-image", "--baseline",
                "input", "--canny", "60,20");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("--canny LOW,HIGH needs 0 <= LOW <= HIGH"), bad.err());
    }

    @Test
    void imageToCannyReportsTheF1AtTheSetsBestThreshold() throws IOException {
        Path edgePairs = tmp.resolve("i2c-pairs");
        CliRun made = CliRun.of("prepare", "--task", "image-to-canny", "--pairs-from", tmp.resolve("photos").toString(),
                "--canny", "20,60", "--out", edgePairs.toString());
        assertEquals(0, made.exitCode(), made.err());
        Path out = tmp.resolve("i2c.jsonl");
        CliRun r = CliRun.of("evaluate", "--pairs", edgePairs.toString(), "--task", "image-to-canny", "--baseline", "input",
                "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        // Recomputed here: the photo (the input baseline's answer) against the edge map, F1 summed at each threshold.
        double[] summed = new double[EdgeF1.THRESHOLDS.length];
        try (var files = Files.list(edgePairs)) {
            for (Path ref : files.filter(p -> p.getFileName().toString().contains(".ref.")).sorted().toList()) {
                Tensor photo = ImageFiles.readImage(ref);
                Tensor map = ImageFiles.readImage(Path.of(ref.toString().replace(".ref.", ".target.")));
                double[] f1 = EdgeF1.f1AtThresholds(photo, map, EdgeF1.TOLERANCE);
                for (int i = 0; i < f1.length; i++) {
                    summed[i] += f1[i];
                }
            }
        }
        int best = EdgeF1.best(summed);
        String means = Files.readAllLines(out, StandardCharsets.UTF_8).getLast();
        double got = Double.parseDouble(means.replaceAll(".*\"edge_f1_ods\":([0-9.]+).*", "$1"));
        double threshold = Double.parseDouble(means.replaceAll(".*\"ods_threshold\":(-?[0-9.]+).*", "$1"));
        System.out.printf("evaluate image-to-canny --baseline input: ODS edge F1 %.5f at %.1f, recomputed here %.5f at %.1f"
                + " (tolerance 1e-4)%n", got, threshold, summed[best] / 3, EdgeF1.THRESHOLDS[best]);
        assertEquals(summed[best] / 3, got, 1e-4);
        assertEquals(EdgeF1.THRESHOLDS[best], threshold, 1e-9);
        assertTrue(r.out().contains("at the set's best threshold (ODS"), r.out());
    }
}
