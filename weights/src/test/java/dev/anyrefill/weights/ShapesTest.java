package dev.anyrefill.weights;

import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** The shape tables reproduce the golden checkpoints' tensors exactly, name by name. */
class ShapesTest {

    private static void assertSameTensors(Map<String, int[]> shapes, TensorSource file) {
        assertEquals(new TreeMap<>(file.names().stream().collect(java.util.stream.Collectors.toMap(n -> n, n -> 0))).keySet(),
                new TreeMap<>(shapes).keySet());
        for (String n : file.names()) {
            assertArrayEquals(file.get(n).shape(), shapes.get(n), n);
        }
    }

    @Test
    void fluxShapesOfTheInferredConfigAreTheGoldenFile() {
        try (FluxCheckpoint c = FluxCheckpoint.open(Golden.tiny("flux-fill.safetensors"))) {
            assertSameTensors(FluxShapes.of(c.config()), c);
        }
    }

    @Test
    void autoEncoderShapesAreTheGoldenFile() {
        try (SafetensorsFile ae = SafetensorsFile.open(Golden.tiny("ae.safetensors"))) {
            assertSameTensors(AutoEncoderShapes.of(32, new int[]{1, 2, 2, 2}, 1, 16, 3), ae);
        }
    }

    @Test
    void syntheticWeightsLoadAsACheckpointAndAreReproducible() {
        FluxConfig config;
        try (FluxCheckpoint c = FluxCheckpoint.open(Golden.tiny("flux-fill.safetensors"))) {
            config = c.config();
        }
        try (SyntheticWeights a = new SyntheticWeights(FluxShapes.of(config), 7, "synthetic");
             SyntheticWeights b = new SyntheticWeights(FluxShapes.of(config), 7, "synthetic");
             SyntheticWeights other = new SyntheticWeights(FluxShapes.of(config), 8, "synthetic")) {
            FluxCheckpoint checkpoint = FluxCheckpoint.of(a);
            assertEquals(config, checkpoint.config());
            Tensor w = a.get("double_blocks.1.img_attn.qkv.weight");
            // the same seed gives the same values whatever was generated before
            b.get("img_in.weight");
            assertEquals(w.getFloat(12345), b.get("double_blocks.1.img_attn.qkv.weight").getFloat(12345));
            assertNotEquals(w.getFloat(12345), other.get("double_blocks.1.img_attn.qkv.weight").getFloat(12345));
            assertEquals(1f, a.get("single_blocks.0.norm.query_norm.scale").getFloat(5));
            double sumSq = 0;
            for (long i = 0; i < w.size(); i++) {
                sumSq += w.getFloat(i) * w.getFloat(i);
            }
            double std = Math.sqrt(sumSq / w.size());
            System.out.printf("synthetic qkv weight std %.4f (target 1/sqrt(256) = 0.0625)%n", std);
            assertEquals(0.0625, std, 0.002);
        }
    }
}
