package dev.anyrefill.kernels.tornado;

import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The F32 buffers activations live in on the device, reused from operation to operation.
 *
 * <p>A request takes the free buffer of exactly that size with the lowest id, so the same
 * sequence of operations from the same pool gets the same buffers every time: a forward pass
 * repeated at the next sampling step is the same program, and its compiled task graph is
 * reused ({@link Program#signature}).
 */
final class BufferPool {
    /**
     * A device buffer: its TornadoVM array and the id that program signatures name it by. Each
     * buffer is made once, so identity is equality.
     */
    static final class Buffer {
        final int id;
        private final FloatArray array;

        Buffer(int id, FloatArray array) {
            this.id = id;
            this.array = array;
        }

        FloatArray array() {
            return array;
        }

        int floats() {
            return array.getSize();
        }

        @Override
        public String toString() {
            return "b" + id;
        }
    }

    private int made;
    private final Map<Integer, TreeMap<Integer, Buffer>> free = new HashMap<>();
    private final Set<Buffer> taken = new HashSet<>();

    /** A buffer of {@code floats} floats, contents undefined, not among {@code avoid}. */
    Buffer take(int floats, Set<Buffer> avoid) {
        TreeMap<Integer, Buffer> same = free.get(floats);
        if (same != null) {
            for (Buffer b : same.values()) {
                if (!avoid.contains(b)) {
                    same.remove(b.id);
                    taken.add(b);
                    return b;
                }
            }
        }
        Buffer b = new Buffer(made++, new FloatArray(Math.max(1, floats)));
        taken.add(b);
        return b;
    }

    /** Returns a buffer to the pool; later requests may hand it out again. */
    void give(Buffer b) {
        if (!taken.remove(b)) {
            throw new IllegalStateException("device buffer " + b + " returned twice");
        }
        free.computeIfAbsent(b.floats(), n -> new TreeMap<>()).put(b.id, b);
    }
}
