package dev.anyrefill.sampler;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.dit.LoraMode;
import dev.anyrefill.dit.Loras;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.testing.GoldenFile;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.lora.LoraFile;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

/** Denoising with a LoRA against BFL's reference (expected-lora.safetensors denoise.packed). */
class LoraDenoiseGoldenTest {
    @RegisterExtension
    static final GoldenFile expected = GoldenFile.expected();
    @RegisterExtension
    static final GoldenFile expectedLora = GoldenFile.tiny("expected-lora.safetensors");

    @ParameterizedTest(name = "{0} + {1}:{2} {3}")
    @MethodSource("dev.anyrefill.dit.FluxGolden#loraCases")
    void denoiseWithLoraMatchesReference(String modelFile, String loraFile, double weight, LoraMode mode) {
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(Golden.tiny(modelFile));
             LoraFile lora = LoraFile.open(Golden.tiny(loraFile))) {
            FluxModel model = new FluxModel(ckpt, Backends.java());
            Loras.apply(model, List.of(new Loras.Weighted(lora, weight)), mode);
            Tensor packed = GoldenDenoise.denoise(model, expected);
            Golden.assertClose(modelFile + " + " + loraFile + " " + mode + " denoise.packed", packed,
                    expectedLora.get("denoise.packed"));
        }
    }
}
