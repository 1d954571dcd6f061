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

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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

    /** Runs the CLI; returns {exit code, stdout, stderr}. */
    private static String[] cli(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int rc = Main.run(args);
            return new String[] {Integer.toString(rc), o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

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
        String[] r = cli("tokenize", "t5", "--tokenizer", Golden.text("tokenizers/t5_slow_tokenizer").toString(),
                t5.get("text").getAsString());
        assertEquals("0", r[0], r[2]);
        assertEquals(json(t5.getAsJsonArray("ids")), r[1].trim());
        assertEquals("", r[2], "nothing on stderr");

        JsonObject clip = goldenCase("clip_tokenizer_golden.json", 6);
        r = cli("tokenize", "clip", "--tokenizer", Golden.text("tokenizers/clip_bpe").toString(),
                "--max-length", "77", clip.get("text").getAsString());
        assertEquals("0", r[0], r[2]);
        assertEquals(json(clip.getAsJsonArray("input_ids")), r[1].trim());
    }

    @Test
    void textT5ReproducesTheGoldenBatchRowWithMask() {
        try (SafetensorsFile golden = SafetensorsFile.open(Golden.text("t5/golden.safetensors"))) {
            int[] ids = row(golden.get("batch.input_ids"), 1);
            int[] mask = row(golden.get("batch.attention_mask"), 1);
            Path out = tmp.resolve("t5.safetensors");
            String[] r = cli("text", "t5", "--weights", Golden.text("t5/weights.safetensors").toString(),
                    "--ids", csv(ids), "--mask", csv(mask), "--out", out.toString(), "--trace");
            assertEquals("0", r[0], r[2]);
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
            String[] r = cli("text", "clip", "--weights", Golden.text("clip").toString(),
                    "--ids", csv(ids), "--out", out.toString());
            assertEquals("0", r[0], r[2]);
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
        String[] r = cli("encode-prompt", "--text-encoders", repo.toString(), "--t5-length", "16",
                "a photo of a cat", "--out", out.toString());
        assertEquals("0", r[0], r[2]);
        try (SafetensorsFile got = SafetensorsFile.open(out)) {
            assertArrayEquals(new int[] {16, 64}, got.get("txt").shape());
            assertArrayEquals(new int[] {64}, got.get("vec").shape());
            assertEquals("a photo of a cat", got.metadata().get("prompt"));
        }
    }

    @Test
    void inspectRecognisesTheEncoders() {
        String[] r = cli("inspect", Golden.text("t5/weights.safetensors").toString(), Golden.text("clip/weights.safetensors").toString());
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("model: T5 encoder") && r[1].contains("heads=4, dKv=16"), r[1]);
        assertTrue(r[1].contains("model: CLIP text model") && r[1].contains("eosTokenId=499"), r[1]);
    }

    @Test
    void userErrorsAreOneLineWithExitCode2() {
        String[] r = cli("text", "bert", "--weights", "x", "--ids", "1", "--out", tmp.resolve("o").toString());
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("expected t5 or clip") && r[2].strip().lines().count() == 1, r[2]);

        r = cli("encode-prompt", "--text-encoders", tmp.resolve("none").toString(), "p", "--out", tmp.resolve("o").toString());
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("text encoders not found"), r[2]);

        r = cli("text", "t5", "--weights", Golden.text("clip/weights.safetensors").toString(), "--ids", "1,2",
                "--out", tmp.resolve("o").toString());
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("not a T5 encoder"), r[2]);
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
