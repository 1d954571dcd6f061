package dev.anyrefill.kernels.tornado;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * The device code: static methods TornadoVM compiles to OpenCL (or PTX). Each is written
 * against {@link KernelContext} (explicit work-items, work-groups and local memory), so a
 * kernel that TornadoVM could not compile and ran in Java instead would compute only work-item
 * 0 and the tests would see it.
 *
 * <p>Rules for code in this class: no allocation except local arrays, no exceptions, no
 * {@code Float.intBitsToFloat} (the OpenCL backend has no reinterpret), integer indexing only.
 */
final class DeviceKernels {
    /** Side of a square matmul tile; the work-group is TILE x TILE work-items. */
    static final int TILE = 16;
    /** Queries per attention work-group, and keys per tile of K and V in local memory. */
    static final int ATTN_BLOCK = 16;
    /** Largest head dimension the attention kernel holds in local memory (FLUX: 128). */
    static final int MAX_HEAD_DIM = 128;

    /** Activation codes, the device-side copy of {@link dev.anyrefill.kernels.Activation}. */
    static final int ACT_NONE = 0;
    static final int ACT_GELU_TANH = 1;
    static final int ACT_SILU = 2;
    static final int ACT_QUICK_GELU = 3;

    /** Norm kinds of {@link #normRows}. */
    static final int NORM_LAYER = 0;
    static final int NORM_RMS = 1;

    private DeviceKernels() {
    }

    /**
     * A BF16 word to F32 without bit reinterpretation: the 8-bit exponent picks a power of two
     * from {@code pow2} (256 entries, {@code pow2[e] = 2^(e-134)}, {@code pow2[0] = 2^-133}), the
     * 7-bit mantissa with its implicit leading one (none for subnormals) scales it.
     * Exact for every finite BF16 value.
     */
    static float bf16(int raw, FloatArray pow2) {
        int b = raw;
        if (b < 0) {
            b = b + 65536;
        }
        int e = (b >> 7) & 0xFF;
        int m = b & 0x7F;
        float mag = (e == 0 ? m : 128 + m) * pow2.get(e);
        return (b >> 15) == 1 ? -mag : mag;
    }

    /** The activations of {@link dev.anyrefill.kernels.Activation}, tanh written with exp. */
    static float activate(float x, int act) {
        float y = x;
        if (act == ACT_GELU_TANH) {
            float z = 0.7978845608028654f * (x + 0.044715f * x * x * x);
            float t = 1f - 2f / (TornadoMath.exp(2f * z) + 1f);
            y = 0.5f * x * (1f + t);
        } else if (act == ACT_SILU) {
            y = x / (1f + TornadoMath.exp(-x));
        } else if (act == ACT_QUICK_GELU) {
            y = x / (1f + TornadoMath.exp(-1.702f * x));
        }
        return y;
    }

    /**
     * {@code out = act(x W^T + bias)} with W in BF16: x [m, k], w [n, k] raw BF16 words,
     * bias [n], out [m, n]. Work-item (globalIdx, globalIdy) = (column j, row i); each
     * work-group stages a TILE x TILE tile of x and of W (widened once) in local memory per
     * step along k, so every weight word is read from global memory m / TILE times, not m.
     */
    static void linearBf16(KernelContext ctx, FloatArray x, ShortArray w, FloatArray pow2, FloatArray bias,
            FloatArray out, int m, int n, int k, int act) {
        int lc = ctx.localIdx;
        int lr = ctx.localIdy;
        int col = ctx.groupIdx * 16 + lc;
        int row = ctx.groupIdy * 16 + lr;
        int wRow = ctx.groupIdx * 16 + lr;
        float[] xs = ctx.allocateFloatLocalArray(256);
        float[] ws = ctx.allocateFloatLocalArray(256);
        float acc = 0f;
        for (int t = 0; t < k; t += 16) {
            int c = t + lc;
            float xv = 0f;
            if (row < m && c < k) {
                xv = x.get(row * k + c);
            }
            xs[lr * 16 + lc] = xv;
            float wv = 0f;
            if (wRow < n && c < k) {
                wv = bf16(w.get(wRow * k + c), pow2);
            }
            ws[lr * 16 + lc] = wv;
            ctx.localBarrier();
            for (int kk = 0; kk < 16; kk++) {
                acc += xs[lr * 16 + kk] * ws[lc * 16 + kk];
            }
            ctx.localBarrier();
        }
        if (row < m && col < n) {
            out.set(row * n + col, activate(acc + bias.get(col), act));
        }
    }

