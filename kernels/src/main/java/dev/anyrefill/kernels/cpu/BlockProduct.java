package dev.anyrefill.kernels.cpu;

import static dev.anyrefill.kernels.cpu.MicroKernel.MR;
import static dev.anyrefill.kernels.cpu.MicroKernel.NR;

/**
 * {@code C += A B} for small blocks (attention tiles) on the {@link MicroKernel}: each operand
 * is given as a strided view (element (r, c) at {@code off + r * rowStride + c * colStride}),
 * so a transposed operand (K^T, P^T) needs no copy; both are packed once per call into the
 * micro-kernel's order, which costs 1 / (block size) of the product.
 */
final class BlockProduct {
    private static final Scratch A_PACK = new Scratch();
    private static final Scratch B_PACK = new Scratch();

    private BlockProduct() {
    }

    /** A strided matrix view: element (r, c) is {@code data[off + r * rowStride + c * colStride]}. */
    record View(float[] data, int off, int rowStride, int colStride) {
        float at(int r, int c) {
            return data[off + r * rowStride + c * colStride];
        }
    }

    /** C[m x n] (row-major from cOff, row stride ldc) += A[m x kk] B[kk x n]. */
    static void multiplyAdd(View a, View b, int m, int n, int kk, float[] c, int cOff, int ldc) {
        int groups = (m + MR - 1) / MR;
        int strips = (n + NR - 1) / NR;
        float[] aPack = A_PACK.get(groups * kk * MR);
        float[] bPack = B_PACK.get(strips * kk * NR);
        for (int g = 0; g < groups; g++) {
            int base = g * kk * MR;
            for (int k = 0; k < kk; k++) {
                for (int r = 0; r < MR; r++) {
                    int row = g * MR + r;
                    aPack[base + k * MR + r] = row < m ? a.at(row, k) : 0f;
                }
            }
        }
        for (int s = 0; s < strips; s++) {
            int base = s * kk * NR;
            for (int k = 0; k < kk; k++) {
                for (int j = 0; j < NR; j++) {
                    int col = s * NR + j;
                    bPack[base + k * NR + j] = col < n ? b.at(k, col) : 0f;
                }
            }
        }
        for (int s = 0; s < strips; s++) {
            int cols = Math.min(NR, n - s * NR);
            for (int g = 0; g < groups; g++) {
                MicroKernel.multiplyAdd(aPack, g * kk * MR, Math.min(MR, m - g * MR), bPack, s * kk * NR, kk,
                        c, cOff + g * MR * ldc + s * NR, ldc, cols);
            }
        }
    }
}
