package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.tensor.Tensor;

/**
 * The operations that carry the model's arithmetic, written the obvious way: where a reader
 * starts before {@link Gemm}, {@link FlashAttention} and {@link FlashAttentionBackward}, and what {@code
 * -Danyrefill.kernels.plain=true} (or {@code new JavaKernels(true)}) runs instead of them, to
 * rule the fast kernels out when a result looks wrong. Single-threaded, no blocking, no
 * vectors; sums in double.
 */
public final class PlainKernels {
    private PlainKernels() {
    }

    /** {@code out[i][j] = act(sum_p x[i][p] w[j][p] + bias[j])}: x [M, K], w [N, K] in its stored type. */
    public static void linear(float[] x, int m, int k, Tensor w, int n, float[] bias, Activation act, float[] out) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = bias == null ? 0 : bias[j];
                for (int p = 0; p < k; p++) {
                    sum += x[i * k + p] * (double) w.getFloat((long) j * k + p);
                }
                out[i * n + j] = act.apply((float) sum);
            }
        }
    }

    /**
     * Scaled dot-product attention, one query and head at a time: scores {@code scale q.k (+ bias)},
     * keys after the query masked when causal, a softmax, then the weighted sum of v.
     * q [lq, heads, d], k and v [lk, heads, d], bias [biasHeads, lq, lk] or null; out [lq, heads * d].
     */
    public static float[] attention(float[] q, float[] k, float[] v, int lq, int lk, int heads, int d, float scale,
                                    float[] bias, int biasHeads, boolean causal) {
        int hd = heads * d;
        float[] out = new float[lq * hd];
        double[] p = new double[lk];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < lq; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < lk; j++) {
                    double s = 0;
                    for (int c = 0; c < d; c++) {
                        s += q[i * hd + h * d + c] * (double) k[j * hd + h * d + c];
                    }
                    s *= scale;
                    if (bias != null) {
                        s += bias[((biasHeads == 1 ? 0 : h) * lq + i) * lk + j];
                    }
                    p[j] = causal && j > i ? Double.NEGATIVE_INFINITY : s;
                    max = Math.max(max, p[j]);
                }
                double sum = 0;
                for (int j = 0; j < lk; j++) {
                    p[j] = Math.exp(p[j] - max);
                    sum += p[j];
                }
                for (int c = 0; c < d; c++) {
                    double o = 0;
                    for (int j = 0; j < lk; j++) {
                        o += p[j] * v[j * hd + h * d + c];
                    }
                    out[i * hd + h * d + c] = (float) (o / sum);
                }
            }
        }
        return out;
    }

    /**
     * The backward of non-causal, unbiased {@link #attention}, one query and head at a time:
     * the probabilities p again, then {@code dv_j += p_j dO}, {@code dp_j = dO . v_j},
     * {@code ds_j = p_j (dp_j - sum_j p_j dp_j)}, {@code dq += scale ds_j k_j} and
     * {@code dk_j += scale ds_j q}. Shapes as {@link FlashAttentionBackward#backward}; writes
     * dq [lq, heads * d] and dk, dv [lk, heads * d].
     */
    public static void attentionBackward(float[] q, float[] k, float[] v, float[] dOut, int lq, int lk, int heads, int d,
                                         float scale, float[] dq, float[] dk, float[] dv) {
        int hd = heads * d;
        double[] dqAcc = new double[lq * hd];
        double[] dkAcc = new double[lk * hd];
        double[] dvAcc = new double[lk * hd];
        double[] p = new double[lk];
        double[] dp = new double[lk];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < lq; i++) {
                int qi = i * hd + h * d;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < lk; j++) {
                    double s = 0;
                    for (int c = 0; c < d; c++) {
                        s += q[qi + c] * (double) k[j * hd + h * d + c];
                    }
                    p[j] = s * scale;
                    max = Math.max(max, p[j]);
                }
                double sum = 0;
                for (int j = 0; j < lk; j++) {
                    p[j] = Math.exp(p[j] - max);
                    sum += p[j];
                }
                double pdp = 0;
                for (int j = 0; j < lk; j++) {
                    p[j] /= sum;
                    double t = 0;
                    for (int c = 0; c < d; c++) {
                        t += dOut[qi + c] * (double) v[j * hd + h * d + c];
                        dvAcc[j * hd + h * d + c] += p[j] * dOut[qi + c];
                    }
                    dp[j] = t;
                    pdp += p[j] * t;
                }
                for (int j = 0; j < lk; j++) {
                    double ds = p[j] * (dp[j] - pdp) * scale;
                    for (int c = 0; c < d; c++) {
                        dqAcc[qi + c] += ds * k[j * hd + h * d + c];
                        dkAcc[j * hd + h * d + c] += ds * q[qi + c];
                    }
                }
            }
        }
        for (int i = 0; i < dqAcc.length; i++) {
            dq[i] = (float) dqAcc[i];
        }
        for (int i = 0; i < dkAcc.length; i++) {
            dk[i] = (float) dkAcc[i];
            dv[i] = (float) dvAcc[i];
        }
    }
}
