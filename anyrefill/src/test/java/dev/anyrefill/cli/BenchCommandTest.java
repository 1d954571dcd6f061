package dev.anyrefill.cli;

import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code anyrefill bench}: bad options are one-line user errors; a tiny run (one single block
 * at real width, 12 tokens) prints one JSON line whose FLOP follow the stated formula. It
 * checks the command, not the speed (speed is measured by running it, see bench/README).
 */
class BenchCommandTest {
    @Test
    void badOptionsAreUserErrors() {
        ForwardSampleCommandsTest.Run r = ForwardSampleCommandsTest.run("bench", "--preset", "tiny");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--preset: unknown preset 'tiny'"), r.err());
        r = ForwardSampleCommandsTest.run("bench", "--backend", "cuda");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--backend: unknown backend 'cuda'"), r.err());
        r = ForwardSampleCommandsTest.run("bench", "--double", "0", "--single", "0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("not both 0"), r.err());
    }

    @Test
    void tinyRunPrintsOneJsonLine() {
        ForwardSampleCommandsTest.Run r = ForwardSampleCommandsTest.run("bench", "--double", "0", "--single", "1",
                "--image-tokens", "8", "--text-tokens", "4", "--warmup", "0");
        assertEquals(0, r.code(), r.err());
        String line = r.out().strip();
        assertEquals(1, line.lines().count(), line);
        assertTrue(line.startsWith("{\"seconds\":") && line.endsWith("}}"), line);
        double gflop = Double.parseDouble(field(line, "gflop"));
        double expected = (2 * 113.2e6 * 12 + 4.0 * 12 * 12 * 3072) / 1e9;
        assertEquals(expected, gflop, 0.0005, line);
        assertTrue(line.contains("\"linear\":{") && line.contains("\"attention\":{\"seconds\":"), line);
        assertTrue(Double.parseDouble(field(line, "seconds")) > 0, line);
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":([0-9.eE+-]+)").matcher(json);
        assertTrue(m.find(), name + " in " + json);
        return m.group(1);
    }
}
