package dev.anyrefill.weights;

import dev.anyrefill.tensor.Tensor;

import java.util.Arrays;
import java.util.Set;

/** Named tensors: a safetensors file, a sharded checkpoint, or a layout's view of either. */
public interface TensorSource extends AutoCloseable {
    /** Every tensor name, in a stable order. */
    Set<String> names();

    boolean contains(String name);

    /** The tensor, a view of the file where possible; an error naming it when absent. */
    Tensor get(String name);

    /** Where the tensors come from, for messages. */
    String origin();

    /** The files' {@code __metadata__} strings (none by default). */
    default java.util.Map<String, String> metadata() {
        return java.util.Map.of();
    }

    /** The tensor, checked to have exactly this shape. */
    default Tensor get(String name, int... shape) {
        Tensor t = get(name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new WeightsException(origin() + ": tensor '" + name + "' has shape "
                    + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(shape));
        }
        return t;
    }

    /** The tensor if present, else null. */
    default Tensor find(String name) {
        return contains(name) ? get(name) : null;
    }

    @Override
    default void close() {
    }
}
