package dev.anyrefill.text.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.anyrefill.testing.Golden;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Both tokenizers against Hugging Face's slow tokenizers on every test string of
 * testdata/golden/text/tokenizers (exact ids: default, padded and truncated forms).
 */
class TokenizerGoldenTest {
    private static T5Tokenizer t5;
    private static ClipTokenizer clip;

    @BeforeAll
    static void open() {
        t5 = T5Tokenizer.open(Golden.text("tokenizers/t5_slow_tokenizer"));
        clip = ClipTokenizer.open(Golden.text("tokenizers/clip_slow_tokenizer"));
    }

    @AfterAll
    static void close() {
        t5.close();
    }

    private static List<JsonObject> cases(String file) throws IOException {
        JsonObject root = JsonParser.parseString(Files.readString(Golden.text("tokenizers/" + file))).getAsJsonObject();
        List<JsonObject> out = new ArrayList<>();
        root.getAsJsonArray("cases").forEach(e -> out.add(e.getAsJsonObject()));
        assertTrue(out.size() >= 15, file + " has " + out.size() + " cases");
        return out;
    }

    private static int[] ints(JsonObject c, String key) {
        JsonArray a = c.getAsJsonArray(key);
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }

    @Test
    void t5MatchesEveryGoldenString() throws IOException {
        int n = 0;
        for (JsonObject c : cases("t5_tokenizer_golden.json")) {
            String text = c.get("text").getAsString();
            assertArrayEquals(ints(c, "ids"), t5.encode(text), "t5 ids of '" + text + "'");
            assertArrayEquals(ints(c, "ids_legacy_false"), t5.encode(text), "t5 legacy=False ids of '" + text + "'");
            TokenIds padded = t5.encode(text, 16);
            assertArrayEquals(ints(c, "ids_max_length_16"), padded.ids(), "t5 padded ids of '" + text + "'");
            assertArrayEquals(ints(c, "attention_mask_max_length_16"), padded.mask(), "t5 mask of '" + text + "'");
            n++;
        }
        System.out.println("t5 tokenizer: " + n + " golden strings, ids exact (default, padded/truncated to 16, mask)");
    }

    @Test
    void t5PlainSentencePieceWhereNoSpecialTokenIsInTheText() throws IOException {
        for (JsonObject c : cases("t5_tokenizer_golden.json")) {
            String text = c.get("text").getAsString();
            if (!text.contains("</s>") && !text.contains("<pad>") && !text.contains("<unk>")) {
                assertArrayEquals(ints(c, "ids_plain_sentencepiece_plus_eos"), t5.encode(text), text);
            }
        }
    }

    @Test
    void t5SentinelIdsFollowTheVocabulary() {
        // extra_id_0 is the highest id (399 for the 300-piece golden model), extra_id_99 the lowest.
        assertArrayEquals(new int[] {399, 1}, t5.encode("<extra_id_0>"));
        assertArrayEquals(new int[] {9, 300, 9, 1}, t5.encode("a <extra_id_99> a"));
    }

    @Test
    void clipMatchesEveryGoldenString() throws IOException {
        int n = 0;
        for (JsonObject c : cases("clip_tokenizer_golden.json")) {
            String text = c.get("text").getAsString();
            assertArrayEquals(ints(c, "ids_no_truncation"), clip.encode(text), "clip ids of '" + text + "'");
            TokenIds padded = clip.encode(text, 77);
            assertArrayEquals(ints(c, "input_ids"), padded.ids(), "clip padded ids of '" + text + "'");
            assertArrayEquals(ints(c, "attention_mask"), padded.mask(), "clip mask of '" + text + "'");
            n++;
        }
        System.out.println("clip tokenizer: " + n + " golden strings, ids exact (unpadded, padded to 77, mask)");
    }

    @Test
    void clipTruncatesKeepingEos() {
        TokenIds ids = clip.encode("a ".repeat(100), 77);
        assertEquals(77, ids.ids().length);
        assertEquals(clip.bosId(), ids.ids()[0]);
        assertEquals(320, ids.ids()[75]);
        assertEquals(clip.eosId(), ids.ids()[76]);
    }

    @Test
    void missingFilesAreNamed() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> ClipTokenizer.open(Golden.text("tokenizers/t5_spm")));
        assertTrue(e.getMessage().contains("vocab.json"), e.getMessage());
        var f = assertThrows(IllegalArgumentException.class,
                () -> T5Tokenizer.open(Golden.text("tokenizers/clip_bpe")));
        assertTrue(f.getMessage().contains("spiece.model"), f.getMessage());
        var g = assertThrows(IllegalArgumentException.class,
                () -> T5Tokenizer.open(Golden.text("tokenizers/clip_bpe/vocab.json")));
        assertTrue(g.getMessage().contains("vocab.json"), g.getMessage());
    }
}
