package dev.anyrefill.dit;

import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.GoldenFile;
import org.junit.jupiter.params.provider.Arguments;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What the golden tests of the transformer share (here and in the sampler's tests, through this
 * module's test-jar): the LoRA cases and the forward pass on the reference's own inputs.
 */
public final class FluxGolden {
    private FluxGolden() {
    }

    /**
     * Every LoRA layout (at the weight that makes scale 0.75) in both modes on both checkpoint
     * layouts, as (model file, LoRA file, weight, mode); expected-lora.safetensors is their reference.
     */
    public static Stream<Arguments> loraCases() {
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

    /** The forward pass on expected.safetensors' inputs (img_packed beside img_cond, guidance 30). */
    public static Tensor forward(FluxModel model, GoldenFile expected, FluxModel.Trace trace) {
        Tensor img = model.kernels().concatColumns(expected.get("img_packed").toF32(), expected.get("img_cond").toF32());
        return model.forward(img, expected.get("img_ids"), expected.get("txt").toF32(), expected.get("txt_ids"),
                expected.get("forward.t").getFloat(0), expected.get("vec").toF32(), 30.0, trace);
    }
}
