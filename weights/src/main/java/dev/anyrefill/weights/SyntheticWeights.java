package dev.anyrefill.weights;

import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Floats;
import dev.anyrefill.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A checkpoint whose weights are generated from a seed instead of read from a file: the
 * embedded demo's miniature model and the benchmarks' real-width blocks.
 *
 * <p>Each tensor is generated on first use, in BF16 off the Java heap like a mapped checkpoint,
 * from its own stream (seed and name), so a tensor's values do not depend on which others were
 * asked for. Weights are N(0, 1/fan_in) (activations keep their scale through the layers),
 * biases small, norm scales and norm weights one, norm biases zero.
 */
public final class SyntheticWeights implements TensorSource {
    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Map<String, int[]> shapes;
    private final long seed;
    private final String origin;
    private final Arena arena = Arena.ofShared();
    private final Map<String, Tensor> made = new ConcurrentHashMap<>();

    public SyntheticWeights(Map<String, int[]> shapes, long seed, String origin) {
        this.shapes = Collections.unmodifiableMap(new LinkedHashMap<>(shapes));
        this.seed = seed;
        this.origin = origin;
    }

    @Override
    public Set<String> names() {
        return shapes.keySet();
    }

    @Override
    public boolean contains(String name) {
        return shapes.containsKey(name);
    }

    @Override
    public String origin() {
        return origin;
    }

    @Override
    public Tensor get(String name) {
        int[] shape = shapes.get(name);
        if (shape == null) {
            throw new WeightsException(origin + ": no tensor '" + name + "'");
        }
        return made.computeIfAbsent(name, n -> generate(n, shape));
    }

    /** Drops the generated tensors of names starting with a prefix (a benchmark's finished block). */
    public void release(String prefix) {
        made.keySet().removeIf(n -> n.startsWith(prefix));
    }

    private Tensor generate(String name, int[] shape) {
        long count = Tensor.count(shape);
        MemorySegment seg = arena.allocate(count * 2, 64);
        boolean isNormScale = name.endsWith(".scale") || (shape.length == 1 && isNorm(name) && name.endsWith(".weight"));
        boolean isNormBias = shape.length == 1 && isNorm(name) && name.endsWith(".bias");
        if (isNormScale || isNormBias) {
            short v = Floats.f32ToBf16(isNormScale ? 1f : 0f);
            for (long i = 0; i < count; i++) {
                seg.setAtIndex(SHORT_LE, i, v);
            }
        } else {
            long fanIn = shape.length > 1 ? count / shape[0] : shape[0];
            double std = name.endsWith(".bias") ? 0.02 : 1 / Math.sqrt(fanIn);
            SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
            for (long i = 0; i < count; i++) {
                seg.setAtIndex(SHORT_LE, i, Floats.f32ToBf16((float) (random.nextGaussian() * std)));
            }
        }
        return Tensor.view(DType.BF16, shape, seg);
    }

    private static boolean isNorm(String name) {
        return name.contains("norm");
    }

    @Override
    public void close() {
        made.clear();
        arena.close();
    }
}
