package dev.anyrefill.weights.lora;

import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.weights.SafetensorsWriter;
import dev.anyrefill.weights.WeightsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Layout detection and the mapping of LoRA keys onto BFL modules. */
class LoraFileTest {
    @TempDir
    Path tmp;

    @Test
    void theThreeGoldenLorasMapOntoTheSameTwentyLayers() {
        Map<String, LoraLayout> layouts = Map.of("lora-bfl.safetensors", LoraLayout.BFL,
                "lora-peft.safetensors", LoraLayout.PEFT, "lora-kohya.safetensors", LoraLayout.KOHYA);
        for (var e : layouts.entrySet()) {
            try (LoraFile f = LoraFile.open(Golden.tiny(e.getKey()))) {
                assertEquals(e.getValue(), f.layout(), e.getKey());
                var targets = f.modules().stream().map(LoraModule::bflModule).collect(Collectors.toSet());
                assertEquals(20, targets.size(), e.getKey() + " targets " + targets);
                assertTrue(targets.contains("double_blocks.1.txt_attn.qkv") && targets.contains("single_blocks.0.linear2"));
                double expectedAlpha = e.getValue() == LoraLayout.KOHYA ? 3.0 : 4.0; // none stored: alpha = rank
                for (LoraModule m : f.modules()) {
                    assertEquals(4, m.rank());
                    assertEquals(expectedAlpha, m.alpha(), 1e-6, m.fileModule());
                }
            }
        }
    }

    @Test
    void peftSplitModulesLandOnTheirRowSlices() {
        try (LoraFile f = LoraFile.open(Golden.tiny("lora-peft.safetensors"))) {
            Map<String, LoraModule> byName = f.modules().stream()
                    .collect(Collectors.toMap(LoraModule::fileModule, m -> m));
            String d = "transformer.transformer_blocks.0.attn.";
            assertEquals("double_blocks.0.img_attn.qkv", byName.get(d + "to_k").bflModule());
            assertEquals(256, byName.get(d + "to_k").rowOffset());
            assertEquals(512, byName.get(d + "to_v").rowOffset());
            assertEquals("double_blocks.0.txt_attn.qkv", byName.get(d + "add_q_proj").bflModule());
            assertEquals(0, byName.get(d + "add_q_proj").rowOffset());
            LoraModule mlp = byName.get("transformer.single_transformer_blocks.1.proj_mlp");
            assertEquals("single_blocks.1.linear1", mlp.bflModule());
            assertEquals(768, mlp.rowOffset());
            assertTrue(mlp.slice());
            LoraModule out = byName.get(d + "to_out.0");
            assertEquals("double_blocks.0.img_attn.proj", out.bflModule());
            assertFalse(out.slice());
        }
    }

