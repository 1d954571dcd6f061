package dev.anyrefill.cli;

import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.weights.SafetensorsFile;
import dev.anyrefill.weights.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --lora and --lora-mode on forward and sample, and inspect on a LoRA file. */
class LoraCommandsTest {
    @TempDir
    Path tmp;

    @Test
    void forwardWithAKohyaLoraMerged() {
        Path out = tmp.resolve("forward.safetensors");
        CliRun r = CliRun.of("forward", "--model", Golden.tiny("flux-fill-diffusers.safetensors").toString(),
                "--inputs", Golden.tiny("expected.safetensors").toString(), "--t", "0.8125", "--guidance", "30",
                "--lora", Golden.tiny("lora-kohya.safetensors") + ":1.0", "--lora-mode", "merged", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("applied 60 of 60 LoRA tensors"), r.out());
        assertTrue(r.out().contains("kohya layout, rank 4, alpha 3"), r.out());
        try (SafetensorsFile got = SafetensorsFile.open(out);
             SafetensorsFile ref = SafetensorsFile.open(Golden.tiny("expected-lora.safetensors"))) {
            Golden.assertClose("cli forward --lora kohya:1.0 merged velocity", got.get("velocity"), ref.get("forward.velocity"));
        }
    }

    @Test
    void sampleWithAPeftLoraAtRuntime() {
        Path out = tmp.resolve("sample.safetensors");
        CliRun r = CliRun.of("sample", "--model", Golden.tiny("flux-fill.safetensors").toString(),
                "--inputs", Golden.tiny("expected.safetensors").toString(), "--steps", "4", "--guidance", "30",
                "--lora", Golden.tiny("lora-peft.safetensors") + ":0.75", "--lora-mode", "runtime", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("applied 68 of 68 LoRA tensors"), r.out());
        try (SafetensorsFile got = SafetensorsFile.open(out);
             SafetensorsFile ref = SafetensorsFile.open(Golden.tiny("expected-lora.safetensors"))) {
            Golden.assertClose("cli sample --lora peft:0.75 runtime packed", got.get("packed"), ref.get("denoise.packed"));
        }
    }

    @Test
    void inspectDescribesALora() {
        CliRun r = CliRun.of("inspect", Golden.tiny("lora-kohya.safetensors").toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("model: FLUX LoRA"), r.out());
        assertTrue(r.out().contains("layout: kohya (prefix lora_unet_)"), r.out());
        assertTrue(r.out().contains("rank: 4") && r.out().contains("alpha: 3"), r.out());
        assertTrue(r.out().contains("double_blocks.N.img_attn.qkv  (N = 0-1)"), r.out());
        assertTrue(r.out().contains("single_blocks.N.linear2"), r.out());
        CliRun peft = CliRun.of("inspect", Golden.tiny("lora-peft.safetensors").toString());
        assertTrue(peft.out().contains("layout: peft (prefix transformer.)"), peft.out());
        assertTrue(peft.out().contains("single_blocks.N.linear1 rows from 768"), peft.out());
    }

    @Test
    void aStrayKeyIsAOneLineErrorNamingIt() {
        Path lora = tmp.resolve("stray.safetensors");
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight", Tensor.zeros(2, 256));
        t.put("lora_unet_double_blocks_0_img_attn_qkv.lora_up.weight", Tensor.zeros(768, 2));
        t.put("lora_unet_double_blocks_0_img_attn_qkvv.lora_down.weight", Tensor.zeros(2, 256));
        t.put("lora_unet_double_blocks_0_img_attn_qkvv.lora_up.weight", Tensor.zeros(768, 2));
        SafetensorsWriter.write(lora, t);
        CliRun r = CliRun.of("forward", "--model", Golden.tiny("flux-fill.safetensors").toString(),
                "--inputs", Golden.tiny("expected.safetensors").toString(), "--t", "0.5", "--lora", lora.toString(),
                "--out", tmp.resolve("o.safetensors").toString());
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("lora_unet_double_blocks_0_img_attn_qkvv.lora_down.weight"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void anUnknownModeIsRefused() {
        CliRun r = CliRun.of("forward", "--model", Golden.tiny("flux-fill.safetensors").toString(),
                "--inputs", Golden.tiny("expected.safetensors").toString(), "--t", "0.5",
                "--lora", Golden.tiny("lora-bfl.safetensors").toString(), "--lora-mode", "fused",
                "--out", tmp.resolve("o.safetensors").toString());
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("--lora-mode"), r.err());
    }
}
