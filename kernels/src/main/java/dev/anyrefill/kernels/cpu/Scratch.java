package dev.anyrefill.kernels.cpu;

/**
 * Per-thread scratch arrays the kernels reuse from call to call (packed weight panels, tile
 * buffers), so a forward pass allocates its outputs and little else. One instance per use:
 * two uses on the same thread never share an array.
 */
final class Scratch {
    private final ThreadLocal<float[]> local = new ThreadLocal<>();

    /** An array of at least {@code size} floats, owned by this thread; contents undefined. */
    float[] get(int size) {
        float[] a = local.get();
        if (a == null || a.length < size) {
            a = new float[size];
            local.set(a);
        }
        return a;
    }
}
