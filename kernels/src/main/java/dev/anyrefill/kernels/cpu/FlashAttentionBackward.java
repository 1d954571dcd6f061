package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

import static dev.anyrefill.kernels.cpu.MicroKernel.MR;
import static dev.anyrefill.kernels.cpu.MicroKernel.NR;

/**
 * The backward of non-causal, unbiased attention {@code O = softmax(scale Q K^T) V} (FLUX's),
 * flash-attention style (Dao, FlashAttention-2, algorithm 2): the probabilities are recomputed
 * tile by tile from Q, K and the forward's log-sum-exp per query, so the L x L matrices never
 * exist. Per tile of {@link #BQ} queries and {@link #BK} keys:
 * <pre>
 *   P  = exp(scale Q K^T - lse)         the forward's probabilities
 *   dP = dO V^T
 *   dS = P * (dP - D),  D = rowsum(dO * O)   (the softmax's backward; D once per query)
 *   dV += P^T dO,   dK += scale dS^T Q,   dQ += scale dS K
 * </pre>
 * One task per head, so each task owns its columns of dQ, dK and dV and nothing is shared.
 * All five products run on the {@link MicroKernel}: Q, K, V and dO are packed once per head
 * in the orders the products read them ({@link HeadPacks}). dV and dK are accumulated
 * transposed, {@code dV^T += dO^T P} and {@code dK^T += Q^T dS} (channels down in groups of
 * MR, so a head of 128 wastes one row of 129; keys across), which reads P and dS in place as
 * the B operand, rows along k; only dS is packed per tile, as the A of {@code dQ += dS K}.
 */
