package dev.anyrefill.cli;

import dev.anyrefill.testing.Golden;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --backend picks the kernels by name; an unknown name is a one-line user error. */
class BackendOptionTest {
    @TempDir
    Path tmp;

    @Test
    void unknownBackendIsAUserError() {
        Path out = tmp.resolve("v.safetensors");
        CliRun r = CliRun.of("forward", "--backend", "cuda",
                "--model", Golden.tiny("flux-fill.safetensors").toString(),
                "--inputs", Golden.tiny("expected.safetensors").toString(), "--t", "0.8125", "--out", out.toString());
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("unknown backend 'cuda'") && r.err().contains("java"), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void javaBackendByName() {
        Path out = tmp.resolve("v.safetensors");
        CliRun r = CliRun.of("forward", "--backend", "java",
                "--model", Golden.tiny("flux-fill.safetensors").toString(),
                "--inputs", Golden.tiny("expected.safetensors").toString(), "--t", "0.8125", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(Files.exists(out));
    }
}
