package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

import static dev.anyrefill.kernels.cpu.MicroKernel.MR;
import static dev.anyrefill.kernels.cpu.MicroKernel.NR;

/**
 * {@code softmax(scale * Q K^T + bias) V} per head, flash-attention style: each task takes one
 * head and a block of {@link #BQ} queries and walks the keys in tiles of {@link #BK}, keeping
 * a running maximum and sum per query (online softmax) and rescaling its output accumulator
 * when the maximum grows, so the L x L score matrix never exists.
 *
 * <p>Everything is computed transposed, queries across the vector lanes: the scores of a tile
 * as {@code S^T = K Q^T} (keys down, queries across, in strips of {@link MicroKernel#NR}
 * queries) and the output as {@code O^T += V^T P^T} (channels down). Then the softmax of a
 * query is one lane of a vector, so maxima and sums need no reduction across lanes; the
 * probabilities are already in the layout the second product reads (no transpose between the
 * two); and channels go in groups of {@link MicroKernel#MR}, so a head of 128 wastes one row
 * of 129, not a strip of 24 columns in 144. K and V are packed per head once, up front, Q per
 * task; both products run on {@link MicroKernel}.
 */
public final class FlashAttention {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int VL = F.length();
    /** Queries per task, whole strips of NR ({@link Blocking#ATTENTION_QUERIES}: two strips unless tuned). */
    static final int BQ = Blocking.ATTENTION_QUERIES;
    /** Keys per tile, whole groups of MR ({@link Blocking#ATTENTION_KEYS}: 64 groups unless tuned). */
    static final int BK = Blocking.ATTENTION_KEYS;

