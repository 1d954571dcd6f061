package dev.anyrefill.sampler;

import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.dit.LoraMode;
import dev.anyrefill.dit.Loras;
import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.SafetensorsFile;
import dev.anyrefill.weights.lora.LoraFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Denoising with a LoRA against BFL's reference (expected-lora.safetensors denoise.packed). */
class LoraDenoiseGoldenTest {
    private static SafetensorsFile expected;
    private static SafetensorsFile expectedLora;

    @BeforeAll
    static void open() {
        expected = Golden.expected();
        expectedLora = SafetensorsFile.open(Golden.tiny("expected-lora.safetensors"));
    }

    @AfterAll
    static void close() {
        expected.close();
        expectedLora.close();
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (String model : new String[]{"flux-fill.safetensors", "flux-fill-diffusers.safetensors"}) {
            for (LoraMode mode : LoraMode.values()) {
                cases.add(Arguments.of(model, "lora-bfl.safetensors", 0.75, mode));
                cases.add(Arguments.of(model, "lora-peft.safetensors", 0.75, mode));
                cases.add(Arguments.of(model, "lora-kohya.safetensors", 1.0, mode));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} + {1}:{2} {3}")
    @MethodSource("cases")
    void denoiseWithLoraMatchesReference(String modelFile, String loraFile, double weight, LoraMode mode) {
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(Golden.tiny(modelFile));
             LoraFile lora = LoraFile.open(Golden.tiny(loraFile))) {
            JavaKernels k = new JavaKernels();
            FluxModel model = new FluxModel(ckpt, k);
            Loras.apply(model, List.of(new Loras.Weighted(lora, weight)), mode);
            Tensor txt = expected.get("txt").toF32();
            Tensor vec = expected.get("vec").toF32();
            Tensor imgIds = PositionIds.image(4, 8);
            Tensor txtIds = PositionIds.text(txt.dim(0));
            VelocityModel velocity = (img, t, g) -> model.forward(img, imgIds, txt, txtIds, t, vec, g, FluxModel.Trace.NONE);
            Tensor packed = Euler.denoise(k, velocity, Packing.pack(expected.get("noise")), expected.get("img_cond").toF32(),
                    Schedule.schedule(4, 32, true), 30.0, Euler.StepListener.NONE);
            Golden.assertClose(modelFile + " + " + loraFile + " " + mode + " denoise.packed", packed,
                    expectedLora.get("denoise.packed"));
        }
    }
}
