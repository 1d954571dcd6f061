package dev.anyrefill.weights;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.StreamSupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The golden tiny transformer in its BFL and diffusers layouts, seen under BFL's names. */
class FluxCheckpointTest {

    @Test
    void bflAndDiffusersLayoutsGiveTheSameTensorsBitForBit() {
        try (FluxCheckpoint bfl = FluxCheckpoint.open(Golden.tiny("flux-fill.safetensors"));
             FluxCheckpoint diffusers = FluxCheckpoint.open(Golden.tiny("flux-fill-diffusers.safetensors"))) {
            assertEquals(FluxLayout.BFL, bfl.layout());
            assertEquals(FluxLayout.DIFFUSERS, diffusers.layout());
            assertEquals(bfl.names(), diffusers.names());
            for (String name : bfl.names()) {
                Tensor a = bfl.get(name);
                Tensor b = diffusers.get(name);
                assertEquals(a.dtype(), b.dtype(), name);
                assertArrayEquals(a.shape(), b.shape(), name);
                assertArrayEquals(a.segment().toArray(ValueLayout.JAVA_BYTE),
                        b.segment().toArray(ValueLayout.JAVA_BYTE), name + " differs");
            }
            System.out.println("layouts: " + bfl.names().size() + " canonical tensors identical in BFL and diffusers files");
        }
    }

    @Test
    void inferredConfigEqualsTheManifest() throws Exception {
        JsonObject params = JsonParser.parseString(Files.readString(Golden.tiny("manifest.json")))
                .getAsJsonObject().getAsJsonObject("flux_params");
        int[] axes = StreamSupport.stream(params.getAsJsonArray("axes_dim").spliterator(), false)
                .mapToInt(e -> e.getAsInt()).toArray();
        FluxConfig expected = new FluxConfig(params.get("in_channels").getAsInt(), params.get("out_channels").getAsInt(),
                params.get("vec_in_dim").getAsInt(), params.get("context_in_dim").getAsInt(),
                params.get("hidden_size").getAsInt(), params.get("mlp_ratio").getAsDouble(),
                params.get("num_heads").getAsInt(), params.get("depth").getAsInt(),
                params.get("depth_single_blocks").getAsInt(), axes, params.get("theta").getAsInt(),
                params.get("qkv_bias").getAsBoolean(), params.get("guidance_embed").getAsBoolean());
        for (String file : new String[]{"flux-fill.safetensors", "flux-fill-diffusers.safetensors"}) {
            try (FluxCheckpoint c = FluxCheckpoint.open(Golden.tiny(file))) {
                assertEquals(expected, c.config(), file);
            }
        }
    }

    @Test
    void comfyUiPrefixIsStripped(@TempDir Path dir) {
        Path comfy = dir.resolve("comfy.safetensors");
        try (SafetensorsFile bfl = SafetensorsFile.open(Golden.tiny("flux-fill.safetensors"))) {
            Map<String, Tensor> renamed = new LinkedHashMap<>();
            for (String n : bfl.names()) {
                renamed.put(FluxLayout.COMFYUI_PREFIX + n, bfl.get(n));
            }
            renamed.put("vae.decoder.conv_in.weight", Tensor.zeros(2, 2)); // other models in the same file
            SafetensorsWriter.write(comfy, renamed, Map.of(), dev.anyrefill.tensor.DType.BF16);
            try (FluxCheckpoint c = FluxCheckpoint.open(comfy)) {
                assertEquals(FluxLayout.COMFYUI, c.layout());
                assertEquals(bfl.names(), c.names());
                Tensor a = bfl.get("double_blocks.1.img_attn.qkv.weight");
                Tensor b = c.get("double_blocks.1.img_attn.qkv.weight");
                assertArrayEquals(a.segment().toArray(ValueLayout.JAVA_BYTE), b.segment().toArray(ValueLayout.JAVA_BYTE));
            }
        }
    }

    @Test
    void shardedIndexReadsLikeOneFile(@TempDir Path dir) throws Exception {
        try (SafetensorsFile bfl = SafetensorsFile.open(Golden.tiny("flux-fill.safetensors"))) {
            Map<String, Tensor> first = new LinkedHashMap<>();
            Map<String, Tensor> second = new LinkedHashMap<>();
            JsonObject weightMap = new JsonObject();
            int i = 0;
            for (String n : bfl.names()) {
                boolean one = i++ % 2 == 0;
                (one ? first : second).put(n, bfl.get(n));
                weightMap.addProperty(n, one ? "part-1.safetensors" : "part-2.safetensors");
            }
            SafetensorsWriter.write(dir.resolve("part-1.safetensors"), first, Map.of(), dev.anyrefill.tensor.DType.BF16);
            SafetensorsWriter.write(dir.resolve("part-2.safetensors"), second, Map.of(), dev.anyrefill.tensor.DType.BF16);
            JsonObject index = new JsonObject();
            index.add("weight_map", weightMap);
            Files.writeString(dir.resolve("model.safetensors.index.json"), index.toString());
            try (FluxCheckpoint sharded = FluxCheckpoint.open(dir)) {
                assertEquals(bfl.names(), sharded.names());
                for (String n : bfl.names()) {
                    assertArrayEquals(bfl.get(n).segment().toArray(ValueLayout.JAVA_BYTE),
                            sharded.get(n).segment().toArray(ValueLayout.JAVA_BYTE), n);
                }
            }
        }
    }

    @Test
    void aFileThatIsNoTransformerIsRefusedByName() {
        WeightsException e = assertThrows(WeightsException.class,
                () -> FluxCheckpoint.open(Golden.tiny("ae.safetensors")));
        assertTrue(e.getMessage().contains("ae.safetensors") && e.getMessage().contains("not a FLUX transformer"),
                e.getMessage());
    }

    @Test
    void aMissingTensorIsNamed() {
        try (FluxCheckpoint c = FluxCheckpoint.open(Golden.tiny("flux-fill.safetensors"))) {
            WeightsException e = assertThrows(WeightsException.class, () -> c.get("double_blocks.7.img_mod.lin.weight"));
            assertTrue(e.getMessage().contains("double_blocks.7.img_mod.lin.weight"), e.getMessage());
            WeightsException shape = assertThrows(WeightsException.class, () -> c.get("img_in.weight", 256, 64));
            assertTrue(shape.getMessage().contains("[256, 384]"), shape.getMessage());
        }
    }
}
