package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Parallel;

import java.util.Arrays;

import static dev.anyrefill.kernels.cpu.MicroKernel.MR;
import static dev.anyrefill.kernels.cpu.MicroKernel.NR;

/**
 * 2-D convolution as a matrix product without a full im2col matrix: out [O, pixels] =
 * W [O, C*kh*kw] times col [C*kh*kw, pixels], where each task builds the col columns of one
 * block of output pixels directly in the packed strip layout of {@link MicroKernel} (a row of
 * the input copied as a whole where the strip lies inside it, zeros for the padding), then
 * runs the kernel over the output channels.
 */
public final class Conv2d {
    /** Output pixels per task, whole strips of NR ({@link Blocking#CONV_PIXELS}: four strips unless tuned). */
    static final int PIXELS = Blocking.CONV_PIXELS;
    static final int KC = Gemm.KC;
    /** Row stride of a block's result buffer: one strip more than the block. */
    static final int C_STRIDE = PIXELS + NR;

    private static final Scratch COL = new Scratch();
    private static final Scratch C_BUF = new Scratch();

    private Conv2d() {
    }

    /**
     * x [cin, h, wd], weights wF [cout, cin * kh * kw] (F32), bias [cout] or null, zero padding
     * top/left as given; writes out [cout, oh, ow].
     */
    public static void conv(float[] x, int cin, int h, int wd, float[] wF, int cout, int kh, int kw,
                            float[] bias, int stride, int top, int left, int oh, int ow, float[] out) {
        int taps = cin * kh * kw;
        int pixels = oh * ow;
        // The weights as the kernel's A operand: groups of MR output channels, k-major.
        int groups = (cout + MR - 1) / MR;
        float[] wPack = new float[groups * MR * taps];
        for (int g = 0; g < groups; g++) {
            MicroKernel.packRows(wF, g * MR * taps, taps, Math.min(MR, cout - g * MR), taps, wPack, g * MR * taps);
        }
        int blocks = (pixels + PIXELS - 1) / PIXELS;
        Parallel.forChunks(blocks, 1, (from, to) -> {
            float[] col = COL.get((PIXELS / NR) * taps * NR);
            // Results of one block, rows off the 4 KiB grid, copied out with the bias at the end.
            float[] cBuf = C_BUF.get(cout * C_STRIDE);
            int[] iy0 = new int[NR];
            int[] ix0 = new int[NR];
            for (int blk = from; blk < to; blk++) {
                int p0 = blk * PIXELS;
                int strips = (Math.min(PIXELS, pixels - p0) + NR - 1) / NR;
                for (int s = 0; s < strips; s++) {
                    packStrip(x, cin, h, wd, kh, kw, stride, top, left, ow, pixels, p0 + s * NR,
                            col, s * taps * NR, iy0, ix0);
                }
                Arrays.fill(cBuf, 0f);
                for (int kb = 0; kb < taps; kb += KC) {
                    int kLen = Math.min(KC, taps - kb);
                    for (int s = 0; s < strips; s++) {
                        int cols = Math.min(NR, pixels - p0 - s * NR);
                        for (int o = 0; o < cout; o += MR) {
                            MicroKernel.multiplyAdd(wPack, o * taps + kb * MR, Math.min(MR, cout - o),
                                    col, (s * taps + kb) * NR, kLen, cBuf, o * C_STRIDE + s * NR, C_STRIDE, cols);
                        }
                    }
                }
                int n = Math.min(PIXELS, pixels - p0);
                for (int o = 0; o < cout; o++) {
                    float b = bias == null ? 0f : bias[o];
                    for (int j = 0; j < n; j++) {
                        out[o * pixels + p0 + j] = cBuf[o * C_STRIDE + j] + b;
                    }
                }
            }
        });
    }

    /** col[base + t * NR + j] = the input under tap t for output pixel ps + j (0 in the padding). */
    private static void packStrip(float[] x, int cin, int h, int wd, int kh, int kw, int stride,
                                  int top, int left, int ow, int pixels, int ps,
                                  float[] col, int base, int[] iy0, int[] ix0) {
        int n = Math.min(NR, pixels - ps);
        for (int j = 0; j < NR; j++) {
            int p = ps + Math.min(j, n - 1);
            iy0[j] = (p / ow) * stride - top;
            ix0[j] = (p % ow) * stride - left;
        }
        // One output row, stride 1: each tap is a contiguous run of the input row.
        boolean oneRow = stride == 1 && n == NR && iy0[0] == iy0[NR - 1];
        int t = 0;
        for (int ci = 0; ci < cin; ci++) {
            for (int dy = 0; dy < kh; dy++) {
                for (int dx = 0; dx < kw; dx++, t++) {
                    int dst = base + t * NR;
                    if (oneRow) {
                        int iy = iy0[0] + dy;
                        int ix = ix0[0] + dx;
                        if (iy < 0 || iy >= h) {
                            Arrays.fill(col, dst, dst + NR, 0f);
                            continue;
                        }
                        if (ix >= 0 && ix + NR <= wd) {
                            System.arraycopy(x, (ci * h + iy) * wd + ix, col, dst, NR);
                            continue;
                        }
                    }
                    for (int j = 0; j < NR; j++) {
                        int iy = iy0[j] + dy;
                        int ix = ix0[j] + dx;
                        col[dst + j] = j < n && iy >= 0 && iy < h && ix >= 0 && ix < wd
                                ? x[(ci * h + iy) * wd + ix] : 0f;
                    }
                }
            }
        }
    }
}
