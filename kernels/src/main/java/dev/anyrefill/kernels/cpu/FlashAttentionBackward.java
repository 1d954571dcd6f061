package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Parallel;
import dev.anyrefill.kernels.cpu.BlockProduct.View;

import java.util.Arrays;

/**
 * The backward of non-causal, unbiased attention {@code O = softmax(scale Q K^T) V} (FLUX's),
 * flash-attention style (Dao, FlashAttention-2, algorithm 2): the probabilities are recomputed
 * tile by tile from Q, K and the forward's log-sum-exp per query, so the L x L matrices never
 * exist. Per tile of {@link #BQ} queries and {@link #BK} keys:
 * <pre>
 *   P  = exp(scale Q K^T - lse)         the forward's probabilities
 *   dV += P^T dO
 *   dP = dO V^T
 *   dS = P * (dP - D),  D = rowsum(dO * O)   (the softmax's backward; D once per query)
 *   dQ += scale dS K,   dK += scale dS^T Q
 * </pre>
 * One task per head, so every task owns its columns of dQ, dK and dV and nothing is shared;
 * the five products run on {@link BlockProduct}.
 */
public final class FlashAttentionBackward {
    static final int BQ = 64;
    static final int BK = 64;

    private static final Scratch P = new Scratch();
    private static final Scratch DP = new Scratch();
    private static final Scratch D = new Scratch();

    private FlashAttentionBackward() {
    }

    /**
     * q [lq, heads, d], k and v [lk, heads, d], out and dOut [lq, heads * d], lse [heads, lq];
     * writes dq [lq, heads * d] and dk, dv [lk, heads * d] (overwritten).
     */
    public static void backward(float[] q, float[] k, float[] v, float[] out, float[] dOut, float[] lse,
                                int lq, int lk, int heads, int d, float scale,
                                float[] dq, float[] dk, float[] dv) {
        int hd = heads * d;
        Arrays.fill(dq, 0f);
        Arrays.fill(dk, 0f);
        Arrays.fill(dv, 0f);
        Parallel.forRange(heads, h -> {
            float[] p = P.get(BQ * BK);
            float[] dp = DP.get(BQ * BK);
            float[] dRow = D.get(lq);
            int col = h * d;
            for (int i = 0; i < lq; i++) {
                dRow[i] = VectorMath.dot(dOut, i * hd + col, out, i * hd + col, d);
            }
            for (int j0 = 0; j0 < lk; j0 += BK) {
                int kn = Math.min(BK, lk - j0);
                View kT = new View(k, j0 * hd + col, 1, hd);      // K_j^T [d, kn]
                View vT = new View(v, j0 * hd + col, 1, hd);      // V_j^T [d, kn]
                View kj = new View(k, j0 * hd + col, hd, 1);      // K_j [kn, d]
                for (int i0 = 0; i0 < lq; i0 += BQ) {
                    int qn = Math.min(BQ, lq - i0);
                    View qi = new View(q, i0 * hd + col, hd, 1);      // Q_i [qn, d]
                    View dOi = new View(dOut, i0 * hd + col, hd, 1);  // dO_i [qn, d]
                    Arrays.fill(p, 0, qn * BK, 0f);
                    Arrays.fill(dp, 0, qn * BK, 0f);
                    BlockProduct.multiplyAdd(qi, kT, qn, kn, d, p, 0, BK);     // S = Q K^T
                    BlockProduct.multiplyAdd(dOi, vT, qn, kn, d, dp, 0, BK);   // dP = dO V^T
                    for (int r = 0; r < qn; r++) {
                        float l = lse[h * lq + i0 + r];
                        float di = dRow[i0 + r];
                        for (int c = 0; c < kn; c++) {
                            int at = r * BK + c;
                            float pr = VectorMath.exp(scale * p[at] - l);
                            p[at] = pr;
                            dp[at] = scale * pr * (dp[at] - di);                // scale dS
                        }
                    }
                    // dV_j += P^T dO_i, dK_j += (scale dS)^T Q_i, dQ_i += (scale dS) K_j
                    BlockProduct.multiplyAdd(new View(p, 0, 1, BK), dOi, kn, d, qn, dv, j0 * hd + col, hd);
                    BlockProduct.multiplyAdd(new View(dp, 0, 1, BK), qi, kn, d, qn, dk, j0 * hd + col, hd);
                    BlockProduct.multiplyAdd(new View(dp, 0, BK, 1), kj, qn, d, kn, dq, i0 * hd + col, hd);
                }
            }
        });
    }
}
