package dev.anyrefill.vae;

import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Floats;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;
import dev.anyrefill.weights.WeightsException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * An AutoEncoder checkpoint of random BF16 weights of a given shape, held off the Java heap as
 * a real checkpoint's mapped file would be: for measuring memory and speed at the real widths
 * without the real file. Convolutions are uniform in +-1/sqrt(fan_in), norms 1 and 0.
 */
public final class RandomWeights implements TensorSource {
    private static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena = Arena.ofShared();
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    /**
     * @param decoderOnly leave out the encoder (a decode needs only the decoder)
     */
    public RandomWeights(AutoEncoderParams params, boolean decoderOnly, long seed) {
        Random random = new Random(seed);
        for (Map.Entry<String, int[]> e : params.parameterShapes().entrySet()) {
            String name = e.getKey();
            if (decoderOnly && name.startsWith("encoder.")) {
                continue;
            }
            int[] shape = e.getValue();
            long n = Tensor.count(shape);
            MemorySegment segment = arena.allocate(n * 2, 2);
            boolean norm = name.contains("norm");
            float bound = shape.length == 4 ? (float) (1 / Math.sqrt((double) shape[1] * shape[2] * shape[3])) : 0f;
            for (long i = 0; i < n; i++) {
                float v = norm ? (name.endsWith(".weight") ? 1f : 0f)
                        : shape.length == 4 ? (2 * random.nextFloat() - 1) * bound : 0f;
                segment.setAtIndex(BF16, i, Floats.f32ToBf16(v));
            }
            tensors.put(name, Tensor.view(DType.BF16, shape, segment));
        }
    }

    /** Bytes the weights take off the heap. */
    public long bytes() {
        return tensors.values().stream().mapToLong(t -> t.size() * 2).sum();
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new WeightsException(origin() + ": no tensor '" + name + "'");
        }
        return t;
    }

    @Override
    public String origin() {
        return "random AutoEncoder weights";
    }

    @Override
    public void close() {
        arena.close();
    }
}