public final class FlashAttentionBackward {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Queries per tile, whole groups of MR ({@link Blocking#ATTENTION_BACKWARD_QUERIES}: 66 unless tuned). */
    static final int BQ = Blocking.ATTENTION_BACKWARD_QUERIES;
    /** Keys per tile, whole strips of NR ({@link Blocking#ATTENTION_BACKWARD_KEYS}: about 96 unless tuned). */
    static final int BK = Blocking.ATTENTION_BACKWARD_KEYS;

    private static final Scratch TILES = new Scratch();
    private static final Scratch D = new Scratch();
    private static final Scratch DQ = new Scratch();
    private static final Scratch DKV = new Scratch();

    private FlashAttentionBackward() {
    }

    /**
     * q [lq, heads, d], k and v [lk, heads, d], out and dOut [lq, heads * d], lse [heads, lq];
     * writes dq [lq, heads * d] and dk, dv [lk, heads * d] (every element overwritten).
     */
    public static void backward(float[] q, float[] k, float[] v, float[] out, float[] dOut, float[] lse,
                                int lq, int lk, int heads, int d, float scale,
                                float[] dq, float[] dk, float[] dv) {
        int hd = heads * d;
        Parallel.forRange(heads, h -> {
            HeadPacks p = HeadPacks.of(q, k, v, dOut, h, lq, lk, hd, d);
            float[] tiles = TILES.get(3 * BQ * BK);
            int sOff = 0;                // S, then P: [BQ, BK] row-major
            int dpOff = BQ * BK;         // dP, then scale dS: [BQ, BK]
            int dsA = 2 * BQ * BK;       // scale dS packed as A (groups of MR queries, keys along k)
            float[] dRow = D.get(lq);
            // dQ of the head accumulates in a local buffer whose rows are padded to whole strips
            // of channels (dPad), dV^T and dK^T of the current key tile in ones of dRows rows
            // (channels padded to whole groups of MR) by BK keys, so every product stores whole
            // strips or groups; they go to the [L, H * D] outputs once complete.
            int dPad = (d + NR - 1) / NR * NR;
            int dRows = (d + MR - 1) / MR * MR;
            float[] dqLocal = DQ.get(lq * dPad);
            float[] dkvLocal = DKV.get(2 * dRows * BK);
            int dkOff = dRows * BK;
            Arrays.fill(dqLocal, 0, lq * dPad, 0f);
            int col = h * d;
            for (int i = 0; i < lq; i++) {
                dRow[i] = VectorMath.dot(dOut, i * hd + col, out, i * hd + col, d);
            }
            for (int j0 = 0; j0 < lk; j0 += BK) {
                int kn = Math.min(BK, lk - j0);
                Arrays.fill(dkvLocal, 0, 2 * dRows * BK, 0f);
                for (int i0 = 0; i0 < lq; i0 += BQ) {
                    int qn = Math.min(BQ, lq - i0);
                    Arrays.fill(tiles, 0, 2 * BQ * BK, 0f);
                    // S = Q_i K_j^T and dP = dO_i V_j^T, channels along k
                    product(p.qA(), i0 * d, qn, p.kB(), j0 * d, kn, d, tiles, sOff, BK);
                    product(p.dOA(), i0 * d, qn, p.vB(), j0 * d, kn, d, tiles, dpOff, BK);
                    probabilitiesAndScores(tiles, sOff, dpOff, qn, kn, lse, h * lq + i0, dRow, i0, scale);
                    packRows(tiles, dpOff, qn, kn, tiles, dsA);
                    // dV_j^T += dO_i^T P and dK_j^T += Q_i^T (scale dS) (queries along k, P and dS in place),
                    // dQ_i += (scale dS) K_j (keys along k)
                    accumulateTransposed(p.dOT(), lq, i0, qn, dRows, tiles, sOff, kn, dkvLocal, 0);
                    accumulateTransposed(p.qT(), lq, i0, qn, dRows, tiles, dpOff, kn, dkvLocal, dkOff);
                    accumulate(tiles, dsA, qn, p.kC(), lk, j0, kn, dPad, dqLocal, i0 * dPad);
                }
                transposeOut(dkvLocal, 0, d, kn, dv, j0 * hd + col, hd);
                transposeOut(dkvLocal, dkOff, d, kn, dk, j0 * hd + col, hd);
            }
            unpad(dqLocal, 0, dPad, lq, d, dq, col, hd);
        });
    }

    /**
     * C[rows x cols] (row-major at cOff, stride ldc) += A B over kLen: A packed in groups of MR
     * rows from row offset {@code aOff} (already times kLen), B in strips of NR columns from
     * column offset {@code bOff} (already times kLen).
     */
    private static void product(float[] a, int aOff, int rows, float[] b, int bOff, int cols, int kLen,
                                float[] c, int cOff, int ldc) {
        for (int g = 0; g < rows; g += MR) {
            for (int s = 0; s < cols; s += NR) {
                MicroKernel.multiplyAdd(a, aOff + g * kLen, Math.min(MR, rows - g), b, bOff + s * kLen, kLen,
                        c, cOff + g * ldc + s, ldc, Math.min(NR, cols - s));
            }
        }
    }

    /**
     * C[rows x dPad] (local, row stride dPad) += A B where A (rows x kLen, packed at aOff in
     * groups of MR rows) is a tile's P^T, dS^T or dS and B is the per-head pack whose k runs over
     * tokens [k0, k0 + kLen): strips of NR channels, {@code tokens} long each, zero past d.
     */
    private static void accumulate(float[] a, int aOff, int rows, float[] b, int tokens, int k0, int kLen, int dPad,
                                   float[] c, int cOff) {
        for (int g = 0; g < rows; g += MR) {
            for (int s = 0; s < dPad; s += NR) {
                MicroKernel.multiplyAdd(a, aOff + g * kLen, Math.min(MR, rows - g), b, (s * tokens + k0 * NR), kLen,
                        c, cOff + g * dPad + s, dPad, NR);
            }
        }
    }

    /**
     * C[dRows x kn] (local, row stride BK) += A B where A is a per-head pack of channels in
     * groups of MR with tokens along k ({@link HeadPacks#channelGroups}), its queries
     * [k0, k0 + kLen), and B a tile's P or dS [kLen x kn] read in place (row stride BK).
     */
    private static void accumulateTransposed(float[] a, int tokens, int k0, int kLen, int dRows, float[] tile, int bOff,
                                             int kn, float[] c, int cOff) {
        for (int g = 0; g < dRows; g += MR) {
            for (int s = 0; s < kn; s += NR) {
                MicroKernel.multiplyAdd(a, (g * tokens + k0 * MR), MR, tile, bOff + s, BK, kLen,
                        c, cOff + g * BK + s, BK, Math.min(NR, kn - s));
            }
        }
    }

    /** The first d rows and kn columns of a transposed local buffer (row stride BK) into out at outOff, [kn, d] at stride hd. */
    private static void transposeOut(float[] local, int off, int d, int kn, float[] out, int outOff, int hd) {
        for (int c = 0; c < d; c++) {
            int src = off + c * BK;
            for (int j = 0; j < kn; j++) {
                out[outOff + j * hd + c] = local[src + j];
            }
        }
    }

    /** Rows [0, rows) of a local buffer (stride dPad), their first d channels, into out at outOff (stride hd). */
    private static void unpad(float[] local, int off, int dPad, int rows, int d, float[] out, int outOff, int hd) {
        for (int r = 0; r < rows; r++) {
            System.arraycopy(local, off + r * dPad, out, outOff + r * hd, d);
        }
    }

    /** S becomes P = exp(scale S - lse) and dP becomes scale P (dP - D), row by row, a vector at a time. */
    private static void probabilitiesAndScores(float[] t, int sOff, int dpOff, int qn, int kn, float[] lse,
                                               int lseOff, float[] dRow, int i0, float scale) {
        int upper = F.loopBound(kn);
        for (int r = 0; r < qn; r++) {
            float l = lse[lseOff + r];
            float di = dRow[i0 + r];
            int s0 = sOff + r * BK;
            int p0 = dpOff + r * BK;
            int c = 0;
            for (; c < upper; c += F.length()) {
                FloatVector p = VectorMath.exp(FloatVector.fromArray(F, t, s0 + c).mul(scale).sub(l));
                p.intoArray(t, s0 + c);
                FloatVector.fromArray(F, t, p0 + c).sub(di).mul(p).mul(scale).intoArray(t, p0 + c);
            }
            for (; c < kn; c++) {
                float p = VectorMath.exp(scale * t[s0 + c] - l);
                t[s0 + c] = p;
                t[p0 + c] = scale * p * (t[p0 + c] - di);
            }
        }
    }

    /** A tile [qn x kn] (stride BK) as A: groups of MR queries, keys along k. */
    private static void packRows(float[] t, int off, int qn, int kn, float[] dst, int dstOff) {
        for (int g = 0; g < qn; g += MR) {
            MicroKernel.packRows(t, off + g * BK, BK, Math.min(MR, qn - g), kn, dst, dstOff + g * kn);
        }
    }

    /**
     * One head's Q, K, V and dO packed once, in the order each product reads them. "A" packs:
     * groups of MR tokens, channels along k ({@code x[(g * d + c) * MR + r]}, g counted in
     * tokens); "B over tokens": strips of NR tokens, channels along k; "T": groups of MR
     * channels, tokens along k ({@code x[g * tokens + t * MR + r]} for channel g + r, g a multiple of MR);
     * "C": strips of NR channels, tokens along k ({@code x[(s * tokens + t) * NR + j]}).
     */
    record HeadPacks(float[] qA, float[] dOA, float[] kB, float[] vB, float[] qT, float[] dOT, float[] kC) {
        private static final Scratch[] SCRATCH = {new Scratch(), new Scratch(), new Scratch(), new Scratch(),
                new Scratch(), new Scratch(), new Scratch()};

        static HeadPacks of(float[] q, float[] k, float[] v, float[] dOut, int h, int lq, int lk, int hd, int d) {
            int col = h * d;
            return new HeadPacks(
                    groups(q, col, lq, hd, d, SCRATCH[0]), groups(dOut, col, lq, hd, d, SCRATCH[1]),
                    strips(k, col, lk, hd, d, SCRATCH[2]), strips(v, col, lk, hd, d, SCRATCH[3]),
                    channelGroups(q, col, lq, hd, d, SCRATCH[4]), channelGroups(dOut, col, lq, hd, d, SCRATCH[5]),
                    channelStrips(k, col, lk, hd, d, SCRATCH[6]));
        }

        /** Groups of MR channels, tokens along k: {@code p[g * tokens + t * MR + r]} = x[t, g + r] (g a multiple of MR), zero past d. */
        private static float[] channelGroups(float[] x, int col, int tokens, int hd, int d, Scratch s) {
            int rows = (d + MR - 1) / MR * MR;
            float[] p = s.get(rows * tokens);
            for (int g = 0; g < rows; g += MR) {
                for (int t = 0; t < tokens; t++) {
                    int dst = g * tokens + t * MR;
                    for (int r = 0; r < MR; r++) {
                        p[dst + r] = g + r < d ? x[t * hd + col + g + r] : 0f;
                    }
                }
            }
            return p;
        }

        /** Groups of MR tokens, channels along k. */
        private static float[] groups(float[] x, int col, int tokens, int hd, int d, Scratch s) {
            int padded = (tokens + MR - 1) / MR * MR;
            float[] p = s.get(padded * d);
            for (int g = 0; g < padded; g += MR) {
                MicroKernel.packRows(x, g * hd + col, hd, Math.min(MR, tokens - g), d, p, g * d);
            }
            return p;
        }

        /** Strips of NR tokens, channels along k: {@code p[(s * d + c) * NR + j]} = x[s NR + j, c], s in strips. */
        private static float[] strips(float[] x, int col, int tokens, int hd, int d, Scratch s) {
            int padded = (tokens + NR - 1) / NR * NR;
            float[] p = s.get(padded * d);
            for (int t = 0; t < padded; t++) {
                int base = (t / NR) * d * NR + t % NR;
                for (int c = 0; c < d; c++) {
                    p[base + c * NR] = t < tokens ? x[t * hd + col + c] : 0f;
                }
            }
            return p;
        }

        /** Strips of NR channels, tokens along k. */
        private static float[] channelStrips(float[] x, int col, int tokens, int hd, int d, Scratch s) {
            int strips = (d + NR - 1) / NR;
            float[] p = s.get(strips * tokens * NR);
            for (int st = 0; st < strips; st++) {
                for (int t = 0; t < tokens; t++) {
                    int dst = (st * tokens + t) * NR;
                    for (int j = 0; j < NR; j++) {
                        int c = st * NR + j;
                        p[dst + j] = c < d ? x[t * hd + col + c] : 0f;
                    }
                }
            }
            return p;
        }
    }
}
