package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise operations a vector at a time, split over the pool in chunks large enough to
 * be worth a task. Row-broadcast forms take the row as a second array of the row's length.
 */
public final class Elementwise {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int CHUNK = 1 << 14;
    /** Swaps the lanes of each (even, odd) pair: RoPE's partner element. */
    private static final VectorShuffle<Float> PAIR_SWAP = VectorShuffle.fromOp(F, i -> i ^ 1);

    /** The binary operations with a row-broadcast form. */
    public enum Op { ADD, MUL }

    private Elementwise() {
    }

    public static void activation(float[] x, Activation act, float[] out) {
        Parallel.forChunks(x.length, CHUNK, (from, to) -> {
            int i = from;
            int upper = from + F.loopBound(to - from);
            for (; i < upper; i += F.length()) {
                VectorMath.apply(act, FloatVector.fromArray(F, x, i)).intoArray(out, i);
            }
            for (; i < to; i++) {
                out[i] = VectorMath.apply(act, x[i]);
            }
        });
    }

    /** out = a op b, where b has a's length or is one row of {@code period} elements. */
    public static void zip(float[] a, float[] b, Op op, float[] out) {
        int period = b.length;
        if (period == a.length) {
            Parallel.forChunks(a.length, CHUNK, (from, to) -> span(a, from, b, from, to - from, op, out));
        } else {
            int rows = a.length / period;
            Parallel.forChunks(rows, Math.max(1, CHUNK / Math.max(1, period)), (from, to) -> {
                for (int r = from; r < to; r++) {
                    span(a, r * period, b, 0, period, op, out);
                }
            });
        }
    }

    private static void span(float[] a, int aOff, float[] b, int bOff, int n, Op op, float[] out) {
        int i = 0;
        int upper = F.loopBound(n);
        for (; i < upper; i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, a, aOff + i);
            FloatVector y = FloatVector.fromArray(F, b, bOff + i);
            (op == Op.ADD ? x.add(y) : x.mul(y)).intoArray(out, aOff + i);
        }
        for (; i < n; i++) {
            out[aOff + i] = op == Op.ADD ? a[aOff + i] + b[bOff + i] : a[aOff + i] * b[bOff + i];
        }
    }

    /** out = a * s. */
    public static void scale(float[] a, float s, float[] out) {
        Parallel.forChunks(a.length, CHUNK, (from, to) -> {
            int i = from;
            int upper = from + F.loopBound(to - from);
            for (; i < upper; i += F.length()) {
                FloatVector.fromArray(F, a, i).mul(s).intoArray(out, i);
            }
            for (; i < to; i++) {
                out[i] = a[i] * s;
            }
        });
    }

    /** out = residual + gate * x, gate one row of c elements. */
    public static void gatedResidual(float[] residual, float[] gate, float[] x, int c, float[] out) {
        int rows = residual.length / c;
        Parallel.forChunks(rows, Math.max(1, CHUNK / Math.max(1, c)), (from, to) -> {
            for (int r = from; r < to; r++) {
                int off = r * c;
                int i = 0;
                int upper = F.loopBound(c);
                for (; i < upper; i += F.length()) {
                    FloatVector.fromArray(F, gate, i).fma(FloatVector.fromArray(F, x, off + i),
                            FloatVector.fromArray(F, residual, off + i)).intoArray(out, off + i);
                }
                for (; i < c; i++) {
                    out[off + i] = residual[off + i] + gate[i] * x[off + i];
                }
            }
        });
    }

    /** x += s * y. */
    public static void axpy(float[] x, float s, float[] y) {
        Parallel.forChunks(x.length, CHUNK, (from, to) -> {
            int i = from;
            int upper = from + F.loopBound(to - from);
            for (; i < upper; i += F.length()) {
                FloatVector.fromArray(F, y, i).mul(s).add(FloatVector.fromArray(F, x, i)).intoArray(x, i);
            }
            for (; i < to; i++) {
                x[i] += s * y[i];
            }
        });
    }

    /**
     * RoPE: x [l, heads, d], pe [l, d/2, 2, 2]. Each token's matrices are rearranged once into
     * two coefficient rows (diagonal and off-diagonal), then every head of the token is
     * {@code diag * x + off * pairSwap(x)}.
     */
    public static void rope(float[] x, float[] pe, int l, int heads, int d, float[] out) {
        boolean vector = d % F.length() == 0;
        Parallel.forChunks(l, 16, (from, to) -> {
            float[] diag = new float[d];
            float[] off = new float[d];
            for (int t = from; t < to; t++) {
                for (int i = 0; i < d / 2; i++) {
                    int m = (t * (d / 2) + i) * 4;
                    diag[2 * i] = pe[m];
                    off[2 * i] = pe[m + 1];
                    off[2 * i + 1] = pe[m + 2];
                    diag[2 * i + 1] = pe[m + 3];
                }
                for (int h = 0; h < heads; h++) {
                    int base = (t * heads + h) * d;
                    if (vector) {
                        for (int i = 0; i < d; i += F.length()) {
                            FloatVector v = FloatVector.fromArray(F, x, base + i);
                            FloatVector.fromArray(F, diag, i).mul(v)
                                    .add(FloatVector.fromArray(F, off, i).mul(v.rearrange(PAIR_SWAP)))
                                    .intoArray(out, base + i);
                        }
                    } else {
                        for (int i = 0; i < d; i += 2) {
                            float x0 = x[base + i];
                            float x1 = x[base + i + 1];
                            out[base + i] = diag[i] * x0 + off[i] * x1;
                            out[base + i + 1] = off[i + 1] * x0 + diag[i + 1] * x1;
                        }
                    }
                }
            }
        });
    }

    /** dx = dy * act'(x): the backward of {@link #activation}, from the activation's input x. */
    public static void activationBackward(float[] x, float[] dy, Activation act, float[] dx) {
        Parallel.forChunks(x.length, CHUNK, (from, to) -> {
            int i = from;
            int upper = from + F.loopBound(to - from);
            for (; i < upper; i += F.length()) {
                VectorMath.derivative(act, FloatVector.fromArray(F, x, i)).mul(FloatVector.fromArray(F, dy, i))
                        .intoArray(dx, i);
            }
            for (; i < to; i++) {
                dx[i] = VectorMath.derivative(act, x[i]) * dy[i];
            }
        });
    }

    /**
     * out[j] = sum over the rows of a [rows, cols] of a[r, j]: bias and modulation gradients.
     * Columns are split over the pool, so each thread owns its sums; each column adds its rows
     * in order, so the result does not depend on the number of threads.
     */
    public static void columnSums(float[] a, int rows, int cols, float[] out) {
        Parallel.forChunks(cols, 256, (from, to) -> {
            int width = to - from;
            java.util.Arrays.fill(out, from, to, 0f);
            for (int r = 0; r < rows; r++) {
                int off = r * cols + from;
                int i = 0;
                int upper = F.loopBound(width);
                for (; i < upper; i += F.length()) {
                    FloatVector.fromArray(F, a, off + i).add(FloatVector.fromArray(F, out, from + i))
                            .intoArray(out, from + i);
                }
                for (; i < width; i++) {
                    out[from + i] += a[off + i];
                }
            }
        });
    }
}
