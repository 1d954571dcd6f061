package dev.anyrefill.train;

import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.FluxConfig;
import dev.anyrefill.weights.FluxShapes;
import dev.anyrefill.weights.HeapWeights;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A new FLUX transformer's parameters, initialised as PyTorch initialises BFL's modules
 * (BFL's Flux calls no init of its own): every nn.Linear's weight and bias uniform in
 * +-1/sqrt(in) (kaiming-uniform with a = sqrt(5)), every RMSNorm scale 1. F32 on the heap,
 * for full-parameter training of a small model.
 */
public final class FluxInit {
    private FluxInit() {
    }

    /** Parameters of a model of this configuration under BFL's names, drawn from seed. */
    public static HeapWeights fresh(FluxConfig config, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, int[]> shapes = FluxShapes.of(config);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : shapes.entrySet()) {
            String name = e.getKey();
            float[] values = new float[Math.toIntExact(Tensor.count(e.getValue()))];
            if (name.endsWith(".scale")) {
                Arrays.fill(values, 1f);
            } else {
                int[] weight = shapes.get(name.substring(0, name.lastIndexOf('.')) + ".weight");
                double bound = 1 / Math.sqrt(weight[1]);
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) rnd.nextDouble(-bound, bound);
                }
            }
            tensors.put(name, Tensor.wrap(values, e.getValue()));
        }
        return HeapWeights.of("new FLUX transformer (" + config + ")", tensors);
    }

    /** F32 bytes a full-parameter run holds per parameter: the weight, its gradient, AdamW's two moments. */
    public static final int BYTES_PER_PARAMETER = 16;
}