    @Test
    void otherToolsPrefixesAndMetadataAlpha() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("lora_transformer_single_transformer_blocks_0_attn_to_v.lora_down.weight", Tensor.zeros(2, 256));
        t.put("lora_transformer_single_transformer_blocks_0_attn_to_v.lora_up.weight", Tensor.zeros(256, 2));
        try (LoraFile f = LoraFile.open(write("kohya-diffusers.safetensors", t, Map.of()))) {
            assertEquals(LoraLayout.KOHYA, f.layout());
            assertEquals("lora_transformer_", f.prefix());
            LoraModule m = f.modules().getFirst();
            assertEquals("single_blocks.0.linear1", m.bflModule());
            assertEquals(512, m.rowOffset());
        }
        t.clear();
        t.put("diffusion_model.double_blocks.1.img_mlp.0.lora_A.weight", Tensor.zeros(2, 256));
        t.put("diffusion_model.double_blocks.1.img_mlp.0.lora_B.weight", Tensor.zeros(1024, 2));
        t.put("diffusion_model.double_blocks.1.img_mlp.0.lora_B.bias", Tensor.zeros(1024));
        try (LoraFile f = LoraFile.open(write("comfy.safetensors", t,
                Map.of("lora_adapter_metadata", "{\"r\": 2, \"lora_alpha\": 8}")))) {
            assertEquals(LoraLayout.BFL, f.layout());
            LoraModule m = f.modules().getFirst();
            assertEquals("double_blocks.1.img_mlp.0", m.bflModule());
            assertEquals(8.0, m.alpha());
            assertEquals(0.5 * 8 / 2, m.scale(0.5), 1e-12);
            assertEquals(1024, m.upBias().size());
        }
    }

    @Test
    void diffusersNormOutIsReorderedToShiftScale() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        float[] up = new float[512 * 1];
        for (int i = 0; i < up.length; i++) {
            up[i] = i;
        }
        t.put("transformer.norm_out.linear.lora_A.weight", Tensor.zeros(1, 256));
        t.put("transformer.norm_out.linear.lora_B.weight", Tensor.wrap(up, 512, 1));
        try (LoraFile f = LoraFile.open(write("norm-out.safetensors", t, Map.of()))) {
            LoraModule m = f.modules().getFirst();
            assertEquals("final_layer.adaLN_modulation.1", m.bflModule());
            assertEquals(256f, m.up().getFloat(0)); // diffusers (scale, shift) -> BFL (shift, scale)
            assertEquals(0f, m.up().getFloat(256));
            assertNull(m.upBias());
        }
    }

    @Test
    void aStrayKeyFailsNamingIt() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("double_blocks.0.img_attn.qkv.lora_A.weight", Tensor.zeros(2, 256));
        t.put("double_blocks.0.img_attn.qkv.lora_B.weight", Tensor.zeros(768, 2));
        t.put("double_blocks.0.img_attn.qkv_typo.lora_A.weight", Tensor.zeros(2, 256));
        t.put("double_blocks.0.img_attn.qkv_typo.lora_B.weight", Tensor.zeros(768, 2));
        WeightsException e = assertThrows(WeightsException.class, () -> LoraFile.open(write("stray.safetensors", t, Map.of())));
        System.out.println("stray key: " + e.getMessage());
        assertTrue(e.getMessage().contains("'double_blocks.0.img_attn.qkv_typo.lora_A.weight'"), e.getMessage());

        t.clear();
        t.put("double_blocks.0.img_attn.qkv.lora_A.weight", Tensor.zeros(2, 256));
        t.put("double_blocks.0.img_attn.qkv.lora_B.weight", Tensor.zeros(768, 2));
        t.put("double_blocks.0.img_attn.qkv.dora_scale", Tensor.zeros(768));
        e = assertThrows(WeightsException.class, () -> LoraFile.open(write("dora.safetensors", t, Map.of())));
        System.out.println("stray key: " + e.getMessage());
        assertTrue(e.getMessage().contains("'double_blocks.0.img_attn.qkv.dora_scale'"), e.getMessage());
    }

    @Test
    void halfAModuleOrAMisfitFailsNamingTheKey() {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("lora_unet_single_blocks_1_linear2.lora_down.weight", Tensor.zeros(2, 1280));
        WeightsException e = assertThrows(WeightsException.class, () -> LoraFile.open(write("half.safetensors", t, Map.of())));
        assertTrue(e.getMessage().contains("lora_unet_single_blocks_1_linear2.lora_down.weight")
                && e.getMessage().contains("no matching"), e.getMessage());
        t.put("lora_unet_single_blocks_1_linear2.lora_up.weight", Tensor.zeros(256, 3));
        e = assertThrows(WeightsException.class, () -> LoraFile.open(write("misfit.safetensors", t, Map.of())));
        System.out.println("misfit: " + e.getMessage());
        assertTrue(e.getMessage().contains("lora_unet_single_blocks_1_linear2.lora_up.weight"), e.getMessage());
    }

    @Test
    void recognisesLoraFilesByTheirNames() {
        assertTrue(LoraFile.looksLikeLora(java.util.Set.of("a.lora_A.weight", "a.lora_B.weight")));
        assertFalse(LoraFile.looksLikeLora(java.util.Set.of("img_in.weight")));
        assertFalse(LoraFile.looksLikeLora(java.util.Set.of()));
    }

    private Path write(String name, Map<String, Tensor> tensors, Map<String, String> metadata) {
        Path p = tmp.resolve(name);
        SafetensorsWriter.write(p, tensors, metadata, DType.BF16);
        return p;
    }
}
