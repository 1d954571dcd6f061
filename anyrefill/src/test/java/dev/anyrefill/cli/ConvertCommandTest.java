package dev.anyrefill.cli;

import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.weights.SafetensorsFile;
import dev.anyrefill.weights.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code anyrefill convert}: BF16 to F32 is exact, back to BF16 gives the same bits, metadata stays. */
class ConvertCommandTest {
    @TempDir
    Path tmp;

    @Test
    void bf16ToF32AndBackIsExact() {
        Path in = Golden.tiny("flux-fill.safetensors");
        Path f32 = tmp.resolve("f32.safetensors");
        Path bf16 = tmp.resolve("bf16.safetensors");
        assertEquals(0, CliRun.of("convert", in.toString(), "--dtype", "f32", "--out", f32.toString()).exitCode());
        assertEquals(0, CliRun.of("convert", f32.toString(), "--dtype", "bf16", "--out", bf16.toString()).exitCode());
        try (SafetensorsFile a = SafetensorsFile.open(in); SafetensorsFile b = SafetensorsFile.open(f32);
             SafetensorsFile c = SafetensorsFile.open(bf16)) {
            assertEquals(a.names(), c.names());
            int bf16Tensors = 0;
            for (String name : a.names()) {
                assertEquals(DType.F32, b.get(name).dtype());
                assertArrayEquals(a.get(name).toF32().data(), b.get(name).toF32().data(), name + " widened exactly");
                if (a.get(name).dtype() == DType.BF16) {
                    assertArrayEquals(a.get(name).toF32().data(), c.get(name).toF32().data(), name + " narrowed back");
                    bf16Tensors++;
                }
            }
            assertTrue(bf16Tensors > 0, "the tiny model stores BF16 tensors");
            assertEquals("f32.safetensors", c.metadata().get("anyrefill.converted-from"));
        }
        assertEquals(2, CliRun.of("convert", in.toString(), "--dtype", "f16", "--out", tmp.resolve("x").toString()).exitCode());
    }

    @Test
    void prefixTakesTheWeightsOutOfATrainingState() {
        Path in = Golden.tiny("flux-fill.safetensors");
        Path state = tmp.resolve("state.safetensors");
        Path weights = tmp.resolve("weights.safetensors");
        try (SafetensorsFile a = SafetensorsFile.open(in)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String name : a.names()) {
                tensors.put("param." + name, a.get(name));
                tensors.put("adam.m." + name, a.get(name));
            }
            SafetensorsWriter.write(state, tensors, Map.of(), DType.F32);
        }
        assertEquals(0, CliRun.of("convert", state.toString(), "--prefix", "param.", "--dtype", "f32",
                "--out", weights.toString()).exitCode());
        try (SafetensorsFile a = SafetensorsFile.open(in); SafetensorsFile b = SafetensorsFile.open(weights)) {
            assertEquals(a.names(), b.names(), "the param. tensors, renamed; the moments left out");
            for (String name : a.names()) {
                assertArrayEquals(a.get(name).toF32().data(), b.get(name).toF32().data(), name);
            }
        }
        assertEquals(2, CliRun.of("convert", in.toString(), "--prefix", "param.", "--dtype", "f32",
                "--out", tmp.resolve("none").toString()).exitCode(), "no tensor has the prefix");
    }
}
