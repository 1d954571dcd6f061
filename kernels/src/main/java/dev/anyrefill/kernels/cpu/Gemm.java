package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Parallel;
import dev.anyrefill.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

import static dev.anyrefill.kernels.cpu.MicroKernel.MR;
import static dev.anyrefill.kernels.cpu.MicroKernel.NR;

/**
 * {@code out = act(x W^T + b)} for F32 activations x [M, K] and weights W [N, K] in their
 * stored type.
 *
 * <p>Many rows (the transformer's token batches): x is packed once per call into k-major
 * groups of {@link MicroKernel#MR} rows, block by block ({@link #MC} rows x {@link #KC}
 * depth), so every panel reuses it. W is widened and packed, one panel of columns at a time,
 * into k-major strips of {@link MicroKernel#NR} columns (F32, each weight converted once per
 * call and then reused by every row of x); the panel is cut into tiles of rows x strips that
 * the pool runs in parallel, so both M and N feed the threads. Inside a tile the loop runs
 * over K in blocks of {@link #KC} (a strip block stays in L1 while the rows of the tile
 * stream past it from L2), then strips, then groups of {@link MicroKernel#MR} rows. Bias and
 * activation are applied to each tile while it is still in cache.
 *
 * <p>Few rows (modulation vectors, M = 1): packing would cost more than the product, so each
 * weight row is widened once into a buffer and dotted with every row of x.
 */
public final class Gemm {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Below this many rows the dot-product path is faster than packing. */
    static final int PACKED_MIN_ROWS = 16;
    /** K block: one strip block is KC * NR floats (24 KiB for AVX2 at KC 256); {@link Blocking}. */
    static final int KC = Blocking.KC;
    /**
     * Rows per tile (a multiple of MR). Each strip block a tile reads comes from L3 once and
     * serves all MC rows, so L3 traffic per FLOP falls as 1/MC; the tile's KC block of x
     * (MC * KC floats, 126 KiB at the AVX2 defaults) and its result buffer (MC * C_STRIDE,
     * 201 KiB) share L2; {@link Blocking}.
     */
    static final int MC = Blocking.MC;
    /** Strips per tile. */
    static final int STRIPS_PER_TILE = Blocking.STRIPS_PER_TILE;
    /** Row stride of a tile's result buffer: one strip more than the tile, off the 4 KiB grid. */
    static final int C_STRIDE = Blocking.C_STRIDE;
    /** Upper bound of a packed panel, in floats (8 MiB). */
    static final int PANEL_FLOATS = 2 << 20;

    private static final Scratch PANEL = new Scratch();
    private static final Scratch PACKED_X = new Scratch();
    private static final Scratch C_BUF = new Scratch();
    private static final Scratch ROWS = new Scratch();
    private static final Scratch ROW = new Scratch();

    /**
     * How the second operand of {@code x B} is stored. The forward of a linear layer reads W
     * [N, K] (B = W^T); its backward reads the same weight untransposed (dx = dy W) and the
     * activations as they lie (dW = dy^T x), both of which store B [K, N]. Only the packing
     * of B differs, so every product shares the packed kernel.
     */
    public enum Layout {
        /** B = W^T with W [N, K]: rows of the stored matrix are output columns (nn.Linear). */
        ROWS_ARE_OUTPUTS,
        /** B [K, N] as stored: rows of the stored matrix run along the inner dimension. */
        ROWS_ARE_INNER
    }

    private Gemm() {
    }

    /** Multiplies x [M, K] by w [N, K]^T, adds bias [N] (or null) and applies act: out [M, N]. */
    public static void linear(float[] x, int m, int k, Tensor w, int n, float[] bias, Activation act, float[] out) {
        multiply(x, m, k, w, Layout.ROWS_ARE_OUTPUTS, n, bias, act, out);
    }

    /**
     * {@code out = act(x B + bias)}: x [M, K], B [K, N] stored as the layout says (in any
     * weight type), bias [N] or null.
     */
    public static void multiply(float[] x, int m, int k, Tensor w, Layout layout, int n, float[] bias,
                                Activation act, float[] out) {
        if (m < PACKED_MIN_ROWS) {
            if (layout == Layout.ROWS_ARE_OUTPUTS) {
                rowDots(x, m, k, w, n, bias, act, out);
            } else {
                rowAxpys(x, m, k, w, n, bias, act, out);
            }
        } else {
            packed(x, m, k, w, layout, n, bias, act, out);
        }
    }

