package dev.anyrefill.text.clip;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
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

/** The CLIP text model against HF's CLIPTextModel (float64) on the tiny golden model (BF16 weights). */
class ClipTextModelGoldenTest {
    private static final Kernels K = Backends.java();
    private static ClipTextModel model;
    private static SafetensorsFile golden;

    @BeforeAll
    static void open() {
        model = ClipTextModel.open(Golden.text("clip/weights.safetensors"));
        golden = SafetensorsFile.open(Golden.text("clip/golden.safetensors"));
    }

    @AfterAll
    static void close() {
        model.close();
        golden.close();
    }

    @Test
    void configFromShapesAndConfigJson() {
        assertEquals(new ClipTextConfig(500, 64, 4, 128, 3, 77, 1e-5f, Activation.QUICK_GELU, 499), model.config());
    }

    @Test
    void fluxpadEachRow() {
        run("fluxpad", 0, false);
        run("fluxpad", 1, false);
    }

    @Test
    void maskedEachRow() {
        run("masked", 0, true);
        run("masked", 1, true);
    }

    private static void run(String name, int b, boolean masked) {
        int[] ids = GoldenRuns.row(golden.get(name + ".input_ids"), b);
        int[] mask = masked ? GoldenRuns.row(golden.get(name + ".attention_mask"), b) : null;
        ClipTextModel.Output out = model.forward(K, ids, mask, true);
        String what = "clip " + name + "[" + b + "].";
        assertEquals(golden.get("pooled_index").getLong(b), out.pooledIndex(), what + "pooled index");
        Golden.assertClose(what + "last_hidden_state", out.lastHiddenState(),
                GoldenRuns.item(golden.get(name + ".last_hidden_state"), b));
        Golden.assertClose(what + "pooler_output", out.pooledOutput(),
                GoldenRuns.item(golden.get(name + ".pooler_output"), b));
        assertEquals(model.config().layers() + 1, out.hiddenStates().size());
        for (int i = 0; i < out.hiddenStates().size(); i++) {
            Golden.assertClose(what + "hidden_states." + i, out.hiddenStates().get(i),
                    GoldenRuns.item(golden.get(name + ".hidden_states." + i), b));
        }
    }

    @Test
    void poolingRules() {
        int[] ids = {3, 7, 9, 7, 1};
        assertEquals(1, ClipTextModel.pooledIndex(ids, 7), "first eos");
        assertEquals(2, ClipTextModel.pooledIndex(ids, 2), "legacy eos id 2: the highest id");
        assertEquals(4, ClipTextModel.pooledIndex(ids, 8), "no eos: the last position");
    }

    @Test
    void tooManyIdsAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> model.forward(K, new int[78], null, false));
        assertTrue(e.getMessage().contains("78"), e.getMessage());
    }

    @Test
    void aT5FileIsNotAClip() {
        var e = assertThrows(WeightsException.class, () -> ClipTextModel.open(Golden.text("t5/weights.safetensors")));
        assertTrue(e.getMessage().contains("not a CLIP text model"), e.getMessage());
    }
}
