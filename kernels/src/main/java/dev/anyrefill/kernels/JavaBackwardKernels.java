package dev.anyrefill.kernels;

import dev.anyrefill.kernels.cpu.ConvBackward;
import dev.anyrefill.kernels.cpu.Elementwise;
import dev.anyrefill.kernels.cpu.FlashAttention;
import dev.anyrefill.kernels.cpu.FlashAttentionBackward;
import dev.anyrefill.kernels.cpu.Gemm;
import dev.anyrefill.kernels.cpu.NormsBackward;
import dev.anyrefill.kernels.cpu.PlainKernels;
import dev.anyrefill.kernels.cpu.Widen;
import dev.anyrefill.tensor.Tensor;

/**
 * The pure-Java backend's backward operations (training), beside the forward ones of
 * {@link JavaKernels}: each checks shapes, then runs a kernel of {@code dev.anyrefill.kernels.cpu}
 * (the GEMM with the weight read untransposed, the flash-attention backward, the norms'
 * backward). Where a backward is a forward operation on other operands (RoPE's, a
 * transpose) it calls that operation through the interface.
 */
public abstract class JavaBackwardKernels implements Kernels {
    /** Whether attention's backward runs on {@link PlainKernels}' loops (the plain kernels' switch). */
    protected abstract boolean plain();

    // ---- backward (training) ----------------------------------------------------------------

    @Override
    public AttentionOutput attentionWithLogSumExp(Tensor q, Tensor k, Tensor v) {
        ShapeChecks.attention(q, k, v);
        int lq = q.dim(0);
        int heads = q.dim(1);
        int d = q.dim(2);
        float[] lse = new float[heads * lq];
        float[] out = FlashAttention.attention(q.data(), k.data(), v.data(), lq, k.dim(0), heads, d,
                (float) (1 / Math.sqrt(d)), null, 0, false, lse);
        return new AttentionOutput(Tensor.wrap(out, lq, heads * d), Tensor.wrap(lse, heads, lq));
    }

    @Override
    public AttentionGrads attentionBackward(Tensor q, Tensor k, Tensor v, AttentionOutput out, Tensor dOut) {
        ShapeChecks.attention(q, k, v);
        int lq = q.dim(0);
        int heads = q.dim(1);
        int d = q.dim(2);
        int lk = k.dim(0);
        if (out.out().size() != (long) lq * heads * d || dOut.size() != out.out().size()
                || out.lse().size() != (long) heads * lq) {
            throw new IllegalArgumentException("attentionBackward: q " + q + ", out " + out.out() + ", lse "
                    + out.lse() + ", dOut " + dOut);
        }
        float[] dq = new float[lq * heads * d];
        float[] dk = new float[lk * heads * d];
        float[] dv = new float[lk * heads * d];
        float scale = (float) (1 / Math.sqrt(d));
        if (plain()) {
            PlainKernels.attentionBackward(q.data(), k.data(), v.data(), dOut.data(), lq, lk, heads, d, scale, dq, dk, dv);
        } else {
            FlashAttentionBackward.backward(q.data(), k.data(), v.data(), out.out().data(), dOut.data(),
                    out.lse().data(), lq, lk, heads, d, scale, dq, dk, dv);
        }
        return new AttentionGrads(Tensor.wrap(dq, q.shape()), Tensor.wrap(dk, k.shape()), Tensor.wrap(dv, v.shape()));
    }

    @Override
    public Tensor linearBackwardInput(Tensor dy, Tensor w) {
        int m = dy.rows();
        int n = dy.cols();
        if (w.rank() != 2 || w.dim(0) != n) {
            throw new IllegalArgumentException("linearBackwardInput: gradient " + dy + " does not fit weight " + w);
        }
        int k = w.dim(1);
        float[] out = new float[Math.multiplyExact(m, k)];
        Gemm.multiply(dy.data(), m, n, w, Gemm.Layout.ROWS_ARE_INNER, k, null, Activation.NONE, out);
        int[] shape = dy.shape();
        shape[shape.length - 1] = k;
        return Tensor.wrap(out, shape);
    }

    @Override
    public Tensor linearBackwardWeight(Tensor dy, Tensor x) {
        int m = dy.rows();
        if (x.rows() != m) {
            throw new IllegalArgumentException("linearBackwardWeight: gradient " + dy + " and input " + x);
        }
        int n = dy.cols();
        int k = x.cols();
        // The product sums over the M rows (tokens), so one operand is read transposed; transpose
        // the narrower: dW = dy^T x (copies dy), or dW = (x^T dy)^T (copies x and the result). For
        // a LoRA's dB (dy of thousands of columns, x of rank 128) the second copies 13x less.
        if ((long) m * n <= (long) m * k + (long) n * k) {
            float[] dyT = transpose(dy.reshape(m, n)).data();
            float[] out = new float[Math.multiplyExact(n, k)];
            Gemm.multiply(dyT, n, m, x.reshape(m, k), Gemm.Layout.ROWS_ARE_INNER, k, null, Activation.NONE, out);
            return Tensor.wrap(out, n, k);
        }
        float[] xT = transpose(x.reshape(m, k)).data();
        float[] outT = new float[Math.multiplyExact(k, n)];
        Gemm.multiply(xT, k, m, dy.reshape(m, n), Gemm.Layout.ROWS_ARE_INNER, n, null, Activation.NONE, outT);
        return transpose(Tensor.wrap(outT, k, n));
    }

    @Override
    public Tensor sumRows(Tensor x) {
        float[] out = new float[x.cols()];
        Elementwise.columnSums(x.data(), x.rows(), x.cols(), out);
        return Tensor.wrap(out, x.cols());
    }

