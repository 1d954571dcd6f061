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
    /** Side of a square output tile of the matmul (16 x 16 work-items, 4 x 4 outputs each). */
    static final int TILE = 64;
    /** Depth of the x and W tiles staged in local memory per step along k. */
    static final int TILE_K = 32;
    /** Up to this many rows of x, a linear layer uses {@link #linearFewRows} instead of tiles. */
    static final int FEW_ROWS = 8;
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
    /** FLUX's modulated layer norm: {@code norm(x) * (1 + mul) + add}, non-affine norm. */
    static final int NORM_LAYER_MODULATE = 2;

    /** Operations of {@link #binary}. */
    static final int OP_ADD = 0;
    static final int OP_MUL = 1;

    private DeviceKernels() {
    }

    /**
     * A BF16 word (sign-extended into an int) to F32, exactly, without bit reinterpretation
     * (which TornadoVM's OpenCL backend lacks) and without branches or table look-ups (which
     * keep a CPU OpenCL compiler from vectorising the loop around it).
     *
     * <p>A BF16 value is {@code +-(lead * 128 + mantissa) * 2^(max(e, 1) - 134)} (lead 0 for
     * subnormals). The low 4 exponent bits go in as an integer shift of the mantissa; each of
     * the high 4 bits picks one of two powers of two, {@code 2^(+-8)}, {@code 2^(+-16)},
     * {@code 2^(+-32)}, {@code 2^50 or 2^-78}, whose product is {@code 2^(16 hi - 134)}. The
     * factors are chosen so that a product of any subset of them (a fast-math compiler may
     * reassociate) neither overflows nor drops a bit: the result is exact in every order.
     * Inf and NaN words come out as infinities.
     */
    static float bf16(int raw) {
        int e = (raw >> 7) & 0xFF;
        int lead = Math.min(e, 1);
        e = Math.max(e, 1);
        int hi = e >> 4;
        float f0 = (hi & 1) * (0x1p8f - 0x1p-8f) + 0x1p-8f;
        float f1 = ((hi >> 1) & 1) * (0x1p16f - 0x1p-16f) + 0x1p-16f;
        float f2 = ((hi >> 2) & 1) * (0x1p32f - 0x1p-32f) + 0x1p-32f;
        float f3 = ((hi >> 3) & 1) * (0x1p50f - 0x1p-78f) + 0x1p-78f;
        float mantissa = (lead * 128 + (raw & 0x7F)) << (e & 15);
        return mantissa * f0 * f1 * f2 * f3 * (1 - 2 * ((raw >> 15) & 1));
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
     * {@code out = act(x W^T + bias)} with W in BF16, on padded shapes: x [mp, kp], w [np, kp]
     * raw BF16 words, bias [np], out [mp, np], with mp and np multiples of {@link #TILE} and kp
     * of {@link #TILE_K} (the host pads with zeros, so the kernel has no bounds checks). A
     * work-group of 16 x 16 work-items computes a TILE x TILE output tile, each work-item 4 rows
     * (4 ty .. 4 ty + 3) by 4 columns (tx, tx + 16, tx + 32, tx + 48) in registers, so that
     * neighbouring work-items read neighbouring local words and write neighbouring outputs. Per
     * step along k the group stages TILE rows of x and TILE rows of W (widened once, then used
     * by TILE rows of x) in local memory; W is stored k-major with a pitch of 65 floats.
     */
    static void linearBf16(KernelContext ctx, FloatArray x, ShortArray w, FloatArray bias, FloatArray out,
            int np, int kp, int act) {
        int tx = ctx.localIdx;
        int ty = ctx.localIdy;
        int lid = ty * 16 + tx;
        int col0 = ctx.groupIdx * 64;
        int row0 = ctx.groupIdy * 64;
        float[] xs = ctx.allocateFloatLocalArray(2048);
        float[] ws = ctx.allocateFloatLocalArray(2080);
        int xr = (ty * 4) * 32;
        float a00 = 0f;
        float a01 = 0f;
        float a02 = 0f;
        float a03 = 0f;
        float a10 = 0f;
        float a11 = 0f;
        float a12 = 0f;
        float a13 = 0f;
        float a20 = 0f;
        float a21 = 0f;
        float a22 = 0f;
        float a23 = 0f;
        float a30 = 0f;
        float a31 = 0f;
        float a32 = 0f;
        float a33 = 0f;
        for (int t = 0; t < kp; t += 32) {
            for (int q = 0; q < 8; q++) {
                int idx = q * 256 + lid;
                int r = idx >> 5;
                int kk = idx & 31;
                xs[idx] = x.get((row0 + r) * kp + t + kk);
                ws[kk * 65 + r] = bf16(w.get((col0 + r) * kp + t + kk));
            }
            ctx.localBarrier();
            for (int kk = 0; kk < 32; kk++) {
                float x0 = xs[xr + kk];
                float x1 = xs[xr + 32 + kk];
                float x2 = xs[xr + 64 + kk];
                float x3 = xs[xr + 96 + kk];
                int wk = kk * 65 + tx;
                float w0 = ws[wk];
                float w1 = ws[wk + 16];
                float w2 = ws[wk + 32];
                float w3 = ws[wk + 48];
                a00 += x0 * w0;
                a01 += x0 * w1;
                a02 += x0 * w2;
                a03 += x0 * w3;
                a10 += x1 * w0;
                a11 += x1 * w1;
                a12 += x1 * w2;
                a13 += x1 * w3;
                a20 += x2 * w0;
                a21 += x2 * w1;
                a22 += x2 * w2;
                a23 += x2 * w3;
                a30 += x3 * w0;
                a31 += x3 * w1;
                a32 += x3 * w2;
                a33 += x3 * w3;
            }
            ctx.localBarrier();
        }
        int c0 = col0 + tx;
        int o = (row0 + ty * 4) * np + c0;
        float b0 = bias.get(c0);
        float b1 = bias.get(c0 + 16);
        float b2 = bias.get(c0 + 32);
        float b3 = bias.get(c0 + 48);
        out.set(o + 0, activate(a00 + b0, act));
        out.set(o + 16, activate(a01 + b1, act));
        out.set(o + 32, activate(a02 + b2, act));
        out.set(o + 48, activate(a03 + b3, act));
        o += np;
        out.set(o + 0, activate(a10 + b0, act));
        out.set(o + 16, activate(a11 + b1, act));
        out.set(o + 32, activate(a12 + b2, act));
        out.set(o + 48, activate(a13 + b3, act));
        o += np;
        out.set(o + 0, activate(a20 + b0, act));
        out.set(o + 16, activate(a21 + b1, act));
        out.set(o + 32, activate(a22 + b2, act));
        out.set(o + 48, activate(a23 + b3, act));
        o += np;
        out.set(o + 0, activate(a30 + b0, act));
        out.set(o + 16, activate(a31 + b1, act));
        out.set(o + 32, activate(a32 + b2, act));
        out.set(o + 48, activate(a33 + b3, act));
    }

    /**
     * {@code out = act(x W^T + bias)} for a few rows of x (a modulation's one vector): x [m, kp],
     * w [np, kp] raw BF16 words (padded as for {@link #linearBf16}), out [m, np]. One work-item
     * per output column reads its weight row once per row of x; no tiles, so no wasted rows.
     */
    static void linearFewRows(KernelContext ctx, FloatArray x, ShortArray w, FloatArray bias, FloatArray out,
            int m, int np, int kp, int act) {
        int c = ctx.globalIdx;
        int wo = c * kp;
        float b = bias.get(c);
        for (int r = 0; r < m; r++) {
            int xo = r * kp;
            float acc = 0f;
            for (int kk = 0; kk < kp; kk++) {
                acc += x.get(xo + kk) * bf16(w.get(wo + kk));
            }
            out.set(r * np + c, activate(acc + b, act));
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
     * Row-wise normalisation of x [rows, cols], one work-item per row: layer norm
     * {@code (x - mean) * rsqrt(var + eps) * mul + add}, RMS norm
     * {@code x * rsqrt(mean(x^2) + eps) * mul}, or FLUX's modulation
     * {@code (x - mean) * rsqrt(var + eps) * (1 + mul) + add}; mul and add are [cols]
     * (ones and zeros where a norm has no weight or bias).
     */
    static void normRows(KernelContext ctx, FloatArray x, FloatArray mul, FloatArray add, FloatArray out,
            int rows, int cols, float eps, int kind) {
        int r = ctx.globalIdx;
        if (r < rows) {
            int base = r * cols;
            float mean = 0f;
            if (kind != NORM_RMS) {
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
            float one = kind == NORM_LAYER_MODULATE ? 1f : 0f;
            float withAdd = kind == NORM_RMS ? 0f : 1f;
            for (int c = 0; c < cols; c++) {
                out.set(base + c, (x.get(base + c) - mean) * inv * (one + mul.get(c)) + withAdd * add.get(c));
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

    /** out = a * s, element-wise over n elements. */
    static void scale(KernelContext ctx, FloatArray a, FloatArray out, int n, float s) {
        int i = ctx.globalIdx;
        if (i < n) {
            out.set(i, a.get(i) * s);
        }
    }

    /**
     * out = a op b over n elements, with b of bn elements repeated (bn = n, or one row of a
     * broadcast over all its rows).
     */
    static void binary(KernelContext ctx, FloatArray a, FloatArray b, FloatArray out, int n, int bn, int op) {
        int i = ctx.globalIdx;
        if (i < n) {
            float y = b.get(i % bn);
            out.set(i, op == OP_MUL ? a.get(i) * y : a.get(i) + y);
        }
    }

    /**
     * The one layout kernel (slices, concatenations, padding): a block of rows x cols floats,
     * {@code dst[dstOff + r * dstPitch + c] = src[srcOff + r * srcPitch + c]} where
     * {@code r < validRows} and {@code c < validCols}, zero elsewhere in the block (the padding
     * of a tiled matmul's operands). One work-item per element of the block.
     */
    static void copy(KernelContext ctx, FloatArray src, FloatArray dst, int srcOff, int srcPitch, int dstOff,
            int dstPitch, int cols, int validRows, int validCols, int n) {
        int g = ctx.globalIdx;
        if (g < n) {
            int r = g / cols;
            int c = g - r * cols;
            float v = 0f;
            if (r < validRows && c < validCols) {
                v = src.get(srcOff + r * srcPitch + c);
            }
            dst.set(dstOff + r * dstPitch + c, v);
        }
    }
}
