package dev.anyrefill.text;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.text.clip.ClipTextModel;
import dev.anyrefill.text.t5.T5Encoder;
import dev.anyrefill.text.tokenizer.ClipTokenizer;
import dev.anyrefill.text.tokenizer.T5Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The prompt path end to end on a miniature FLUX repo: the tokenizers' padded ids go into the
 * encoders; txt and vec must equal the golden-tested pieces run by hand on the same ids, and
 * the ids must be the golden tokenizers' ids.
 */
class PromptEncoderTest {
    private static final Kernels K = Backends.java();
    private static final String PROMPT = "a photo of a cat";
    @TempDir
    static Path tmp;
    private static Path repo;

    @BeforeAll
    static void build() throws IOException {
        repo = FluxTextFixture.create(tmp.resolve("flux"));
    }

    @Test
    void encodesLikeTheParts() {
        TextEncoderPaths paths = TextEncoderPaths.resolve(repo, null, null, null, null);
        PromptEncoder.Embeddings e = new PromptEncoder(paths, 32).encode(K, PROMPT);
        assertArrayEquals(new int[] {32, 64}, e.txt().shape());
        assertArrayEquals(new int[] {64}, e.vec().shape());

        int[] t5Ids;
        try (T5Tokenizer t = T5Tokenizer.open(repo.resolve("tokenizer_2"))) {
            t5Ids = t.encode(PROMPT, 32).ids();
        }
        assertArrayEquals(new int[] {9, 102, 3, 12, 9, 40, 6, 1, 0, 0}, java.util.Arrays.copyOf(t5Ids, 10),
                "golden T5 ids, padded with 0");
        try (T5Encoder t5 = T5Encoder.open(Golden.text("t5/weights.safetensors"))) {
            Golden.assertClose("prompt txt vs T5 on the golden weights", e.txt(), t5.encode(K, t5Ids));
        }
        int[] clipIds;
        try (ClipTokenizer t = ClipTokenizer.open(repo.resolve("tokenizer"))) {
            clipIds = t.encode(PROMPT, 77).ids();
        }
        try (ClipTextModel clip = ClipTextModel.open(repo.resolve("text_encoder"))) {
            ClipTextModel.Output out = clip.forward(K, clipIds, null, false);
            assertEquals(9, out.pooledIndex(), "pooled at the first <|endoftext|>");
            Golden.assertClose("prompt vec vs CLIP pooled output", e.vec(), out.pooledOutput());
        }
    }

    @Test
    void defaultLengthIsFluxs() {
        PromptEncoder.Embeddings e = new PromptEncoder(TextEncoderPaths.resolve(repo, null, null, null, null))
                .encode(K, "UPPER lower");
        assertArrayEquals(new int[] {512, 64}, e.txt().shape());
    }

    @Test
    void missingPartsAreNamed() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> TextEncoderPaths.resolve(tmp.resolve("nowhere"), null, null, null, null));
        assertTrue(e.getMessage().contains("T5 encoder") && e.getMessage().contains("CLIP tokenizer"), e.getMessage());
        var f = assertThrows(IllegalArgumentException.class,
                () -> TextEncoderPaths.resolve(null, repo.resolve("text_encoder_2"), null, null, null));
        assertTrue(f.getMessage().contains("--clip") && !f.getMessage().contains("--t5)"), f.getMessage());
    }

    @Test
    void explicitPathsOverrideTheRepo() {
        Path t5File = Golden.text("t5/weights.safetensors");
        TextEncoderPaths p = TextEncoderPaths.resolve(repo, t5File, null, null, null);
        assertEquals(t5File, p.t5());
        assertEquals(repo.resolve("text_encoder"), p.clip());
    }
}
