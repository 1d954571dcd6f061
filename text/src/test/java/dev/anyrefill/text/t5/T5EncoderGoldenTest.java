package dev.anyrefill.text.t5;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.text.GoldenRuns;
import dev.anyrefill.weights.SafetensorsFile;
import dev.anyrefill.weights.WeightsException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The T5 encoder against HF's T5EncoderModel (float64) on the tiny golden model (BF16 weights). */
class T5EncoderGoldenTest {
    private static final Kernels K = Backends.java();
    private static T5Encoder encoder;
    private static SafetensorsFile golden;
    private static SafetensorsFile weights;

    @BeforeAll
    static void open() {
        encoder = T5Encoder.open(Golden.text("t5/weights.safetensors"));
        golden = SafetensorsFile.open(Golden.text("t5/golden.safetensors"));
        weights = SafetensorsFile.open(Golden.text("t5/weights.safetensors"));
    }

    @AfterAll
    static void close() {
        encoder.close();
        golden.close();
        weights.close();
    }

    @Test
    void configFromShapes() {
        assertEquals(new T5Config(400, 64, 4, 16, 160, 3, 32, 128, 1e-6f), encoder.config());
    }

    @Test
    void relativeBucketsExact() {
        Tensor ref = golden.get("rel_bucket.12");
        int[] got = new RelativePositionBias(weights.get(T5Config.REL_BIAS), 128).buckets(12);
        assertEquals(144, got.length);
        for (int i = 0; i < got.length; i++) {
            assertEquals(ref.getLong(i), got[i], "bucket of (query, key) " + i / 12 + ", " + i % 12);
        }
        System.out.println("golden rel_bucket.12: all 144 buckets exact");
    }

    @Test
    void relativeBiasMatches() {
        Tensor bias = new RelativePositionBias(weights.get(T5Config.REL_BIAS), 128).bias(K, 12, null);
        Golden.assertClose("t5 rel_bias.12", bias, golden.get("rel_bias.12").toF32());
    }

    @Test
    void single() {
        run("single", 0, false);
    }

    @Test
    void batchWithMaskEachRow() {
        run("batch", 0, true);
        run("batch", 1, true);
    }

    @Test
    void batchWithoutMaskEachRow() {
        run("batch_nomask", 0, false);
        run("batch_nomask", 1, false);
    }

    private static void run(String name, int b, boolean masked) {
        int[] ids = GoldenRuns.row(golden.get(name + ".input_ids"), b);
        int[] mask = masked ? GoldenRuns.row(golden.get(name + ".attention_mask"), b) : null;
        T5Encoder.Output out = encoder.forward(K, ids, mask, true);
        String what = "t5 " + name + "[" + b + "].";
        Golden.assertClose(what + "last_hidden_state", out.lastHiddenState(),
                GoldenRuns.item(golden.get(name + ".last_hidden_state"), b));
        assertEquals(encoder.config().layers(), out.blockOutputs().size());
        for (int i = 0; i < out.blockOutputs().size(); i++) {
            Golden.assertClose(what + "block_output." + i, out.blockOutputs().get(i),
                    GoldenRuns.item(golden.get(name + ".block_output." + i), b));
        }
        Golden.assertClose(what + "hidden_states.0 (embeddings)", K.gatherRows(weights.get(T5Config.SHARED), ids),
                GoldenRuns.item(golden.get(name + ".hidden_states.0"), b));
    }

    @Test
    void idsOutsideTheVocabularyAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> encoder.encode(K, new int[] {5, 400}));
        assertTrue(e.getMessage().contains("400"), e.getMessage());
    }

    @Test
    void aClipFileIsNotAT5() {
        var e = assertThrows(WeightsException.class, () -> T5Encoder.open(Golden.text("clip/weights.safetensors")));
        assertTrue(e.getMessage().contains("not a T5 encoder"), e.getMessage());
    }
}
