package dev.anyrefill.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.text.FluxTextFixture;
import dev.anyrefill.weights.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tokenize, text and encode-prompt commands, run in-process against the golden text data. */
class TextCommandsTest {
    @TempDir
    Path tmp;

    private static JsonObject goldenCase(String file, int i) throws IOException {
        return JsonParser.parseString(Files.readString(Golden.text("tokenizers/" + file))).getAsJsonObject()
                .getAsJsonArray("cases").get(i).getAsJsonObject();
    }

    private static String json(JsonArray a) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < a.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(a.get(i).getAsInt());
        }
        return sb.append("]").toString();
    }

    @Test
    void tokenizeT5AndClip() throws IOException {
        JsonObject t5 = goldenCase("t5_tokenizer_golden.json", 1);
        CliRun r = CliRun.of("tokenize", "t5", "--tokenizer", Golden.text("tokenizers/t5_slow_tokenizer").toString(),
                t5.get("text").getAsString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(json(t5.getAsJsonArray("ids")), r.out().trim());
        assertEquals("", r.err(), "nothing on stderr");

        JsonObject clip = goldenCase("clip_tokenizer_golden.json", 6);
        r = CliRun.of("tokenize", "clip", "--tokenizer", Golden.text("tokenizers/clip_bpe").toString(),
                "--max-length", "77", clip.get("text").getAsString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(json(clip.getAsJsonArray("input_ids")), r.out().trim());
    }

    @Test
    void textT5ReproducesTheGoldenBatchRowWithMask() {
        try (SafetensorsFile golden = SafetensorsFile.open(Golden.text("t5/golden.safetensors"))) {
            int[] ids = row(golden.get("batch.input_ids"), 1);
            int[] mask = row(golden.get("batch.attention_mask"), 1);
            Path out = tmp.resolve("t5.safetensors");
            CliRun r = CliRun.of("text", "t5", "--weights", Golden.text("t5/weights.safetensors").toString(),
                    "--ids", csv(ids), "--mask", csv(mask), "--out", out.toString(), "--trace");
            assertEquals(0, r.exitCode(), r.err());
            try (SafetensorsFile got = SafetensorsFile.open(out)) {
                Golden.assertClose("cli text t5 batch[1].last_hidden_state", got.get("last_hidden_state"),
                        golden.get("batch.last_hidden_state").sliceRows(1, 2));
                Golden.assertClose("cli text t5 batch[1].block_output.1", got.get("block_output.1"),
                        golden.get("batch.block_output.1").sliceRows(1, 2));
            }
        }
    }

    @Test
    void textClipReproducesTheGoldenPooledOutput() {
        try (SafetensorsFile golden = SafetensorsFile.open(Golden.text("clip/golden.safetensors"))) {
            int[] ids = row(golden.get("fluxpad.input_ids"), 0);
            Path out = tmp.resolve("clip.safetensors");
            CliRun r = CliRun.of("text", "clip", "--weights", Golden.text("clip").toString(),
                    "--ids", csv(ids), "--out", out.toString());
            assertEquals(0, r.exitCode(), r.err());
            try (SafetensorsFile got = SafetensorsFile.open(out)) {
                Golden.assertClose("cli text clip fluxpad[0].last_hidden_state", got.get("last_hidden_state"),
                        golden.get("fluxpad.last_hidden_state").sliceRows(0, 1));
                Golden.assertClose("cli text clip fluxpad[0].pooler_output", got.get("pooler_output"),
                        golden.get("fluxpad.pooler_output").sliceRows(0, 1));
                assertFalse(got.contains("hidden_states.0"), "no trace asked");
            }
        }
    }

    @Test
    void encodePromptWritesTxtAndVec() throws IOException {
        Path repo = FluxTextFixture.create(tmp.resolve("flux"));
        Path out = tmp.resolve("emb.safetensors");
        CliRun r = CliRun.of("encode-prompt", "--text-encoders", repo.toString(), "--t5-length", "16",
                "a photo of a cat", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        try (SafetensorsFile got = SafetensorsFile.open(out)) {
            assertArrayEquals(new int[] {16, 64}, got.get("txt").shape());
            assertArrayEquals(new int[] {64}, got.get("vec").shape());
            assertEquals("a photo of a cat", got.metadata().get("prompt"));
        }
    }

    @Test
    void inspectRecognisesTheEncoders() {
        CliRun r = CliRun.of("inspect", Golden.text("t5/weights.safetensors").toString(), Golden.text("clip/weights.safetensors").toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("model: T5 encoder") && r.out().contains("heads=4, dKv=16"), r.out());
        assertTrue(r.out().contains("model: CLIP text model") && r.out().contains("eosTokenId=499"), r.out());
    }

    @Test
    void userErrorsAreOneLineWithExitCode2() {
        CliRun r = CliRun.of("text", "bert", "--weights", "x", "--ids", "1", "--out", tmp.resolve("o").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("expected t5 or clip") && r.err().strip().lines().count() == 1, r.err());

        r = CliRun.of("encode-prompt", "--text-encoders", tmp.resolve("none").toString(), "p", "--out", tmp.resolve("o").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("text encoders not found"), r.err());

        r = CliRun.of("text", "t5", "--weights", Golden.text("clip/weights.safetensors").toString(), "--ids", "1,2",
                "--out", tmp.resolve("o").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("not a T5 encoder"), r.err());
    }

    private static int[] row(Tensor t, int b) {
        int length = t.dim(1);
        int[] out = new int[length];
        for (int i = 0; i < length; i++) {
            out[i] = (int) t.getLong((long) b * length + i);
        }
        return out;
    }

    private static String csv(int[] v) {
        return Arrays.stream(v).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }
}
