package dev.anyrefill.cli;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.Pixels;
import dev.anyrefill.image.PngText;
import dev.anyrefill.pipeline.SampleImages;
import dev.anyrefill.pipeline.TrainedMiniature;
import dev.anyrefill.testing.Golden;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DemoAndPrepareCommandsTest {
    @TempDir
    Path tmp;

    @Test
    void demoWritesTheCanvasMaskResultAndPanel() throws IOException {
        Path dir = tmp.resolve("demo");
        CliRun run = CliRun.of("demo", "--untrained", "--out-dir", dir.toString(), "--steps", "2", "--size", "64");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("UNTRAINED"), run.out());
        assertEquals(128, ImageFiles.readRgb(dir.resolve("canvas.png")).width());
        Pixels mask = ImageFiles.readGrey(dir.resolve("canvas-mask.png"));
        assertEquals(0, mask.get(10, 10, 0), "the reference half is never painted");
        assertEquals(255, mask.get(10, 100, 0), "the target half is fully masked");
        assertEquals(64, ImageFiles.readRgb(dir.resolve("result.png")).width());
        assertEquals(256, ImageFiles.readRgb(dir.resolve("panel.png")).width());
        Map<String, String> text = PngText.read(Files.readAllBytes(dir.resolve("result.png")));
        assertEquals("colorization", text.get("anyrefill.task"));
    }

    /** The trained path, with the tiny golden model standing in for the miniature's files. */
    @Test
    void demoRunsTheTrainedMiniatureWhereItsFilesAreAndOnePanelPerLora() throws IOException {
        Path models = Files.createDirectories(tmp.resolve("models"));
        Files.copy(Golden.tiny("flux-fill.safetensors"), models.resolve(TrainedMiniature.TRANSFORMER));
        Files.copy(Golden.tiny("ae.safetensors"), models.resolve(TrainedMiniature.AUTOENCODER));
        Files.copy(Golden.tiny("expected.safetensors"), models.resolve(TrainedMiniature.PROMPT)); // holds txt and vec
        Files.copy(Golden.tiny("lora-bfl.safetensors"), models.resolve("lora-colorization.safetensors"));
        Files.copy(Golden.tiny("lora-kohya.safetensors"), models.resolve("lora-deblur.safetensors"));
        Path dir = tmp.resolve("trained");
        CliRun run = CliRun.of("demo", "--models", models.toString(), "--all", "--out-dir", dir.toString(), "--steps", "2",
                "--size", "64");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("trained by this project") && !run.out().contains("UNTRAINED"), run.out());
        for (String t : List.of("colorization", "deblur")) {
            Pixels panel = ImageFiles.readRgb(dir.resolve("panel-" + t + ".png"));
            assertEquals(4 * 64, panel.width(), "reference | masked target | result | ground truth");
            assertEquals(t, PngText.read(Files.readAllBytes(dir.resolve("result-" + t + ".png"))).get("anyrefill.task"));
        }
        assertTrue(!Files.exists(dir.resolve("panel-super-resolution-4x.png")), "no LoRA, no panel");
        Files.delete(models.resolve(TrainedMiniature.PROMPT));
        CliRun fallback = CliRun.of("demo", "--models", models.toString(), "--out-dir", tmp.resolve("f").toString(),
                "--steps", "2", "--size", "64");
        assertEquals(0, fallback.exitCode(), fallback.err());
        assertTrue(fallback.out().contains("(no prompt.safetensors)") && fallback.out().contains("UNTRAINED"), fallback.out());
    }

    private Pixels prepare(String task, Pixels photo, String... extra) {
        Path in = tmp.resolve("photo.png");
        Path out = tmp.resolve(task + ".png");
        ImageFiles.writePixels(in, photo, Map.of());
        List<String> args = new ArrayList<>(List.of("prepare", "--task", task, "--image", in.toString(), "--out", out.toString()));
        args.addAll(List.of(extra));
        CliRun run = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, run.exitCode(), run.err());
        return ImageFiles.readRgb(out);
    }

    @Test
    void preparationsDoWhatTheirTasksSay() {
        Pixels photo = SampleImages.landscape(64, 64);
        Pixels grey = prepare("colorization", photo);
        for (int y = 0; y < 64; y += 7) {
            for (int x = 0; x < 64; x += 5) {
                assertEquals(grey.get(y, x, 0), grey.get(y, x, 1));
                assertEquals(grey.get(y, x, 0), grey.get(y, x, 2));
            }
        }
        Pixels low = prepare("super-resolution-4x", photo);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                assertEquals(low.get(y / 4 * 4, x / 4 * 4, 1), low.get(y, x, 1), "4x4 blocks are flat");
            }
        }
        Pixels edges = prepare("canny-to-image", photo);
        int edgePixels = 0;
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                int v = edges.get(y, x, 0);
                assertTrue(v == 0 || v == 255, "Canny gives binary edges");
                edgePixels += v == 255 ? 1 : 0;
            }
        }
        assertTrue(edgePixels > 20 && edgePixels < 64 * 64 / 4, "edges along the hills and the sun: " + edgePixels);
        assertTrue(variation(prepare("deblur", photo)) < variation(photo), "blur smooths neighbouring pixels");
        int lowThresholds = count255(prepare("canny-to-image", photo, "--canny", "20,60"));
        System.out.println("canny edges: " + edgePixels + " pixels at 100,200, " + lowThresholds + " at 20,60");
        assertTrue(lowThresholds > edgePixels, "lower thresholds keep more edges");
        long mild = variation(prepare("deblur", photo));
        long strong = variation(prepare("deblur", photo, "--blur-sigma", "6"));
        assertTrue(strong < mild, "sigma 6 blurs more than the default 3: " + strong + " < " + mild);
        assertEquals(2, CliRun.of("prepare", "--task", "deblur", "--canny", "20,60", "--image",
                tmp.resolve("photo.png").toString(), "--out", tmp.resolve("x.png").toString()).exitCode());
    }

    private static int count255(Pixels p) {
        int n = 0;
        for (int y = 0; y < p.height(); y++) {
            for (int x = 0; x < p.width(); x++) {
                n += p.get(y, x, 0) == 255 ? 1 : 0;
            }
        }
        return n;
    }

    /** Sum of absolute differences between horizontal neighbours. */
    private static long variation(Pixels p) {
        long sum = 0;
        for (int y = 0; y < p.height(); y++) {
            for (int x = 1; x < p.width(); x++) {
                sum += Math.abs(p.get(y, x, 1) - p.get(y, x - 1, 1));
            }
        }
        return sum;
    }

    @Test
    void aTaskWithoutPreparationSaysWhy() {
        ImageFiles.writePixels(tmp.resolve("p.png"), SampleImages.landscape(32, 32), Map.of());
        CliRun run = CliRun.of("prepare", "--task", "image-to-depth", "--image", tmp.resolve("p.png").toString(),
                "--out", tmp.resolve("d.png").toString());
        assertEquals(2, run.exitCode());
        assertTrue(run.err().contains("depth maps come from a depth model"), run.err());
        CliRun unknown = CliRun.of("prepare", "--task", "paint-by-numbers", "--image", tmp.resolve("p.png").toString(),
                "--out", tmp.resolve("d.png").toString());
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().contains("unknown task 'paint-by-numbers'"), unknown.err());
    }
}