    static void packed(float[] x, int m, int k, Tensor w, Layout layout, int n, float[] bias, Activation act,
                       float[] out) {
        int threads = Parallel.threads();
        int mTiles = (m + MC - 1) / MC;
        int stripsTotal = (n + NR - 1) / NR;
        // Panel width: as many strips as memory allows, but at least enough tiles for the pool.
        int stripsByMemory = Math.max(1, PANEL_FLOATS / (k * NR));
        int stripsForThreads = STRIPS_PER_TILE * Math.max(1, (4 * threads + mTiles - 1) / mTiles);
        int panelStrips = Math.min(stripsTotal, Math.max(stripsByMemory, Math.min(stripsForThreads, 4 * stripsByMemory)));
        packed(x, m, k, w, layout, n, bias, act, out, panelStrips);
    }

    /** The packed path with panels of at most {@code panelStrips} strips (tests use small ones). */
    static void packed(float[] x, int m, int k, Tensor w, Layout layout, int n, float[] bias, Activation act,
                       float[] out, int panelStrips) {
        int kBlocks = (k + KC - 1) / KC;
        int stripsTotal = (n + NR - 1) / NR;
        int mc = tileRows(m, (Math.min(panelStrips, stripsTotal) + STRIPS_PER_TILE - 1) / STRIPS_PER_TILE,
                Parallel.threads());
        int mTiles = (m + mc - 1) / mc;
        float[] xPacked = PACKED_X.get(Math.multiplyExact(mTiles * kBlocks, MC * KC));
        packX(x, m, k, mc, xPacked);
        float[] pack = PANEL.get(panelStrips * k * NR);
        for (int s0 = 0; s0 < stripsTotal; s0 += panelStrips) {
            int strips = Math.min(panelStrips, stripsTotal - s0);
            int n0 = s0 * NR;
            int panelCols = Math.min(n - n0, strips * NR);
            if (layout == Layout.ROWS_ARE_OUTPUTS) {
                packPanel(w, k, n0, panelCols, strips, pack);
            } else {
                packPanelInner(w, k, n, n0, panelCols, strips, pack);
            }
            int sTiles = (strips + STRIPS_PER_TILE - 1) / STRIPS_PER_TILE;
            Parallel.forEach(mTiles * sTiles, t -> {
                float[] cBuf = C_BUF.get(MC * C_STRIDE);
                int mt = t / sTiles;
                int st = t % sTiles;
                int m0 = mt * mc;
                int m1 = Math.min(m, m0 + mc);
                int sa = st * STRIPS_PER_TILE;
                int sb = Math.min(strips, sa + STRIPS_PER_TILE);
                int c0 = n0 + sa * NR;
                int c1 = n0 + Math.min(panelCols, sb * NR);
                Arrays.fill(cBuf, 0f);
                tile(xPacked, k, mt, m1 - m0, pack, strips, sa, sb, panelCols, cBuf);
                for (int r = m0; r < m1; r++) {
                    System.arraycopy(cBuf, (r - m0) * C_STRIDE, out, r * n + c0, c1 - c0);
                    VectorMath.biasActivation(out, r * n + c0, c1 - c0, bias, c0, act);
                }
            });
        }
    }

    /**
     * Rows per tile: at most {@link #MC}, and as many tiles (from the fewest that MC allows to
     * 2 x threads more) as keep the busiest thread's share of a panel smallest, a panel's
     * tiles being row tiles x {@code stripTiles}, taken by the threads in turn. 2048 rows in
     * 17 tiles of 126 leave one of two threads alone with the last tile of every panel (a
     * seventeenth of the time idle); 18 tiles of 114 do not. The tile's rows do not change
     * any sum's order, so results are the same bits.
     */
    static int tileRows(int m, int stripTiles, int threads) {
        int fewest = (m + MC - 1) / MC;
        int best = MC;
        long bestSpan = Long.MAX_VALUE;
        for (int t = fewest; t < fewest + 2 * threads; t++) {
            int rows = ((m + t - 1) / t + MR - 1) / MR * MR;
            int tiles = (m + rows - 1) / rows;
            long span = (long) ((tiles * stripTiles + threads - 1) / threads) * rows; // the busiest thread's rows, at most
            if (span < bestSpan) {
                bestSpan = span;
                best = rows;
            }
        }
        return best;
    }

