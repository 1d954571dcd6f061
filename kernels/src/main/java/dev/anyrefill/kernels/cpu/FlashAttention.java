package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

import static dev.anyrefill.kernels.cpu.MicroKernel.MR;
import static dev.anyrefill.kernels.cpu.MicroKernel.NR;

/**
 * {@code softmax(scale * Q K^T + bias) V} per head, flash-attention style: each task takes one
 * head and a block of {@link #BQ} queries and walks the keys in tiles of {@link #BK}, keeping
 * a running row maximum and row sum (online softmax) and rescaling its output accumulator
 * when the maximum grows, so the L x L score matrix never exists. Both products (Q K^T and
 * P V) run on {@link MicroKernel}; K and V are packed per head once, up front, into its strip
 * layout.
 */
public final class FlashAttention {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Queries per task (a multiple of MR). */
    static final int BQ = 16 * MR;
    /** Keys per tile (a multiple of NR). */
    static final int BK = 8 * NR;

    private static final Scratch K_PACK = new Scratch();
    private static final Scratch V_PACK = new Scratch();
    private static final Scratch S = new Scratch();
    private static final Scratch Q_PACK = new Scratch();
    private static final Scratch P_PACK = new Scratch();
    private static final Scratch O = new Scratch();
    private static final Scratch ROW_MAX = new Scratch();
    private static final Scratch ROW_SUM = new Scratch();

    private FlashAttention() {
    }

    /**
     * q [lq, heads, d], k and v [lk, heads, d]; bias [biasHeads, lq, lk] or null; returns
     * out [lq, heads * d].
     */
    public static float[] attention(float[] q, float[] k, float[] v, int lq, int lk, int heads, int d,
                                    float scale, float[] bias, int biasHeads, boolean causal) {
        int hd = heads * d;
        int keyStrips = (lk + NR - 1) / NR;
        int dStrips = (d + NR - 1) / NR;
        int dPad = dStrips * NR;
        // kPack[h][strip][c][NR]: keys as columns, so S = Q K^T is A = Q rows, B = key strips.
        float[] kPack = K_PACK.get(heads * keyStrips * d * NR);
        // vPack[h][key tile][dStrip][BK][NR]: value channels as columns, so O += P V is A = P,
        // B = V strips; the strips of one key tile side by side.
        int keyTiles = (lk + BK - 1) / BK;
        float[] vPack = V_PACK.get(heads * keyTiles * dStrips * BK * NR);
        Parallel.forRange(heads, h -> {
            for (int j = 0; j < lk; j++) {
                int src = j * hd + h * d;
                int kBase = ((h * keyStrips + j / NR) * d) * NR + j % NR;
                for (int c = 0; c < d; c++) {
                    kPack[kBase + c * NR] = k[src + c];
                }
                for (int ds = 0; ds < dStrips; ds++) {
                    int cols = Math.min(NR, d - ds * NR);
                    System.arraycopy(v, src + ds * NR, vPack,
                            (((h * keyTiles + j / BK) * dStrips + ds) * BK + j % BK) * NR, cols);
                }
            }
        });
        float[] out = new float[lq * hd];
        int qBlocks = (lq + BQ - 1) / BQ;
        Parallel.forChunks(heads * qBlocks, 1, (from, to) -> {
            float[] s = S.get(BQ * BK);
            float[] qPack = Q_PACK.get(BQ * d);
            float[] pPack = P_PACK.get(BQ * BK);
            float[] o = O.get(BQ * dPad);
            float[] rowMax = ROW_MAX.get(BQ);
            float[] rowSum = ROW_SUM.get(BQ);
            for (int task = from; task < to; task++) {
                int h = task / qBlocks;
                int i0 = (task % qBlocks) * BQ;
                int rows = Math.min(BQ, lq - i0);
                Arrays.fill(o, 0f);
                Arrays.fill(rowMax, Float.NEGATIVE_INFINITY);
                Arrays.fill(rowSum, 0f);
                int keyEnd = causal ? Math.min(lk, i0 + rows) : lk;
                for (int r = 0; r < rows; r += MR) {
                    MicroKernel.packRows(q, (i0 + r) * hd + h * d, hd, Math.min(MR, rows - r), d, qPack, r * d);
                }
                for (int j0 = 0; j0 < keyEnd; j0 += BK) {
                    int kn = Math.min(BK, keyEnd - j0);
                    // S = Q K^T for this tile.
                    Arrays.fill(s, 0f);
                    for (int st = 0; st * NR < kn; st++) {
                        int cols = Math.min(NR, kn - st * NR);
                        int bOff = ((h * keyStrips + (j0 / NR) + st) * d) * NR;
                        for (int r = 0; r < rows; r += MR) {
                            MicroKernel.multiplyAdd(qPack, r * d, Math.min(MR, rows - r),
                                    kPack, bOff, d, s, r * BK + st * NR, BK, cols);
                        }
                    }
                    // Online softmax: scores to probabilities, rescale what was accumulated.
                    for (int r = 0; r < rows; r++) {
                        int i = i0 + r;
                        int valid = causal ? Math.max(0, Math.min(kn, i - j0 + 1)) : kn;
                        int biasOff = bias == null ? -1 : ((biasHeads == 1 ? 0 : h) * lq + i) * lk + j0;
                        float alpha = softmaxRow(s, r * BK, kn, valid, scale, bias, biasOff, rowMax, rowSum, r);
                        if (alpha != 1f) {
                            scaleRow(o, r * dPad, dPad, alpha);
                        }
                    }
                    // O += P V.
                    for (int r = 0; r < rows; r += MR) {
                        MicroKernel.packRows(s, r * BK, BK, Math.min(MR, rows - r), kn, pPack, r * BK);
                    }
                    for (int ds = 0; ds < dStrips; ds++) {
                        int cols = Math.min(NR, d - ds * NR);
                        int bOff = ((h * keyTiles + j0 / BK) * dStrips + ds) * BK * NR;
                        for (int r = 0; r < rows; r += MR) {
                            MicroKernel.multiplyAdd(pPack, r * BK, Math.min(MR, rows - r),
                                    vPack, bOff, kn, o, r * dPad + ds * NR, dPad, cols);
                        }
                    }
                }
                for (int r = 0; r < rows; r++) {
                    float inv = rowSum[r] == 0f ? 0f : 1f / rowSum[r];
                    int dst = (i0 + r) * hd + h * d;
                    for (int c = 0; c < d; c++) {
                        out[dst + c] = o[r * dPad + c] * inv;
                    }
                }
            }
        });
        return out;
    }

