package dev.anyrefill.cli;

import org.junit.jupiter.api.Test;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code anyrefill bench}: bad options are one-line user errors; a tiny run (one single block
 * at real width, 12 tokens) prints one JSON line whose FLOP follow the stated formula. It
 * checks the command, not the speed (speed is measured by running it, see bench/README).
 */
class BenchCommandTest {
    @Test
    void badOptionsAreUserErrors() {
        CliRun r = CliRun.of("bench", "--preset", "tiny");
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("--preset: unknown preset 'tiny'"), r.err());
        r = CliRun.of("bench", "--backend", "cuda");
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("unknown backend 'cuda'"), r.err());
        r = CliRun.of("bench", "--double", "0", "--single", "0");
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("not both 0"), r.err());
    }

    @Test
    void tinyRunPrintsOneJsonLine() {
        CliRun r = CliRun.of("bench", "--double", "0", "--single", "1",
                "--image-tokens", "8", "--text-tokens", "4", "--warmup", "0");
        assertEquals(0, r.exitCode(), r.err());
        String line = r.out().strip();
        assertEquals(1, line.lines().count(), line);
        assertTrue(line.startsWith("{\"seconds\":") && line.endsWith("}}"), line);
        double gflop = Double.parseDouble(field(line, "gflop"));
        double expected = (2 * 113.2e6 * 12 + 4.0 * 12 * 12 * 3072) / 1e9;
        assertEquals(expected, gflop, 0.0005, line);
        assertTrue(line.contains("\"linear\":{") && line.contains("\"attention\":{\"seconds\":"), line);
        assertTrue(Double.parseDouble(field(line, "seconds")) > 0, line);
    }

    @Test
    void aRuntimeLoraLandsOnEveryLinearOfTheBlock() {
        CliRun r = CliRun.of("bench", "--double", "0", "--single", "1", "--image-tokens", "8", "--text-tokens", "4",
                "--warmup", "0", "--lora-rank", "4", "--lora-mode", "runtime");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("applied 4 of 4 LoRA tensors (2 layers, runtime)"), r.err());
        String line = r.out().strip();
        // linear1 [21504, 3072] and linear2 [3072, 15360]: rank 4 A and B in BF16
        long expectedBytes = 2L * 4 * (3072 + 21504 + 15360 + 3072);
        assertEquals(expectedBytes, Long.parseLong(field(line, "lora_bytes")), line);
        assertTrue(line.contains("\"lora\":{\"rank\":4,\"mode\":\"runtime\",\"layers\":2"), line);
        CliRun bad = CliRun.of("bench", "--lora-rank", "4", "--lora-mode", "fused");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("--lora-mode must be merged or runtime"), bad.err());
    }

    @Test
    void aTinyTrainingStepReportsItsPartsAndTheLoraItTrained() {
        CliRun r = CliRun.of("bench", "--train", "--double", "0", "--single", "1", "--image-tokens", "8",
                "--text-tokens", "4", "--warmup", "0", "--lora-rank", "4", "--live-heap");
        assertEquals(0, r.exitCode(), r.err());
        String line = r.out().strip();
        assertEquals(1, line.lines().count(), line);
        // a single block's targets: linear1 [21504, 3072] and linear2 [3072, 15360], rank 4
        assertEquals(4L * (3072 + 21504 + 15360 + 3072), Long.parseLong(field(line, "lora_parameters")), line);
        double total = Double.parseDouble(field(line, "seconds"));
        double parts = Double.parseDouble(field(line, "forward_seconds"))
                + Double.parseDouble(field(line, "backward_and_adamw_seconds"));
        assertEquals(total, parts, 0.002, line);
        assertTrue(line.contains("\"operations_backward\":{") && line.contains("\"attentionBackward\":{")
                && line.contains("\"linearBackwardInput\":{"), line);
        assertTrue(Long.parseLong(field(line, "peak_above_baseline_bytes")) > 0, line);
        // auto keeps a model this small whole: the backward runs no forward attention of its own
        assertTrue(line.contains("\"activation_checkpointing\":\"none\""), line);
        assertFalse(line.substring(line.indexOf("\"operations_backward\"")).contains("\"attention\":{"), line);
        CliRun checkpointed = CliRun.of("bench", "--train", "--double", "0", "--single", "1", "--image-tokens", "8",
                "--text-tokens", "4", "--warmup", "0", "--lora-rank", "4", "--activation-checkpointing", "blocks");
        assertEquals(0, checkpointed.exitCode(), checkpointed.err());
        String recomputed = checkpointed.out().strip();
        assertTrue(recomputed.contains("\"activation_checkpointing\":\"blocks\""), recomputed);
        assertTrue(recomputed.substring(recomputed.indexOf("\"operations_backward\"")).contains("\"attention\":{"),
                "the block's forward recomputed in the backward: " + recomputed);
        assertTrue(Double.parseDouble(field(recomputed, "gflop")) > Double.parseDouble(field(line, "gflop")), "a second forward");
        CliRun bad = CliRun.of("bench", "--train", "--single", "1", "--double", "0");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("--train needs --lora-rank"), bad.err());
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":([0-9.eE+-]+)").matcher(json);
        assertTrue(m.find(), name + " in " + json);
        return m.group(1);
    }
}