    /**
     * Where block (row tile mt, K block kb) of x lies in the packed x: blocks of MC x KC floats,
     * row tile major, each holding its groups of MR rows k-major ({@link MicroKernel#packRows})
     * at a stride of MR x KC.
     */
    static int packedXOffset(int mt, int kb, int k) {
        int kBlocks = (k + KC - 1) / KC;
        return (mt * kBlocks + kb / KC) * MC * KC;
    }

    /**
     * Packs all of x once per call (each panel used to repack it: for the single block's
     * linear1, 28 times). The tiles then read it in the micro-kernel's order, and the rows
     * of x, K floats apart (often a multiple of 4 KiB, so in place they would fall into the
     * same few cache sets), are never read in place by the kernel.
     */
    static void packX(float[] x, int m, int k, int mc, float[] xPacked) {
        int mTiles = (m + mc - 1) / mc;
        int kBlocks = (k + KC - 1) / KC;
        Parallel.forChunks(mTiles * kBlocks, 1, (from, to) -> {
            for (int b = from; b < to; b++) {
                int mt = b / kBlocks;
                int kb = (b % kBlocks) * KC;
                int kLen = Math.min(KC, k - kb);
                int m0 = mt * mc;
                int m1 = Math.min(m, m0 + mc);
                int dst = packedXOffset(mt, kb, k);
                for (int r = m0; r < m1; r += MR) {
                    MicroKernel.packRows(x, r * k + kb, k, Math.min(MR, m1 - r), kLen, xPacked, dst + (r - m0) * KC);
                }
            }
        });
    }

    /**
     * The rows of row tile mt times strips [sa, sb) of the packed panel, accumulated into the
     * compact tile cBuf (row stride {@link #C_STRIDE}: rows of the output lie N floats apart,
     * often a multiple of 4 KiB, so in place they would evict each other).
     */
    private static void tile(float[] xPacked, int k, int mt, int rows, float[] pack, int strips, int sa, int sb,
                             int panelCols, float[] cBuf) {
        for (int kb = 0; kb < k; kb += KC) {
            int kLen = Math.min(KC, k - kb);
            int aBlock = packedXOffset(mt, kb, k);
            for (int s = sa; s < sb; s++) {
                int cols = Math.min(NR, panelCols - s * NR);
                int bOff = packOffset(kb, kLen, strips, s);
                int cOff = (s - sa) * NR;
                for (int r = 0; r < rows; r += MR) {
                    MicroKernel.multiplyAdd(xPacked, aBlock + r * KC, Math.min(MR, rows - r),
                            pack, bOff, kLen, cBuf, r * C_STRIDE + cOff, C_STRIDE, cols);
                }
            }
        }
    }

    /**
     * Where the block of strip s for the K block starting at kb lies in a packed panel of
     * {@code strips} strips. K blocks are the outer order: the strips one tile reads for one K
     * block sit side by side (strips K floats apart would land in the same cache sets when K
     * is a multiple of 1024, and evict each other).
     */
    static int packOffset(int kb, int kLen, int strips, int s) {
        return (kb * strips + s * kLen) * NR;
    }

    /**
     * Widens columns [n0, n0 + cols) of W^T (rows of W) into a panel of {@code strips} strips:
     * the block of strip s and K block kb holds, for each k, the NR weights of its columns
     * (zero beyond the last column).
     */
    static void packPanel(Tensor w, int k, int n0, int cols, int strips, float[] pack) {
        Parallel.forChunks(strips, 1, (from, to) -> {
            // One strip at a time, K in blocks: widen NR row pieces into an L1-sized buffer,
            // then write the strip block sequentially.
            float[] rows = ROWS.get(NR * KC);
            for (int s = from; s < to; s++) {
                int width = Math.min(NR, cols - s * NR);
                for (int kb = 0; kb < k; kb += KC) {
                    int kLen = Math.min(KC, k - kb);
                    for (int j = 0; j < width; j++) {
                        Widen.run(w, (long) (n0 + s * NR + j) * k + kb, rows, j * KC, kLen);
                    }
                    int dst = packOffset(kb, kLen, strips, s);
                    for (int kk = 0; kk < kLen; kk++) {
                        for (int j = 0; j < NR; j++) {
                            pack[dst + kk * NR + j] = j < width ? rows[j * KC + kk] : 0f;
                        }
                    }
                }
            }
        });
    }