    /**
     * Turns scores s[off, off + n) into exp(score - newMax) in place (0 beyond {@code valid}),
     * updates the row's running maximum and sum, and returns the factor exp(oldMax - newMax)
     * the row's accumulated output must be multiplied by.
     */
    private static float softmaxRow(float[] s, int off, int n, int valid, float scale,
                                    float[] bias, int biasOff, float[] rowMax, float[] rowSum, int r) {
        float max = Float.NEGATIVE_INFINITY;
        int j = 0;
        int upper = F.loopBound(valid);
        FloatVector vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (; j < upper; j += F.length()) {
            FloatVector x = FloatVector.fromArray(F, s, off + j).mul(scale);
            if (bias != null) {
                x = x.add(FloatVector.fromArray(F, bias, biasOff + j));
            }
            x.intoArray(s, off + j);
            vmax = vmax.max(x);
        }
        max = vmax.reduceLanes(VectorOperators.MAX);
        for (; j < valid; j++) {
            float x = s[off + j] * scale + (bias != null ? bias[biasOff + j] : 0f);
            s[off + j] = x;
            max = Math.max(max, x);
        }
        float oldMax = rowMax[r];
        float newMax = Math.max(oldMax, max);
        if (newMax == Float.NEGATIVE_INFINITY) {
            // Every key so far is masked: nothing to add, nothing to rescale.
            Arrays.fill(s, off, off + n, 0f);
            return 1f;
        }
        float alpha = oldMax == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(oldMax - newMax);
        FloatVector vsum = FloatVector.zero(F);
        j = 0;
        for (; j < upper; j += F.length()) {
            FloatVector p = FloatVector.fromArray(F, s, off + j).sub(newMax).lanewise(VectorOperators.EXP);
            p.intoArray(s, off + j);
            vsum = vsum.add(p);
        }
        float sum = vsum.reduceLanes(VectorOperators.ADD);
        for (; j < valid; j++) {
            float p = (float) Math.exp(s[off + j] - newMax);
            s[off + j] = p;
            sum += p;
        }
        for (; j < n; j++) {
            s[off + j] = 0f;
        }
        rowMax[r] = newMax;
        rowSum[r] = rowSum[r] * alpha + sum;
        return alpha;
    }

    private static void scaleRow(float[] o, int off, int n, float alpha) {
        for (int j = 0; j < n; j += F.length()) {
            FloatVector.fromArray(F, o, off + j).mul(alpha).intoArray(o, off + j);
        }
    }
}
