package dev.anyrefill.pipeline;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.vae.AutoEncoder;
import dev.anyrefill.weights.SafetensorsFile;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FillConditioningTest {
    @Test
    void imgCondFromTheCanvasFiles() {
        try (SafetensorsFile ae = SafetensorsFile.open(Golden.tiny("ae.safetensors"));
             SafetensorsFile expected = Golden.expected()) {
            AutoEncoder autoEncoder = new AutoEncoder(ae, Backends.java());
            Tensor imgCond = FillConditioning.fromFiles(autoEncoder, Golden.tiny("canvas.png"),
                    Golden.tiny("canvas-mask.png"), false, null);
            Golden.assertClose("img_cond", imgCond, expected.get("img_cond"));
            // the mask half on its own: exact, it is only rearranged
            Tensor ref = expected.get("img_cond").toF32();
            double maxDiff = 0;
            for (int t = 0; t < imgCond.dim(0); t++) {
                for (int c = 64; c < 320; c++) {
                    maxDiff = Math.max(maxDiff, Math.abs(imgCond.get(t, c) - ref.get(t, c)));
                }
            }
            System.out.printf("img_cond mask channels: max |diff| = %.1e (tolerance 0)%n", maxDiff);
            assertEquals(0.0, maxDiff);
        }
    }

    @Test
    void maskOfAnotherSizeIsRefused() {
        try (SafetensorsFile ae = SafetensorsFile.open(Golden.tiny("ae.safetensors"))) {
            AutoEncoder autoEncoder = new AutoEncoder(ae, Backends.java());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                    FillConditioning.fromFiles(autoEncoder, Golden.tiny("canvas.png"), Golden.tiny("target-mask.png"), false, null));
            assertTrue(e.getMessage().contains("target-mask.png") && e.getMessage().contains("same size"), e.getMessage());
        }
    }
}