    @Override
    public Tensor activationBackward(Tensor x, Tensor dy, Activation act) {
        if (x.size() != dy.size()) {
            throw new IllegalArgumentException("activationBackward: x " + x + ", dy " + dy);
        }
        float[] dx = new float[Math.toIntExact(x.size())];
        Elementwise.activationBackward(x.data(), dy.data(), act, dx);
        return Tensor.wrap(dx, x.shape());
    }

    @Override
    public NormGrads layerNormModulateBackward(Tensor x, Tensor shift, Tensor scale, float eps, Tensor dy) {
        int c = x.cols();
        if (shift.size() != c || scale.size() != c || dy.size() != x.size()) {
            throw new IllegalArgumentException("layerNormModulateBackward: x " + x + ", shift " + shift
                    + ", scale " + scale + ", dy " + dy);
        }
        float[] dx = new float[Math.toIntExact(x.size())];
        float[] dyXhat = new float[dx.length];
        NormsBackward.layerNormModulate(x.data(), dy.data(), x.rows(), c, eps, scale.data(), dx, dyXhat);
        return new NormGrads(Tensor.wrap(dx, x.shape()), sumRows(Tensor.wrap(dyXhat, x.rows(), c)),
                sumRows(dy.reshape(x.rows(), c)));
    }

    @Override
    public NormGrads rmsNormBackward(Tensor x, Tensor scale, float eps, Tensor dy) {
        int c = x.cols();
        if (scale.size() != c || dy.size() != x.size()) {
            throw new IllegalArgumentException("rmsNormBackward: x " + x + ", scale " + scale + ", dy " + dy);
        }
        float[] dx = new float[Math.toIntExact(x.size())];
        float[] dyXhat = new float[dx.length];
        NormsBackward.rmsNorm(x.data(), dy.data(), x.rows(), c, eps, scale.toF32().data(), dx, dyXhat);
        return new NormGrads(Tensor.wrap(dx, x.shape()), sumRows(Tensor.wrap(dyXhat, x.rows(), c)), null);
    }

    @Override
    public Tensor ropeBackward(Tensor dy, Tensor pe) {
        float[] m = pe.data();
        float[] transposed = m.clone();
        for (int i = 0; i < m.length; i += 4) {
            transposed[i + 1] = m[i + 2];
            transposed[i + 2] = m[i + 1];
        }
        return rope(dy, Tensor.wrap(transposed, pe.shape()));
    }

    @Override
    public ConvGrads conv2dBackward(Tensor x, Tensor w, int stride, int[] padding, Tensor dy) {
        int cin = x.dim(0);
        int h = x.dim(1);
        int wd = x.dim(2);
        int cout = w.dim(0);
        int kh = w.dim(2);
        int kw = w.dim(3);
        int oh = (h + padding[0] + padding[1] - kh) / stride + 1;
        int ow = (wd + padding[2] + padding[3] - kw) / stride + 1;
        if (w.rank() != 4 || w.dim(1) != cin || dy.rank() != 3 || dy.dim(0) != cout || dy.dim(1) != oh
                || dy.dim(2) != ow) {
            throw new IllegalArgumentException("conv2dBackward: input " + x + ", weight " + w + ", gradient " + dy);
        }
        float[] dx = new float[Math.toIntExact(x.size())];
        float[] dw = new float[Math.toIntExact(w.size())];
        float[] db = new float[cout];
        float[] wF = new float[Math.toIntExact(w.size())];
        Widen.run(w, 0, wF, 0, wF.length);
        ConvBackward.backward(x.data(), cin, h, wd, wF, cout, kh, kw, stride, padding[0], padding[2], dy.data(), oh, ow,
                dx, dw, db);
        return new ConvGrads(Tensor.wrap(dx, x.shape()), Tensor.wrap(dw, w.shape()), Tensor.wrap(db, cout));
    }

    @Override
    public NormGrads groupNormBackward(Tensor x, int groups, Tensor weight, float eps, Tensor dy) {
        int channels = x.dim(0);
        if (channels % groups != 0 || weight.size() != channels || dy.size() != x.size()) {
            throw new IllegalArgumentException("groupNormBackward: x " + x + " in " + groups + " groups, weight "
                    + weight + ", dy " + dy);
        }
        int plane = Math.toIntExact(x.size() / channels);
        float[] dx = new float[Math.toIntExact(x.size())];
        float[] dw = new float[channels];
        float[] db = new float[channels];
        NormsBackward.groupNorm(x.data(), dy.data(), channels, plane, groups, weight.toF32().data(), eps, dx, dw, db);
        return new NormGrads(Tensor.wrap(dx, x.shape()), Tensor.wrap(dw, channels), Tensor.wrap(db, channels));
    }

    @Override
    public Tensor upsampleNearest2xBackward(Tensor dy) {
        int c = dy.dim(0);
        int h = dy.dim(1) / 2;
        int w = dy.dim(2) / 2;
        if (dy.rank() != 3 || dy.dim(1) != 2 * h || dy.dim(2) != 2 * w) {
            throw new IllegalArgumentException("upsampleNearest2xBackward: gradient " + dy + " is not [C, 2H, 2W]");
        }
        float[] g = dy.data();
        float[] dx = new float[c * h * w];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < 2 * h; y++) {
                int src = (ch * 2 * h + y) * 2 * w;
                int dst = (ch * h + y / 2) * w;
                for (int xx = 0; xx < 2 * w; xx++) {
                    dx[dst + xx / 2] += g[src + xx];
                }
            }
        }
        return Tensor.wrap(dx, c, h, w);
    }
}
