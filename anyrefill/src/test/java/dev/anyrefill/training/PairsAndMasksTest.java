package dev.anyrefill.training;

import dev.anyrefill.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The two forms of a pairs folder, their errors, and Ref-inpainting's random masks. */
class PairsAndMasksTest {
    @TempDir
    Path tmp;

    @Test
    void namedFilesAndAManifestGiveTheSamePairs() throws IOException {
        Path named = Files.createDirectories(tmp.resolve("named"));
        SyntheticPhotos.write(named, 2, 16, 1);
        for (String n : new String[]{"photo-00", "photo-01"}) {
            Files.move(named.resolve(n + ".png"), named.resolve(n + ".ref.png"));
            Files.copy(named.resolve(n + ".ref.png"), named.resolve(n + ".target.jpg"));
        }
        Files.writeString(named.resolve("photo-01.txt"), "a red disc\n", StandardCharsets.UTF_8);
        List<PairsFolder.Pair> pairs = PairsFolder.read(named, false);
        assertEquals(2, pairs.size());
        assertEquals("photo-00", pairs.get(0).name());
        assertNull(pairs.get(0).caption());
        assertEquals("a red disc", pairs.get(1).caption());
        assertEquals(named.resolve("photo-01.target.jpg"), pairs.get(1).target());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PairsFolder.read(named, true));
        assertTrue(e.getMessage().contains("photo-00.txt: pair photo-00 has no caption"), e.getMessage());

        Files.writeString(named.resolve(PairsFolder.MANIFEST),
                "{\"reference\": \"photo-01.ref.png\", \"target\": \"photo-01.target.jpg\", \"prompt\": \"p\", \"name\": \"x\"}\n\n",
                StandardCharsets.UTF_8);
        List<PairsFolder.Pair> manifest = PairsFolder.read(named, true);
        assertEquals(1, manifest.size());
        assertEquals("x", manifest.getFirst().name());
        assertEquals("p", manifest.getFirst().caption());
    }

    @Test
    void badCaptionsAndManifestsNameTheFileAndLine() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("bad"));
        SyntheticPhotos.write(dir, 1, 16, 1);
        Files.move(dir.resolve("photo-00.png"), dir.resolve("photo-00.ref.png"));
        Files.copy(dir.resolve("photo-00.ref.png"), dir.resolve("photo-00.target.png"));
        Files.write(dir.resolve("photo-00.txt"), new byte[]{'c', 'a', 'f', (byte) 0xE9}); // Latin-1, not UTF-8
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PairsFolder.read(dir, false));
        assertEquals(dir.resolve("photo-00.txt") + ": is not UTF-8 text", e.getMessage());

        Files.delete(dir.resolve("photo-00.txt"));
        Files.writeString(dir.resolve(PairsFolder.MANIFEST), "{\"reference\": \"photo-00.ref.png\"}\n");
        e = assertThrows(IllegalArgumentException.class, () -> PairsFolder.read(dir, false));
        assertEquals(dir.resolve(PairsFolder.MANIFEST) + " line 1: no \"target\" path", e.getMessage());
        Files.writeString(dir.resolve(PairsFolder.MANIFEST), "{\"reference\": \"../../etc/passwd\", \"target\": \"none.png\"}\n");
        e = assertThrows(IllegalArgumentException.class, () -> PairsFolder.read(dir, false));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void fillMasksMixStrokesHalvesWholeImagesAndOutpainting() {
        int strokes = 0;
        int halves = 0;
        int whole = 0;
        int outpaint = 0;
        for (int seed = 0; seed < 400; seed++) {
            double c = RandomMasks.cover(RandomMasks.fill(new SplittableRandom(seed), 32, 48).data());
            if (c == 0.5) {
                halves++;
            } else if (c == 1) {
                whole++;
            } else if (c > RandomMasks.MAX_COVER) {
                outpaint++;
            } else {
                strokes++;
                assertTrue(c >= RandomMasks.MIN_COVER, "strokes cover at least 20 %: " + c);
            }
        }
        System.out.printf("fill masks of 400 seeds: %d strokes and rectangles, %d halves, %d whole, %d outpainting "
                + "(expected about 160, 120, 60, 60)%n", strokes, halves, whole, outpaint);
        assertTrue(strokes > 120 && halves > 90 && whole > 35 && outpaint > 35, "each kind of mask appears");
    }

    @Test
    void randomMasksCoverTwentyToSixtyPercentAndFollowTheSeed() {
        double lo = 1;
        double hi = 0;
        for (int seed = 0; seed < 200; seed++) {
            Tensor m = RandomMasks.draw(new SplittableRandom(seed), 64, 48);
            double cover = RandomMasks.cover(m.data());
            lo = Math.min(lo, cover);
            hi = Math.max(hi, cover);
            for (float x : m.data()) {
                assertTrue(x == 0 || x == 1);
            }
        }
        System.out.printf("random masks: cover from %.3f to %.3f over 200 seeds (bounds 0.2 and 0.6)%n", lo, hi);
        assertTrue(lo >= RandomMasks.MIN_COVER && hi <= RandomMasks.MAX_COVER, lo + " .. " + hi);
        assertEquals(RandomMasks.cover(RandomMasks.draw(new SplittableRandom(3), 32, 32).data()),
                RandomMasks.cover(RandomMasks.draw(new SplittableRandom(3), 32, 32).data()), 0);
    }
}
