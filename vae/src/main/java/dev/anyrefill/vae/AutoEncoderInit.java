package dev.anyrefill.vae;

import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.HeapWeights;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A new AutoEncoder's parameters, initialised as PyTorch initialises BFL's modules: every
 * convolution's weight and bias uniform in +-1/sqrt(fan_in) (nn.Conv2d's kaiming-uniform with
 * a = sqrt(5)), fan_in = C kh kw; every GroupNorm's weight 1 and bias 0. F32 on the heap.
 */
public final class AutoEncoderInit {
    private AutoEncoderInit() {
    }

    /** The parameters of an AutoEncoder of this shape under BFL's names, drawn from seed. */
    public static HeapWeights fresh(AutoEncoderParams params, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, int[]> shapes = params.parameterShapes();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : shapes.entrySet()) {
            String name = e.getKey();
            int[] shape = e.getValue();
            float[] values = new float[Math.toIntExact(Tensor.count(shape))];
            String module = name.substring(0, name.lastIndexOf('.'));
            int[] weight = shapes.get(module + ".weight");
            if (weight.length == 4) {
                double bound = 1 / Math.sqrt((double) weight[1] * weight[2] * weight[3]);
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) rnd.nextDouble(-bound, bound);
                }
            } else if (name.endsWith(".weight")) {
                java.util.Arrays.fill(values, 1f); // a GroupNorm's scale
            }
            tensors.put(name, Tensor.wrap(values, shape));
        }
        return HeapWeights.of("new AutoEncoder (" + params + ")", tensors);
    }
}
