package dev.anyrefill.cli;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.Pixels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Procedural scenes: the same seed gives the same bytes, the splits never share a seed, each scene has structure and colour. */
class DatasetCommandTest {
    @TempDir
    Path tmp;

    @Test
    void scenesAreDeterministicVariedAndTheSplitsDisjoint() throws IOException {
        assertEquals(0, CliRun.of("dataset", "scenes", "--count", "6", "--size", "64", "--out", tmp.resolve("a").toString()).exitCode());
        assertEquals(0, CliRun.of("dataset", "scenes", "--count", "6", "--size", "64", "--out", tmp.resolve("b").toString()).exitCode());
        assertEquals(0, CliRun.of("dataset", "scenes", "--count", "2", "--size", "64", "--split", "eval", "--out",
                tmp.resolve("e").toString()).exitCode());
        for (int s = 0; s < 6; s++) {
            Path a = tmp.resolve("a/scene-" + s + ".png");
            assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(tmp.resolve("b/scene-" + s + ".png")), "seed " + s);
            Pixels p = ImageFiles.readRgb(a);
            double[] stats = stats(p);
            System.out.printf("scene %d: grey std %.1f, mean chroma %.1f (at least 15 and 8)%n", s, stats[0], stats[1]);
            assertTrue(stats[0] > 15, "structure: grey levels vary");
            assertTrue(stats[1] > 8, "colour: the channels differ");
        }
        assertTrue(Files.exists(tmp.resolve("e/scene-1000000000.png")), "evaluation seeds start at 10^9");
        assertEquals(0, CliRun.of("dataset", "scenes", "--count", "1", "--size", "64x128", "--out",
                tmp.resolve("w").toString()).exitCode());
        Pixels wide = ImageFiles.readRgb(tmp.resolve("w/scene-0.png"));
        assertEquals(128, wide.width(), "a panorama: width 128");
        assertEquals(64, wide.height());
        CliRun r = CliRun.of("dataset", "scenes", "--count", "10", "--seed", "999999995", "--out", tmp.resolve("x").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("training seeds stay below 1000000000"), r.err());
    }

    /** A diptych's right half is its left, pixel for pixel; the other wide scenes' halves differ. */
    @Test
    void diptychsRepeatTheirLeftHalf() throws IOException {
        CliRun r = CliRun.of("dataset", "scenes", "--count", "12", "--size", "32x64", "--diptychs", "0.5", "--out",
                tmp.resolve("d").toString());
        assertEquals(0, r.exitCode(), r.err());
        int repeated = 0;
        for (int s = 0; s < 12; s++) {
            Pixels p = ImageFiles.readRgb(tmp.resolve("d/scene-" + s + ".png"));
            boolean same = true;
            for (int y = 0; y < p.height() && same; y++) {
                for (int x = 0; x < p.width() / 2 && same; x++) {
                    for (int c = 0; c < 3; c++) {
                        same &= p.get(y, x, c) == p.get(y, x + p.width() / 2, c);
                    }
                }
            }
            repeated += same ? 1 : 0;
        }
        System.out.println("diptychs: " + repeated + " of 12 scenes repeat their left half; " + r.out().strip());
        assertTrue(r.out().contains(repeated + " of them diptychs"), "the count said equals the count found: " + r.out());
        assertTrue(repeated > 0 && repeated < 12, "about half: " + repeated);
        assertEquals(2, CliRun.of("dataset", "scenes", "--count", "1", "--diptychs", "1.5", "--out",
                tmp.resolve("bad").toString()).exitCode());
    }

    @Test
    void promptEmbeddingsAreSeededAndFitTheMiniature() {
        Path dir = tmp.resolve("prompts");
        assertEquals(0, CliRun.of("dataset", "prompts", "--count", "2", "--out", dir.toString()).exitCode());
        try (var a = dev.anyrefill.weights.SafetensorsFile.open(dir.resolve("prompt-0.safetensors"));
             var b = dev.anyrefill.weights.SafetensorsFile.open(dir.resolve("prompt-1.safetensors"))) {
            assertArrayEquals(new int[]{16, 64}, a.get("txt").shape());
            assertArrayEquals(new int[]{32}, a.get("vec").shape());
            float[] x = a.get("txt").toF32().data();
            double var = 0;
            for (float v : x) {
                var += v * v;
            }
            var /= x.length;
            System.out.printf("prompts: txt variance %.3f (standard normal: 1 within 0.2)%n", var);
            assertEquals(1, var, 0.2);
            assertTrue(a.get("txt").toF32().data()[0] != b.get("txt").toF32().data()[0], "each prompt its own draw");
        }
    }

    /** [std of grey, mean |channel - grey|] over the pixels. */
    private static double[] stats(Pixels p) {
        int n = p.height() * p.width();
        double sum = 0;
        double sumSq = 0;
        double chroma = 0;
        for (int i = 0; i < n; i++) {
            int r = p.data()[3 * i] & 0xFF;
            int g = p.data()[3 * i + 1] & 0xFF;
            int b = p.data()[3 * i + 2] & 0xFF;
            double grey = (r + g + b) / 3.0;
            sum += grey;
            sumSq += grey * grey;
            chroma += (Math.abs(r - grey) + Math.abs(g - grey) + Math.abs(b - grey)) / 3;
        }
        double mean = sum / n;
        return new double[]{Math.sqrt(sumSq / n - mean * mean), chroma / n};
    }
}
