package dev.anyrefill.kernels.tornado;

import dev.anyrefill.tensor.Tensor;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The device copies of weights and parameters: made once per tensor (the raw BF16 words of a
 * weight, a parameter vector widened to F32), sent with the first run of each compiled program
 * that names them, and dropped once the file they were copied from has closed. Not
 * thread-safe: used under the TornadoKernels monitor.
 */
final class Residents {
    private final Map<List<Object>, Program.Resident> byKey = new HashMap<>();
    private int nextId;

    /**
     * The resident array for key (made the first time). Keys of copied memory hold its scope as
     * well: segments compare by address, and a file mapped after another one closed may get
     * the same address.
     */
    private Program.Resident get(List<Object> key, MemorySegment source, Supplier<TornadoNativeArray> make) {
        return byKey.computeIfAbsent(key, k -> new Program.Resident(nextId++, make.get(), source));
    }

    /** The raw 16-bit words of a BF16 weight [n, k], zero-padded to [np, kp]. */
    Program.Resident weightWords(Tensor w, int n, int k, int np, int kp) {
        MemorySegment seg = w.segment();
        return get(List.of("bf16", seg, seg.scope(), np, kp), seg, () -> {
            ShortArray words = new ShortArray(Math.multiplyExact(np, kp));
            MemorySegment dst = words.getSegment();
            if (k == kp) {
                MemorySegment.copy(seg, 0, dst, 0, 2L * n * k);
            } else {
                for (int row = 0; row < n; row++) {
                    MemorySegment.copy(seg, 2L * row * k, dst, 2L * row * kp, 2L * k);
                }
            }
            return words;
        });
    }

    /** A parameter vector (bias, norm weight) widened to F32 and zero-padded to {@code padded}; fill for none. */
    Program.Resident parameter(Tensor p, int n, int padded, float fill) {
        if (p == null) {
            return get(List.of("fill", fill, padded), MemorySegment.NULL, () -> {
                FloatArray a = new FloatArray(padded);
                a.init(fill);
                return a;
            });
        }
        if (p.size() != n) {
            throw new IllegalArgumentException("parameter " + p + " for " + n + " channels");
        }
        MemorySegment seg = p.isHeapF32() && p.deferredValues() == null ? MemorySegment.ofArray(p.data()) : p.segment();
        return get(List.of("f32", seg, seg.scope(), padded), seg, () -> {
            FloatArray a = new FloatArray(padded);
            MemorySegment.copy(p.toF32().data(), 0, a.getSegment(), ValueLayout.JAVA_FLOAT, 0, n);
            return a;
        });
    }

    /** Forgets the copies of memory that has been closed (unmapped) since. */
    void dropUnmapped() {
        byKey.values().removeIf(r -> !r.source().scope().isAlive());
    }

    void clear() {
        byKey.clear();
    }
}
