package dev.anyrefill.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dense, row-major tensor: a shape, an element type and a {@link MemorySegment} holding the
 * elements.
 *
 * <p>Two kinds live side by side. Activations are F32 tensors backed by a Java {@code float[]}
 * ({@link #zeros}, {@link #wrap}); kernels reach that array directly through {@link #data()}.
 * Weights are views into a memory-mapped checkpoint ({@link #view}) in whatever type the file
 * stores; reading one element converts it ({@link #getFloat}), and nothing copies or widens a
 * whole weight unless a caller asks for it with {@link #toF32()}.
 *
 * <p>An activation may also be {@link #deferred}: its values live elsewhere (a GPU backend's
 * device memory, or not computed yet) and come to a Java array the first time anything on the
 * host reads them. Until then only its shape is known; from then on it is a heap F32 tensor
 * like any other.
 */
public final class Tensor {
    static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble DOUBLE_LE =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG_LE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT_LE =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Values held outside the Java heap until the host reads them. One instance serves a tensor
     * and all its reshapes.
     */
    public interface Deferred {
        /**
         * The values, row-major, as a Java array: brought to the host on the first call, the same
         * array on every later one. An error (naming why) where they can no longer be read.
         */
        float[] toHost();
    }

    private final DType dtype;
    private final int[] shape;
    private final MemorySegment segment;
    private final float[] data; // the backing array of a heap F32 tensor, else null
    private final Deferred deferred; // where the values of a deferred tensor are, else null

    private Tensor(DType dtype, int[] shape, MemorySegment segment, float[] data, Deferred deferred) {
        this.dtype = dtype;
        this.shape = shape.clone();
        this.segment = segment;
        this.data = data;
        this.deferred = deferred;
    }

    private Tensor(DType dtype, int[] shape, MemorySegment segment, float[] data) {
        this(dtype, shape, segment, data, null);
    }

    /** A new F32 tensor of zeros. */
    public static Tensor zeros(int... shape) {
        return wrap(new float[Math.toIntExact(count(shape))], shape);
    }

    /** An F32 tensor over the given array (not copied). */
    public static Tensor wrap(float[] values, int... shape) {
        if (count(shape) != values.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds "
                    + count(shape) + " elements, the array has " + values.length);
        }
        return new Tensor(DType.F32, shape, MemorySegment.ofArray(values), values);
    }

    /** A tensor over existing memory (a mapped file, an off-heap buffer), not copied. */
    public static Tensor view(DType dtype, int[] shape, MemorySegment segment) {
        long bytes = count(shape) * dtype.bytes();
        if (segment.byteSize() != bytes) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + bytes + " bytes, the segment has " + segment.byteSize());
        }
        return new Tensor(dtype, shape, segment, null);
    }

    /** An F32 tensor whose values are brought to the host by {@code values} when first read. */
    public static Tensor deferred(Deferred values, int... shape) {
        count(shape);
        return new Tensor(DType.F32, shape, null, null, values);
    }

    /** Number of elements of a shape; a scalar (empty shape) has one. */
    public static long count(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public DType dtype() {
        return dtype;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}; negative indices count from the end. */
    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public long size() {
        return count(shape);
    }

    /** Size of the last dimension: the width of a row. */
    public int cols() {
        return shape.length == 0 ? 1 : shape[shape.length - 1];
    }

    /** Product of all but the last dimension: the number of rows when viewed as a matrix. */
    public int rows() {
        return Math.toIntExact(size() / Math.max(1, cols()));
    }

    public MemorySegment segment() {
        return deferred != null ? MemorySegment.ofArray(hostData()) : segment;
    }

    /** True for an F32 activation: backed by a Java array, or deferred (one once read). */
    public boolean isHeapF32() {
        return data != null || deferred != null;
    }

    /** The source of a deferred tensor's values (a backend recognises its own), else null. */
    public Deferred deferredValues() {
        return deferred;
    }

    /** The backing array of a heap F32 tensor (a deferred one's, brought to the host); an error for any other. */
    public float[] data() {
        float[] d = hostData();
        if (d == null) {
            throw new IllegalStateException("not a heap F32 tensor: " + this);
        }
        return d;
    }

    private float[] hostData() {
        if (deferred == null) {
            return data;
        }
        float[] d = deferred.toHost();
        if (d.length != size()) {
            throw new IllegalStateException("deferred " + this + " brought " + d.length + " values to the host");
        }
        return d;
    }

    /** The same elements under another shape of the same size (-1 infers one dimension). */
    public Tensor reshape(int... newShape) {
        int[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("two -1 in " + Arrays.toString(newShape));
                }
                infer = i;
            } else {
                known *= s[i];
            }
        }
        if (infer >= 0) {
            s[infer] = Math.toIntExact(size() / Math.max(1, known));
        }
        if (count(s) != size()) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape)
                    + " to " + Arrays.toString(newShape));
        }
        return new Tensor(dtype, s, segment, data, deferred);
    }

    /** Element {@code i} of the flattened tensor, converted to float. */
    public float getFloat(long i) {
        if (isHeapF32()) {
            return hostData()[Math.toIntExact(i)];
        }
        return switch (dtype) {
            case F32 -> segment.getAtIndex(FLOAT_LE, i);
            case BF16 -> Floats.bf16ToF32(segment.getAtIndex(SHORT_LE, i));
            case F16 -> Floats.f16ToF32(segment.getAtIndex(SHORT_LE, i));
            case F8_E4M3FN -> Floats.f8e4m3fnToF32(segment.get(ValueLayout.JAVA_BYTE, i));
            case F8_E5M2 -> Floats.f8e5m2ToF32(segment.get(ValueLayout.JAVA_BYTE, i));
            case F64 -> (float) segment.getAtIndex(DOUBLE_LE, i);
            case I64 -> segment.getAtIndex(LONG_LE, i);
            case I32 -> segment.getAtIndex(INT_LE, i);
            case I16 -> segment.getAtIndex(SHORT_LE, i);
            case I8 -> segment.get(ValueLayout.JAVA_BYTE, i);
            case U8, BOOL -> segment.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
        };
    }

    /** Element {@code i} as a long: exact for the integer types, truncated for floats. */
    public long getLong(long i) {
        return switch (dtype) {
            case I64 -> segment.getAtIndex(LONG_LE, i);
            case F64 -> (long) segment.getAtIndex(DOUBLE_LE, i);
            default -> (long) getFloat(i);
        };
    }

    /** Element at a multi-dimensional index. */
    public float get(int... index) {
        return getFloat(offset(index));
    }

    /** Sets an element of a heap F32 tensor. */
    public void set(float value, int... index) {
        data()[Math.toIntExact(offset(index))] = value;
    }

    private long offset(int... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index " + Arrays.toString(index) + " for shape "
                    + Arrays.toString(shape));
        }
        long off = 0;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index)
                        + " outside shape " + Arrays.toString(shape));
            }
            off = off * shape[i] + index[i];
        }
        return off;
    }

    /**
     * Widens {@code count} elements starting at flat index {@code from} into {@code dst}.
     * The bulk path kernels use to convert a weight row or panel once and reuse it.
     */
    public void toFloats(long from, float[] dst, int dstOffset, int count) {
        if (isHeapF32()) {
            System.arraycopy(hostData(), Math.toIntExact(from), dst, dstOffset, count);
            return;
        }
        switch (dtype) {
            case F32 -> MemorySegment.copy(segment, FLOAT_LE, from * 4, dst, dstOffset, count);
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = Floats.bf16ToF32(segment.getAtIndex(SHORT_LE, from + i));
                }
            }
            default -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = getFloat(from + i);
                }
            }
        }
    }

    /**
     * This tensor itself when it is a heap F32 one, else a heap F32 copy: a module keeps a
     * trainable parameter as the very array the optimiser updates in place.
     */
    public Tensor asHeapF32() {
        return data != null ? this : toF32();
    }

    /** A heap F32 copy of this tensor. Meant for small tensors (biases, norms, test data). */
    public Tensor toF32() {
        float[] out = new float[Math.toIntExact(size())];
        toFloats(0, out, 0, out.length);
        return wrap(out, shape);
    }

    /** A heap F32 copy of the rows [from, to) of the first dimension. */
    public Tensor sliceRows(int from, int to) {
        int rowSize = Math.toIntExact(size() / Math.max(1, shape[0]));
        if (from < 0 || to > shape[0] || from > to) {
            throw new IndexOutOfBoundsException("rows [" + from + ", " + to + ") of " + this);
        }
        float[] out = new float[(to - from) * rowSize];
        toFloats((long) from * rowSize, out, 0, out.length);
        int[] s = shape.clone();
        s[0] = to - from;
        return wrap(out, s);
    }

    /** Rows [from, to) of the first dimension in the stored type: a view of mapped storage, a copy of a heap tensor. */
    public Tensor viewRows(int from, int to) {
        if (from < 0 || to > shape[0] || from > to) {
            throw new IndexOutOfBoundsException("rows [" + from + ", " + to + ") of " + this);
        }
        long rowSize = size() / Math.max(1, shape[0]);
        int[] s = shape.clone();
        s[0] = to - from;
        if (isHeapF32()) {
            return wrap(Arrays.copyOfRange(hostData(), Math.toIntExact(from * rowSize),
                    Math.toIntExact(to * rowSize)), s);
        }
        long bytes = rowSize * dtype.bytes();
        return new Tensor(dtype, s, segment.asSlice(from * bytes, (to - from) * bytes), null);
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape) + " " + dtype + (deferred != null ? " (deferred)" : "");
    }
}