    /**
     * {@link #packPanel} for B stored [K, N]: the NR weights a strip needs at each k are
     * already side by side in row k, so each is widened straight into place.
     */
    static void packPanelInner(Tensor w, int k, int n, int n0, int cols, int strips, float[] pack) {
        Parallel.forChunks(strips, 1, (from, to) -> {
            for (int s = from; s < to; s++) {
                int width = Math.min(NR, cols - s * NR);
                for (int kb = 0; kb < k; kb += KC) {
                    int kLen = Math.min(KC, k - kb);
                    int dst = packOffset(kb, kLen, strips, s);
                    for (int kk = 0; kk < kLen; kk++) {
                        int at = dst + kk * NR;
                        Widen.run(w, (long) (kb + kk) * n + n0 + s * NR, pack, at, width);
                        Arrays.fill(pack, at + width, at + NR, 0f);
                    }
                }
            }
        });
    }

    /**
     * The few-rows path for B stored [K, N]: each row k of B widened once and added, times
     * x[i, k], into every output row i (columns split over the pool).
     */
    static void rowAxpys(float[] x, int m, int k, Tensor w, int n, float[] bias, Activation act, float[] out) {
        Parallel.forChunks(n, 256, (from, to) -> {
            int width = to - from;
            float[] row = ROW.get(width);
            for (int i = 0; i < m; i++) {
                Arrays.fill(out, i * n + from, i * n + to, 0f);
            }
            for (int kk = 0; kk < k; kk++) {
                Widen.run(w, (long) kk * n + from, row, 0, width);
                for (int i = 0; i < m; i++) {
                    VectorMath.axpy(out, i * n + from, x[i * k + kk], row, width);
                }
            }
            for (int i = 0; i < m; i++) {
                VectorMath.biasActivation(out, i * n + from, width, bias, from, act);
            }
        });
    }

    /** The few-rows path: each weight row widened once, dotted with up to four x rows at a time. */
    static void rowDots(float[] x, int m, int k, Tensor w, int n, float[] bias, Activation act, float[] out) {
        Parallel.forChunks(n, 64, (from, to) -> {
            float[] row = ROW.get(k);
            for (int j = from; j < to; j++) {
                Widen.run(w, (long) j * k, row, 0, k);
                float bj = bias == null ? 0f : bias[j];
                int i = 0;
                for (; i + 4 <= m; i += 4) {
                    dot4(x, i * k, k, row, out, i * n + j, n);
                }
                for (; i < m; i++) {
                    out[i * n + j] = VectorMath.dot(x, i * k, row, 0, k);
                }
                for (i = 0; i < m; i++) {
                    out[i * n + j] = VectorMath.apply(act, out[i * n + j] + bj);
                }
            }
        });
    }

    private static void dot4(float[] x, int xOff, int k, float[] w, float[] out, int oOff, int n) {
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F);
        FloatVector s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
        int i = 0;
        int upper = F.loopBound(k);
        for (; i < upper; i += F.length()) {
            FloatVector wv = FloatVector.fromArray(F, w, i);
            s0 = FloatVector.fromArray(F, x, xOff + i).fma(wv, s0);
            s1 = FloatVector.fromArray(F, x, xOff + k + i).fma(wv, s1);
            s2 = FloatVector.fromArray(F, x, xOff + 2 * k + i).fma(wv, s2);
            s3 = FloatVector.fromArray(F, x, xOff + 3 * k + i).fma(wv, s3);
        }
        float r0 = VectorMath.sumLanes(s0), r1 = VectorMath.sumLanes(s1);
        float r2 = VectorMath.sumLanes(s2), r3 = VectorMath.sumLanes(s3);
        for (; i < k; i++) {
            float wv = w[i];
            r0 += x[xOff + i] * wv;
            r1 += x[xOff + k + i] * wv;
            r2 += x[xOff + 2 * k + i] * wv;
            r3 += x[xOff + 3 * k + i] * wv;
        }
        out[oOff] = r0;
        out[oOff + n] = r1;
        out[oOff + 2 * n] = r2;
        out[oOff + 3 * n] = r3;
    }
}
