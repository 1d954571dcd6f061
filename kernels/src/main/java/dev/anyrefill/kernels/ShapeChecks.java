package dev.anyrefill.kernels;

import dev.anyrefill.tensor.Tensor;

import java.util.Arrays;

/**
 * The shape rules of the {@link Kernels} operations, in one place for every backend: each check
 * throws an IllegalArgumentException (IndexOutOfBounds for slices) naming the operation and the
 * shapes that do not fit, before any work is done.
 */
public final class ShapeChecks {
    private ShapeChecks() {
    }

    /** x [.., k] times weight [n, k] plus bias [n]: returns n. */
    public static int linear(Tensor x, Tensor w, Tensor bias) {
        if (w.rank() != 2 || w.dim(1) != x.cols()) {
            throw new IllegalArgumentException("linear: input " + x + " does not fit weight " + w);
        }
        int n = w.dim(0);
        if (bias != null && bias.size() != n) {
            throw new IllegalArgumentException("linear: bias " + bias + " for weight " + w);
        }
        return n;
    }

    /** q [Lq, H, D], k and v [Lk, H, D]. */
    public static void attention(Tensor q, Tensor k, Tensor v) {
        if (q.rank() != 3 || k.rank() != 3 || k.dim(1) != q.dim(1) || k.dim(2) != q.dim(2)
                || v.dim(0) != k.dim(0) || v.dim(1) != q.dim(1) || v.dim(2) != q.dim(2)) {
            throw new IllegalArgumentException("attention: q " + q + ", k " + k + ", v " + v);
        }
    }

    /** shift and scale with one value per column of x. */
    public static void layerNormModulate(Tensor x, Tensor shift, Tensor scale) {
        int c = x.cols();
        if (shift.size() != c || scale.size() != c) {
            throw new IllegalArgumentException("layerNormModulate: x " + x + ", shift " + shift + ", scale " + scale);
        }
    }

    /** b the same size as a, or one row broadcast over a's rows (add, mul). */
    public static void elementwise(Tensor a, Tensor b) {
        if (b.size() != a.size() && b.size() != a.cols()) {
            throw new IllegalArgumentException("cannot combine " + a + " with " + b);
        }
    }

    /** x the size of residual, gate one value per column. */
    public static void gatedResidual(Tensor residual, Tensor gate, Tensor x) {
        if (x.size() != residual.size() || gate.size() != residual.cols()) {
            throw new IllegalArgumentException("gatedResidual: " + residual + ", gate " + gate + ", x " + x);
        }
    }

    /** x [L, H, D] (D even) with pe [L, D/2, 2, 2]. */
    public static void rope(Tensor x, Tensor pe) {
        int d = x.dim(2);
        if (pe.dim(0) != x.dim(0) || pe.dim(1) != d / 2 || d % 2 != 0) {
            throw new IllegalArgumentException("rope: x " + x + " with pe " + pe);
        }
    }

    /** Columns [from, to) of x. */
    public static void columns(Tensor x, int from, int to) {
        if (from < 0 || to > x.cols() || from > to) {
            throw new IndexOutOfBoundsException("columns [" + from + ", " + to + ") of " + x);
        }
    }

    /** Rows [from, to) of x's first dimension. */
    public static void rows(Tensor x, int from, int to) {
        if (from < 0 || to > x.dim(0) || from > to) {
            throw new IndexOutOfBoundsException("rows [" + from + ", " + to + ") of " + x);
        }
    }

    /** The shape of parts concatenated along the first dimension; an error unless their other dimensions agree. */
    public static int[] concatRows(Tensor... parts) {
        int[] shape = parts[0].shape();
        int rowSize = Math.toIntExact(parts[0].size() / Math.max(1, shape[0]));
        int rows = 0;
        for (Tensor p : parts) {
            if (p.size() != (long) p.dim(0) * rowSize) {
                throw new IllegalArgumentException("concatRows: " + Arrays.toString(parts));
            }
            rows += p.dim(0);
        }
        shape[0] = rows;
        return shape;
    }

    /** The shape of parts concatenated along the last dimension; an error unless their row counts agree. */
    public static int[] concatColumns(Tensor... parts) {
        int rows = parts[0].rows();
        int cols = 0;
        for (Tensor p : parts) {
            if (p.rows() != rows) {
                throw new IllegalArgumentException("concatColumns: " + Arrays.toString(parts));
            }
            cols += p.cols();
        }
        int[] shape = parts[0].shape();
        shape[shape.length - 1] = cols;
        return shape;
    }
}
