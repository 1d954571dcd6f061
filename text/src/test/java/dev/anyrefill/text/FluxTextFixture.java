package dev.anyrefill.text;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.weights.SafetensorsFile;
import dev.anyrefill.weights.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A miniature FLUX repository built from the golden tiny encoders, in the diffusers layout
 * (text_encoder/, text_encoder_2/ sharded with an index, tokenizer/, tokenizer_2/).
 *
 * <p>The golden tiny CLIP has a 500-token vocabulary but its golden tokenizer 600 ids, so the
 * fixture's CLIP is the golden one with the token table grown to 600 rows (rows 500..599
 * repeat rows 0..99) and eos 599 in its config; everything else is the golden weights as stored.
 */
public final class FluxTextFixture {
    private FluxTextFixture() {
    }

    public static Path create(Path repo) throws IOException {
        Path clipDir = Files.createDirectories(repo.resolve("text_encoder"));
        try (SafetensorsFile clip = SafetensorsFile.open(Golden.text("clip/weights.safetensors"))) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String name : clip.names()) {
                tensors.put(name, clip.get(name));
            }
            String table = "text_model.embeddings.token_embedding.weight";
            Tensor old = clip.get(table).toF32();
            float[] grown = new float[600 * 64];
            System.arraycopy(old.data(), 0, grown, 0, 500 * 64);
            System.arraycopy(old.data(), 0, grown, 500 * 64, 100 * 64);
            tensors.put(table, Tensor.wrap(grown, 600, 64));
            SafetensorsWriter.write(clipDir.resolve("model.safetensors"), tensors, Map.of(), DType.BF16);
        }
        JsonObject clipConfig = JsonParser.parseString(Files.readString(Golden.text("clip/config.json"))).getAsJsonObject();
        clipConfig.addProperty("vocab_size", 600);
        clipConfig.addProperty("bos_token_id", 598);
        clipConfig.addProperty("eos_token_id", 599);
        clipConfig.addProperty("pad_token_id", 599);
        Files.writeString(clipDir.resolve("config.json"), clipConfig.toString());

        Path t5Dir = Files.createDirectories(repo.resolve("text_encoder_2"));
        try (SafetensorsFile t5 = SafetensorsFile.open(Golden.text("t5/weights.safetensors"))) {
            List<String> names = new ArrayList<>(t5.names());
            JsonObject weightMap = new JsonObject();
            for (int shard = 0; shard < 2; shard++) {
                String file = "model-0000" + (shard + 1) + "-of-00002.safetensors";
                Map<String, Tensor> part = new LinkedHashMap<>();
                for (int i = shard; i < names.size(); i += 2) {
                    part.put(names.get(i), t5.get(names.get(i)));
                    weightMap.addProperty(names.get(i), file);
                }
                SafetensorsWriter.write(t5Dir.resolve(file), part, Map.of(), DType.BF16);
            }
            JsonObject index = new JsonObject();
            index.add("metadata", new JsonObject());
            index.add("weight_map", weightMap);
            Files.writeString(t5Dir.resolve("model.safetensors.index.json"), index.toString());
        }
        Files.copy(Golden.text("t5/config.json"), t5Dir.resolve("config.json"));

        copyFolder(Golden.text("tokenizers/clip_slow_tokenizer"), Files.createDirectories(repo.resolve("tokenizer")));
        copyFolder(Golden.text("tokenizers/t5_slow_tokenizer"), Files.createDirectories(repo.resolve("tokenizer_2")));
        return repo;
    }

    private static void copyFolder(Path from, Path to) throws IOException {
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
    }
}
