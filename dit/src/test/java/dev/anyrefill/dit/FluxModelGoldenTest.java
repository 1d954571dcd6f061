package dev.anyrefill.dit;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.testing.GoldenFile;
import dev.anyrefill.weights.FluxCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The forward pass against BFL's reference (testdata/golden/tiny, float64), both checkpoint layouts. */
class FluxModelGoldenTest {
    @RegisterExtension
    static final GoldenFile expected = GoldenFile.expected();

    @Test
    void timestepEmbeddings() {
        int checked = 0;
        for (String name : expected.names()) {
            if (name.startsWith("timestep_embedding.")) {
                double t = Double.parseDouble(name.substring("timestep_embedding.".length()));
                Golden.assertClose(name, TimestepEmbedding.of(t, 256), expected.get(name));
                checked++;
            }
        }
        assertEquals(4, checked, "timestep_embedding.* tensors in the golden file");
    }

    /** The blocks alone, fed the reference's own vec (the path that takes a precomputed vec). */
    @Test
    void blocksGivenTheReferenceVec() {
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(Golden.tiny("flux-fill.safetensors"))) {
            FluxModel model = new FluxModel(ckpt, Backends.java());
            Map<String, Tensor> trace = new HashMap<>();
            Tensor img = model.kernels().concatColumns(expected.get("img_packed").toF32(),
                    expected.get("img_cond").toF32());
            Tensor velocity = model.forward(img, expected.get("img_ids"), expected.get("txt").toF32(),
                    expected.get("txt_ids"), expected.get("forward.vec").toF32(), trace::put);
            Golden.assertClose("given vec: trace.single_blocks.1", trace.get("trace.single_blocks.1"),
                    expected.get("trace.single_blocks.1"), 1e-5);
            Golden.assertClose("given vec: forward.velocity", velocity, expected.get("forward.velocity"), 1e-5);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"flux-fill.safetensors", "flux-fill-diffusers.safetensors"})
    void forwardMatchesReference(String file) {
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(Golden.tiny(file))) {
            FluxModel model = new FluxModel(ckpt, Backends.java());
            Map<String, Tensor> trace = new HashMap<>();
            Tensor velocity = FluxGolden.forward(model, expected, trace::put);
            Golden.assertClose(file + " forward.vec", trace.get("vec"), expected.get("forward.vec"));
            Golden.assertClose(file + " forward.pe", trace.get("pe"), expected.get("forward.pe"));
            int traced = 0;
            for (String name : expected.names()) {
                if (name.startsWith("trace.")) {
                    assertTrue(trace.containsKey(name), "model did not trace " + name);
                    Golden.assertClose(file + " " + name, trace.get(name), expected.get(name));
                    traced++;
                }
            }
            assertEquals(6, traced, "trace.* tensors in the golden file");
            Golden.assertClose(file + " forward.velocity", velocity, expected.get("forward.velocity"));
        }
    }
}
