package dev.anyrefill.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked inner kernel every matrix product here runs on:
 * {@code C[MR x NR] += A[MR x k] * B[k x NR]}, with MR = 6 rows of A broadcast one element at
 * a time against two vectors (NR = 2 vector lengths) of a packed B panel, twelve accumulators
 * held in registers for the whole k loop (on AVX2: 12 accumulators + 2 B vectors + 1
 * broadcast = 15 of the 16 registers).
 *
 * <p>Layouts: A is row-major, {@code a[aOff + r * aStride + k]}; B is packed k-major,
 * {@code b[bOff + k * NR + j]}; C is row-major, {@code c[cOff + r * cStride + j]}. Fewer than
 * MR rows or NR columns are allowed at the edges: missing rows re-read the last valid row
 * and are not stored; missing columns are masked off at the store.
 */
public final class MicroKernel {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int VL = F.length();
    /** Rows of A per kernel call. */
    public static final int MR = 6;
    /** Columns of B per kernel call (the width of a packed panel). */
    public static final int NR = 2 * VL;

    private MicroKernel() {
    }

    /** C += A * B over k in [0, kLen), for {@code rows <= MR} and {@code cols <= NR}. */
    public static void multiplyAdd(float[] a, int aOff, int aStride, int rows,
                                   float[] b, int bOff, int kLen,
                                   float[] c, int cOff, int cStride, int cols) {
        int a0 = aOff;
        int a1 = aOff + Math.min(1, rows - 1) * aStride;
        int a2 = aOff + Math.min(2, rows - 1) * aStride;
        int a3 = aOff + Math.min(3, rows - 1) * aStride;
        int a4 = aOff + Math.min(4, rows - 1) * aStride;
        int a5 = aOff + Math.min(5, rows - 1) * aStride;
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        for (int k = 0; k < kLen; k++) {
            int bo = bOff + k * NR;
            FloatVector b0 = FloatVector.fromArray(F, b, bo);
            FloatVector b1 = FloatVector.fromArray(F, b, bo + VL);
            FloatVector x = FloatVector.broadcast(F, a[a0 + k]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, a[a1 + k]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, a[a2 + k]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, a[a3 + k]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(F, a[a4 + k]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(F, a[a5 + k]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        if (cols == NR && rows == MR) {
            // The common case, written out so that no accumulator leaves its register.
            int o = cOff;
            FloatVector.fromArray(F, c, o).add(c00).intoArray(c, o);
            FloatVector.fromArray(F, c, o + VL).add(c01).intoArray(c, o + VL);
            o += cStride;
            FloatVector.fromArray(F, c, o).add(c10).intoArray(c, o);
            FloatVector.fromArray(F, c, o + VL).add(c11).intoArray(c, o + VL);
            o += cStride;
            FloatVector.fromArray(F, c, o).add(c20).intoArray(c, o);
            FloatVector.fromArray(F, c, o + VL).add(c21).intoArray(c, o + VL);
            o += cStride;
            FloatVector.fromArray(F, c, o).add(c30).intoArray(c, o);
            FloatVector.fromArray(F, c, o + VL).add(c31).intoArray(c, o + VL);
            o += cStride;
            FloatVector.fromArray(F, c, o).add(c40).intoArray(c, o);
            FloatVector.fromArray(F, c, o + VL).add(c41).intoArray(c, o + VL);
            o += cStride;
            FloatVector.fromArray(F, c, o).add(c50).intoArray(c, o);
            FloatVector.fromArray(F, c, o + VL).add(c51).intoArray(c, o + VL);
            return;
        }
        // Edges: spill the accumulators and add the valid part element by element.
        float[] t = new float[MR * NR];
        c00.intoArray(t, 0);
        c01.intoArray(t, VL);
        c10.intoArray(t, NR);
        c11.intoArray(t, NR + VL);
        c20.intoArray(t, 2 * NR);
        c21.intoArray(t, 2 * NR + VL);
        c30.intoArray(t, 3 * NR);
        c31.intoArray(t, 3 * NR + VL);
        c40.intoArray(t, 4 * NR);
        c41.intoArray(t, 4 * NR + VL);
        c50.intoArray(t, 5 * NR);
        c51.intoArray(t, 5 * NR + VL);
        addEdge(t, rows, cols, c, cOff, cStride);
    }

    private static void addEdge(float[] t, int rows, int cols, float[] c, int cOff, int cStride) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                c[cOff + r * cStride + j] += t[r * NR + j];
            }
        }
    }
}
