package dev.anyrefill.cli;

import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.weights.SafetensorsFile;
import dev.anyrefill.weights.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `anyrefill forward` and `anyrefill sample` reproduce the golden velocity and denoising result. */
class ForwardSampleCommandsTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"flux-fill.safetensors", "flux-fill-diffusers.safetensors"})
    void forwardWritesTheReferenceVelocity(String model) {
        Path out = tmp.resolve("forward.safetensors");
        String expected = Golden.tiny("expected.safetensors").toString();
        CliRun r = CliRun.of("forward", "--model", Golden.tiny(model).toString(), "--inputs", expected,
                "--t", "0.8125", "--guidance", "30", "--out", out.toString(), "--trace");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("forward: "), "prints stage timings: " + r.out());
        try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile ref = Golden.expected()) {
            Golden.assertClose("cli forward " + model + " velocity", got.get("velocity"), ref.get("forward.velocity"));
            Golden.assertClose("cli forward " + model + " vec", got.get("vec"), ref.get("forward.vec"));
            Golden.assertClose("cli forward " + model + " trace.single_blocks.1", got.get("trace.single_blocks.1"),
                    ref.get("trace.single_blocks.1"));
            assertTrue(got.contains("pe") && got.contains("trace.double_blocks.0.img")
                    && got.contains("trace.double_blocks.1.txt"), "trace names: " + got.names());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"flux-fill.safetensors", "flux-fill-diffusers.safetensors"})
    void sampleWritesTheReferenceResult(String model) {
        Path out = tmp.resolve("sample.safetensors");
        CliRun r = CliRun.of("sample", "--model", Golden.tiny(model).toString(), "--inputs",
                Golden.tiny("expected.safetensors").toString(), "--steps", "4", "--guidance", "30",
                "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("step 4/4"), "prints step timings: " + r.out());
        try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile ref = Golden.expected()) {
            Golden.assertClose("cli sample " + model + " timesteps", got.get("timesteps"), ref.get("denoise.timesteps"));
            Golden.assertClose("cli sample " + model + " packed", got.get("packed"), ref.get("denoise.packed"));
            Golden.assertClose("cli sample " + model + " latent", got.get("latent"), ref.get("denoise.latent"));
        }
    }

    @Test
    void sampleWithSeed42DrawsTheReferenceNoise() {
        Path out = tmp.resolve("seeded.safetensors");
        Path inputs = tmp.resolve("no-noise.safetensors");
        try (SafetensorsFile ref = Golden.expected()) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            for (String name : new String[]{"img_cond", "txt", "vec", "img_ids"}) {
                t.put(name, ref.get(name).toF32());
            }
            SafetensorsWriter.write(inputs, t);
        }
        CliRun r = CliRun.of("sample", "--model", Golden.tiny("flux-fill.safetensors").toString(), "--inputs", inputs.toString(),
                "--steps", "4", "--seed", "42", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile ref = Golden.expected()) {
            Golden.assertClose("cli sample --seed 42 packed", got.get("packed"), ref.get("denoise.packed"));
        }
    }

    @Test
    void aMisfitInputIsRefusedNamingTensorAndShapes() {
        Path inputs = tmp.resolve("bad.safetensors");
        try (SafetensorsFile ref = Golden.expected()) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            for (String name : new String[]{"img_packed", "txt", "vec", "img_ids", "txt_ids"}) {
                t.put(name, ref.get(name).toF32());
            }
            t.put("img_cond", Tensor.zeros(32, 256)); // the model needs 320 channels
            SafetensorsWriter.write(inputs, t);
        }
        CliRun r = CliRun.of("forward", "--model", Golden.tiny("flux-fill.safetensors").toString(), "--inputs", inputs.toString(),
                "--t", "0.5", "--out", tmp.resolve("o.safetensors").toString());
        assertEquals(2, r.exitCode(), "exit code for a user error; stderr: " + r.err());
        assertTrue(r.err().contains("img_cond") && r.err().contains("[32, 256]") && r.err().contains("[32, 320]"),
                "message names tensor and both shapes: " + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    }

    @Test
    void refusesToOverwriteItsInputs() {
        Path copy = tmp.resolve("inputs.safetensors");
        try (SafetensorsFile ref = Golden.expected()) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            for (String name : new String[]{"img_packed", "img_cond", "txt", "vec", "img_ids", "txt_ids"}) {
                t.put(name, ref.get(name).toF32());
            }
            SafetensorsWriter.write(copy, t);
        }
        CliRun r = CliRun.of("forward", "--model", Golden.tiny("flux-fill.safetensors").toString(), "--inputs", copy.toString(),
                "--t", "0.5", "--out", copy.toString());
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("is an input"), r.err());
    }
}
