package dev.anyrefill.cli;

import dev.anyrefill.testing.Golden;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InspectCommandTest {
    private static final String TINY_CONFIG = "hidden 256, heads 2 (head dim 128), double blocks 2, single blocks 2, "
            + "in 384, out 64, context 64, vec 32, mlp ratio 4.0, axes [16, 56, 56], theta 10000, qkv bias true, guidance true";

    @Test
    void reportsLayoutAndConfigOfBothGoldenLayouts() {
        for (String[] c : new String[][]{{"flux-fill.safetensors", "bfl"}, {"flux-fill-diffusers.safetensors", "diffusers"}}) {
            CliRun run = CliRun.of("inspect", Golden.tiny(c[0]).toString());
            assertEquals(0, run.exitCode(), run.err());
            assertTrue(run.out().contains("layout: " + c[1]), run.out());
            assertTrue(run.out().contains("config: " + TINY_CONFIG), run.out());
            assertTrue(run.out().contains("parameters: 7,307,840"), run.out());
        }
    }

    @Test
    void listsTensorsOnRequest() {
        CliRun run = CliRun.of("inspect", "--tensors", Golden.tiny("flux-fill.safetensors").toString());
        assertTrue(run.out().contains("img_in.weight BF16 [256, 384]"), run.out());
    }

    @Test
    void aTruncatedFileExitsTwoWithOneLine(@TempDir Path dir) throws IOException {
        byte[] whole = Files.readAllBytes(Golden.tiny("flux-fill.safetensors"));
        Path truncated = dir.resolve("truncated.safetensors");
        Files.write(truncated, Arrays.copyOf(whole, whole.length / 2));
        CliRun run = CliRun.of("inspect", truncated.toString());
        assertEquals(2, run.exitCode());
        String[] lines = run.err().strip().split("\n");
        assertEquals(1, lines.length, run.err());
        assertTrue(lines[0].contains("truncated.safetensors") && lines[0].contains("beyond the data section"), lines[0]);
        assertFalse(run.err().contains("\tat "), "no stack trace");
    }

    @Test
    void verboseShowsTheStackTrace(@TempDir Path dir) {
        CliRun run = CliRun.of("inspect", "--verbose", dir.resolve("missing.safetensors").toString());
        assertEquals(2, run.exitCode());
        assertTrue(run.err().contains("\tat "), run.err());
    }
}