    /**
     * Flash attention, non-causal, no bias: out[i, h] = softmax_j(scale q_i.k_j) v_j for
     * q [lq, heads, d], k and v [lk, heads, d], out [lq, heads * d]. A work-group holds
     * ATTN_BLOCK queries of one head (globalIdx = query, globalIdy = head); K and V pass
     * through local memory ATTN_BLOCK keys at a time, and each query keeps a running max,
     * sum and output (online softmax), so no score matrix is ever stored.
     */
    static void flashAttention(KernelContext ctx, FloatArray q, FloatArray k, FloatArray v, FloatArray out,
            int lq, int lk, int heads, int d, float scale) {
        int lid = ctx.localIdx;
        int qi = ctx.globalIdx;
        int h = ctx.groupIdy;
        float[] qs = ctx.allocateFloatLocalArray(2048);
        float[] acc = ctx.allocateFloatLocalArray(2048);
        float[] ks = ctx.allocateFloatLocalArray(2048);
        float[] vs = ctx.allocateFloatLocalArray(2048);
        float[] scores = ctx.allocateFloatLocalArray(256);
        int hd = heads * d;
        int mine = lid * 128;
        for (int c = 0; c < d; c++) {
            float qv = 0f;
            if (qi < lq) {
                qv = q.get(qi * hd + h * d + c) * scale;
            }
            qs[mine + c] = qv;
            acc[mine + c] = 0f;
        }
        float runMax = -1e30f;
        float runSum = 0f;
        for (int j0 = 0; j0 < lk; j0 += 16) {
            int kj = j0 + lid;
            for (int c = 0; c < d; c++) {
                float kv = 0f;
                float vv = 0f;
                if (kj < lk) {
                    kv = k.get(kj * hd + h * d + c);
                    vv = v.get(kj * hd + h * d + c);
                }
                ks[mine + c] = kv;
                vs[mine + c] = vv;
            }
            ctx.localBarrier();
            int valid = lk - j0;
            if (valid > 16) {
                valid = 16;
            }
            float tileMax = runMax;
            for (int jj = 0; jj < valid; jj++) {
                float s = 0f;
                for (int c = 0; c < d; c++) {
                    s += qs[mine + c] * ks[jj * 128 + c];
                }
                scores[lid * 16 + jj] = s;
                tileMax = TornadoMath.max(tileMax, s);
            }
            float correction = TornadoMath.exp(runMax - tileMax);
            runSum = runSum * correction;
            for (int c = 0; c < d; c++) {
                acc[mine + c] = acc[mine + c] * correction;
            }
            for (int jj = 0; jj < valid; jj++) {
                float p = TornadoMath.exp(scores[lid * 16 + jj] - tileMax);
                runSum += p;
                for (int c = 0; c < d; c++) {
                    acc[mine + c] += p * vs[jj * 128 + c];
                }
            }
            runMax = tileMax;
            ctx.localBarrier();
        }
        if (qi < lq) {
            float inv = 1f / runSum;
            for (int c = 0; c < d; c++) {
                out.set(qi * hd + h * d + c, acc[mine + c] * inv);
            }
        }
    }

    /**
     * Row-wise normalisation of x [rows, cols], one work-item per row:
     * layer norm {@code (x - mean) * rsqrt(var + eps) * mul + add}, or RMS norm
     * {@code x * rsqrt(mean(x^2) + eps) * mul}; mul and add are [cols].
     */
    static void normRows(KernelContext ctx, FloatArray x, FloatArray mul, FloatArray add, FloatArray out,
            int rows, int cols, float eps, int kind) {
        int r = ctx.globalIdx;
        if (r < rows) {
            int base = r * cols;
            float mean = 0f;
            if (kind == NORM_LAYER) {
                for (int c = 0; c < cols; c++) {
                    mean += x.get(base + c);
                }
                mean = mean / cols;
            }
            float sq = 0f;
            for (int c = 0; c < cols; c++) {
                float dv = x.get(base + c) - mean;
                sq += dv * dv;
            }
            float inv = 1f / TornadoMath.sqrt(sq / cols + eps);
            for (int c = 0; c < cols; c++) {
                float y = (x.get(base + c) - mean) * inv * mul.get(c);
                if (kind == NORM_LAYER) {
                    y += add.get(c);
                }
                out.set(base + c, y);
            }
        }
    }

    /** Rotary embedding of x [l, heads, d] by pe [l, d/2, 2, 2]; one work-item per pair. */
    static void rope(KernelContext ctx, FloatArray x, FloatArray pe, FloatArray out, int l, int heads, int d) {
        int g = ctx.globalIdx;
        int half = d / 2;
        if (g < l * heads * half) {
            int i = g % half;
            int t = g / (heads * half);
            int at = (g / half) * d + 2 * i;
            int m = (t * half + i) * 4;
            float x0 = x.get(at);
            float x1 = x.get(at + 1);
            out.set(at, pe.get(m) * x0 + pe.get(m + 1) * x1);
            out.set(at + 1, pe.get(m + 2) * x0 + pe.get(m + 3) * x1);
        }
    }

    /** out = act(x), element-wise over n elements. */
    static void activation(KernelContext ctx, FloatArray x, FloatArray out, int n, int act) {
        int i = ctx.globalIdx;
        if (i < n) {
            out.set(i, activate(x.get(i), act));
        }
    }

    /** out = residual + gate[c] * x over [n / cols, cols]. */
    static void gatedResidual(KernelContext ctx, FloatArray residual, FloatArray gate, FloatArray x,
            FloatArray out, int n, int cols) {
        int i = ctx.globalIdx;
        if (i < n) {
            out.set(i, residual.get(i) + gate.get(i % cols) * x.get(i));
        }
    }
}
