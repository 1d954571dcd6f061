package dev.anyrefill.text;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.text.t5.T5Encoder;
import dev.anyrefill.weights.SafetensorsFile;
import dev.anyrefill.weights.SafetensorsWriter;
import dev.anyrefill.weights.WeightsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Single files with a prefix before the HF names (ComfyUI style) and files that must be refused. */
class EncoderWeightsTest {
    private static final String T5_ANCHOR = "encoder.block.0.layer.0.SelfAttention.q.weight";
    @TempDir
    Path tmp;

    /** The golden T5 weights re-written under {@code prefix}, plus {@code extra} tensors. */
    private Path prefixed(String prefix, Map<String, Tensor> extra) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (SafetensorsFile t5 = SafetensorsFile.open(Golden.text("t5/weights.safetensors"))) {
            for (String n : t5.names()) {
                tensors.put(prefix + n, t5.get(n).toF32());
            }
        }
        tensors.putAll(extra);
        Path file = tmp.resolve("t5xxl_bf16.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of(), DType.BF16);
        return file;
    }

    @Test
    void prefixIsFoundAndTheEncoderRunsTheSame() {
        Path file = prefixed("text_encoders.t5xxl.transformer.", Map.of());
        try (T5Encoder t5 = T5Encoder.open(file);
             SafetensorsFile golden = SafetensorsFile.open(Golden.text("t5/golden.safetensors"))) {
            int[] ids = GoldenRuns.row(golden.get("single.input_ids"), 0);
            Golden.assertClose("t5 behind a prefix, single.last_hidden_state", t5.encode(Backends.java(), ids),
                    GoldenRuns.item(golden.get("single.last_hidden_state"), 0));
        }
        try (EncoderWeights w = EncoderWeights.open(file, T5_ANCHOR, "T5 encoder")) {
            assertTrue(w.contains("shared.weight"));
            assertFalse(w.names().stream().anyMatch(n -> n.startsWith("text_encoders.")));
            assertEquals(null, w.config("t5"), "no config.json beside a file in a temp folder");
        }
    }

    @Test
    void aNameThatOnlyEndsLikeTheAnchorIsNoPrefix() {
        Path file = prefixed("x", Map.of());
        var e = assertThrows(WeightsException.class, () -> EncoderWeights.open(file, T5_ANCHOR, "T5 encoder"));
        assertTrue(e.getMessage().contains("not a T5 encoder"), e.getMessage());
    }

    @Test
    void scaledFp8IsRefused() {
        Path file = prefixed("", Map.of("encoder.block.0.layer.0.SelfAttention.q.scale_weight", Tensor.wrap(new float[] {1f}, 1)));
        var e = assertThrows(WeightsException.class, () -> T5Encoder.open(file));
        assertTrue(e.getMessage().contains("scaled-FP8"), e.getMessage());
    }
}