    private static final Scratch K_PACK = new Scratch();
    private static final Scratch V_PACK = new Scratch();
    private static final Scratch Q_PACK = new Scratch();
    private static final Scratch S = new Scratch();
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
        return attention(q, k, v, lq, lk, heads, d, scale, bias, biasHeads, causal, null);
    }

    /**
     * As above, and where {@code lse} [heads, lq] is not null, each query's log-sum-exp of its
     * (scaled, biased) scores, {@code max + ln(sum)} from the online softmax: all that the
     * backward needs to recompute the probabilities ({@link FlashAttentionBackward}).
     */
    public static float[] attention(float[] q, float[] k, float[] v, int lq, int lk, int heads, int d,
                                    float scale, float[] bias, int biasHeads, boolean causal, float[] lse) {
        int hd = heads * d;
        int keyGroups = (lk + MR - 1) / MR;
        int lkPad = keyGroups * MR;
        int channelGroups = (d + MR - 1) / MR;
        int dPad = channelGroups * MR;
        // kPack[h][key group][c][MR]: keys as the rows of A, channels along k (S^T = K Q^T).
        float[] kPack = K_PACK.get(heads * keyGroups * d * MR);
        // vPack[h][channel group][key][MR]: channels as the rows of A, keys along k (O^T += V^T P^T).
        float[] vPack = V_PACK.get(heads * channelGroups * lkPad * MR);
        Parallel.forRange(heads, h -> packHead(k, v, h, lk, hd, d, keyGroups, lkPad, channelGroups, kPack, vPack));
        float[] out = new float[lq * hd];
        int qBlocks = (lq + BQ - 1) / BQ;
        Parallel.forChunks(heads * qBlocks, 1, (from, to) -> {
            float[] qT = Q_PACK.get(BQ * d);
            float[] sT = S.get(BQ * BK);
            float[] oT = O.get(dPad * BQ);
            float[] rowMax = ROW_MAX.get(BQ);
            float[] rowSum = ROW_SUM.get(BQ);
            for (int task = from; task < to; task++) {
                int h = task / qBlocks;
                int i0 = (task % qBlocks) * BQ;
                int rows = Math.min(BQ, lq - i0);
                int strips = (rows + NR - 1) / NR;
                packQueries(q, h, i0, rows, strips, hd, d, qT);
                Arrays.fill(oT, 0, dPad * BQ, 0f);
                Arrays.fill(rowMax, Float.NEGATIVE_INFINITY);
                Arrays.fill(rowSum, 0f);
                int keyEnd = causal ? Math.min(lk, i0 + rows) : lk;
                for (int j0 = 0; j0 < keyEnd; j0 += BK) {
                    int kn = Math.min(BK, keyEnd - j0);
                    int groups = (kn + MR - 1) / MR;
                    // S^T = K Q^T for this tile: keys down, queries across, strip by strip.
                    for (int st = 0; st < strips; st++) {
                        int sOff = st * BK * NR;
                        Arrays.fill(sT, sOff, sOff + groups * MR * NR, 0f);
                        for (int g = 0; g < groups; g++) {
                            MicroKernel.multiplyAdd(kPack, ((h * keyGroups + j0 / MR + g) * d) * MR, MR,
                                    qT, st * d * NR, d, sT, sOff + g * MR * NR, NR, NR);
                        }
                        softmaxStrip(sT, sOff, kn, scale, bias, biasHeads, causal, h, i0 + st * NR, j0, lq, lk,
                                rowMax, rowSum, st * NR, oT, dPad);
                    }
                    // O^T += V^T P^T: the probabilities are B, strip by strip, as they lie.
                    for (int st = 0; st < strips; st++) {
                        for (int g = 0; g < channelGroups; g++) {
                            MicroKernel.multiplyAdd(vPack, ((h * channelGroups + g) * lkPad + j0) * MR, MR,
                                    sT, st * BK * NR, kn, oT, g * MR * BQ + st * NR, BQ, NR);
                        }
                    }
                }
                for (int r = 0; r < rows; r++) {
                    float inv = rowSum[r] == 0f ? 0f : 1f / rowSum[r];
                    if (lse != null) {
                        lse[h * lq + i0 + r] = rowMax[r] + (float) Math.log(rowSum[r]);
                    }
                    int dst = (i0 + r) * hd + h * d;
                    for (int c = 0; c < d; c++) {
                        out[dst + c] = oT[c * BQ + r] * inv;
                    }
                }
            }
        });
        return out;
    }

    /** Packs head h of K and V (zero beyond the last key and the last channel). */
    private static void packHead(float[] k, float[] v, int h, int lk, int hd, int d, int keyGroups, int lkPad,
                                 int channelGroups, float[] kPack, float[] vPack) {
        int kBase = h * keyGroups * d * MR;
        int vBase = h * channelGroups * lkPad * MR;
        Arrays.fill(kPack, kBase, kBase + keyGroups * d * MR, 0f);
        Arrays.fill(vPack, vBase, vBase + channelGroups * lkPad * MR, 0f);
        for (int j = 0; j < lk; j++) {
            int src = j * hd + h * d;
            int kRow = kBase + (j / MR) * d * MR + j % MR;
            for (int c = 0; c < d; c++) {
                kPack[kRow + c * MR] = k[src + c];
                vPack[vBase + ((c / MR) * lkPad + j) * MR + c % MR] = v[src + c];
            }
        }
    }

    /** qT[strip][c][NR]: the block's queries as the columns of B (zero beyond the last query). */
    private static void packQueries(float[] q, int h, int i0, int rows, int strips, int hd, int d, float[] qT) {
        Arrays.fill(qT, 0, strips * d * NR, 0f);
        for (int r = 0; r < rows; r++) {
            int src = (i0 + r) * hd + h * d;
            int dst = (r / NR) * d * NR + r % NR;
            for (int c = 0; c < d; c++) {
                qT[dst + c * NR] = q[src + c];
            }
        }
    }

    /**
     * The online softmax of one strip of NR queries over keys [j0, j0 + kn) of a tile: scores
     * (rows of sT at sOff, NR queries each) become exp(score - new maximum) in place, each
     * query's running maximum and sum are updated, and its column of the output accumulator oT
     * is multiplied by exp(old maximum - new maximum).
     */
    private static void softmaxStrip(float[] sT, int sOff, int kn, float scale, float[] bias, int biasHeads,
                                     boolean causal, int h, int q0, int j0, int lq, int lk,
                                     float[] rowMax, float[] rowSum, int col0, float[] oT, int dPad) {
        // Plain attention with a positive scale (FLUX's): the maximum of the raw scores gives the
        // scaled one, and the scale is applied inside the exp's argument, one pass less.
        boolean plain = bias == null && !causal && scale > 0;
        if (!plain) {
            // Bias and masks vary along the queries, i.e. across lanes: element by element.
            int biasHead = biasHeads == 1 ? 0 : h;
            for (int j = 0; j < kn; j++) {
                int row = sOff + j * NR;
                for (int lane = 0; lane < NR; lane++) {
                    int qi = q0 + lane;
                    float x = sT[row + lane] * scale;
                    if (bias != null && qi < lq) {
                        x += bias[(biasHead * lq + qi) * lk + j0 + j];
                    }
                    if (causal && j0 + j > qi) {
                        x = Float.NEGATIVE_INFINITY;
                    }
                    sT[row + lane] = x;
                }
            }
        }
        float factor = plain ? scale : 1f;
        FloatVector minusInf = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int lane = 0; lane < NR; lane += VL) {
            FloatVector max = minusInf;
            for (int j = 0; j < kn; j++) {
                max = max.max(FloatVector.fromArray(F, sT, sOff + j * NR + lane));
            }
            max = max.mul(factor);
            FloatVector oldMax = FloatVector.fromArray(F, rowMax, col0 + lane);
            FloatVector newMax = oldMax.max(max);
            // Queries whose keys are all masked so far: nothing to add (p = 0), nothing to rescale.
            VectorMask<Float> none = newMax.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY);
            VectorMask<Float> fresh = oldMax.compare(VectorOperators.EQ, Float.NEGATIVE_INFINITY);
            FloatVector shift = newMax.blend(0f, none);
            FloatVector alpha = VectorMath.exp(oldMax.sub(shift)).blend(0f, fresh).blend(1f, none);
            FloatVector sum = FloatVector.zero(F);
            for (int j = 0; j < kn; j++) {
                int at = sOff + j * NR + lane;
                FloatVector p = VectorMath.exp(FloatVector.fromArray(F, sT, at).mul(factor).sub(shift)).blend(0f, none);
                p.intoArray(sT, at);
                sum = sum.add(p);
            }
            newMax.intoArray(rowMax, col0 + lane);
            FloatVector.fromArray(F, rowSum, col0 + lane).mul(alpha).add(sum).intoArray(rowSum, col0 + lane);
            if (alpha.compare(VectorOperators.NE, 1f).anyTrue()) {
                for (int c = 0; c < dPad; c++) {
                    int at = c * BQ + col0 + lane;
                    FloatVector.fromArray(F, oT, at).mul(alpha).intoArray(oT, at);
                }
            }
        }
    }
}
