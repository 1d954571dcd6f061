package dev.anyrefill.kernels;

import dev.anyrefill.kernels.cpu.Conv2d;
import dev.anyrefill.kernels.cpu.Elementwise;
import dev.anyrefill.kernels.cpu.FlashAttention;
import dev.anyrefill.kernels.cpu.Gemm;
import dev.anyrefill.kernels.cpu.Norms;
import dev.anyrefill.kernels.cpu.PlainKernels;
import dev.anyrefill.kernels.cpu.Widen;
import dev.anyrefill.tensor.Tensor;


/**
 * The pure-Java backend: checks shapes, then hands the arithmetic to the Vector API kernels
 * of {@code dev.anyrefill.kernels.cpu} (register-blocked GEMM, flash attention, fused norms)
 * running on the {@link Parallel} pool. Each method is one well-defined operation so a
 * faster implementation can replace it alone. The backward operations (training) are in
 * {@link JavaBackwardKernels}.
 */
public class JavaKernels extends JavaBackwardKernels {
    /** The system property that makes {@link Backends#java()} use the plain kernels. */
    public static final String PLAIN_PROPERTY = "anyrefill.kernels.plain";

    private final boolean plain;

    public JavaKernels() {
        this(false);
    }

    /**
     * @param plain run linear layers and attention (both ways) on {@link PlainKernels} (obvious loops, slow)
     *              instead of the blocked Vector API kernels
     */
    public JavaKernels(boolean plain) {
        this.plain = plain;
    }

    @Override
    public String name() {
        return plain ? "java-plain" : "java";
    }

    @Override
    protected boolean plain() {
        return plain;
    }

    // ---- linear algebra -------------------------------------------------------------------

    @Override
    public Tensor linear(Tensor x, Tensor w, Tensor bias, Activation act) {
        int n = ShapeChecks.linear(x, w, bias);
        int k = x.cols();
        int m = x.rows();
        if (!Widen.supports(w.dtype())) {
            throw new IllegalArgumentException("linear: weight " + w + " is not a floating-point type");
        }
        float[] out = new float[Math.multiplyExact(m, n)];
        float[] b = bias == null ? null : bias.toF32().data();
        if (plain) {
            PlainKernels.linear(x.data(), m, k, w, n, b, act, out);
        } else {
            Gemm.linear(x.data(), m, k, w, n, b, act, out);
        }
        int[] shape = x.shape();
        shape[shape.length - 1] = n;
        return Tensor.wrap(out, shape);
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, float scale, Tensor bias, boolean causal) {
        int lq = q.dim(0);
        int heads = q.dim(1);
        int d = q.dim(2);
        int lk = k.dim(0);
        ShapeChecks.attention(q, k, v);
        int biasHeads = bias == null ? 0 : bias.dim(0);
        if (bias != null && (bias.rank() != 3 || (biasHeads != 1 && biasHeads != heads)
                || bias.dim(1) != lq || bias.dim(2) != lk)) {
            throw new IllegalArgumentException("attention: bias " + bias + " for q " + q + ", k " + k);
        }
        float[] bs = bias == null ? null : bias.toF32().data();
        float[] out = plain ? PlainKernels.attention(q.data(), k.data(), v.data(), lq, lk, heads, d, scale, bs,
                biasHeads, causal) : FlashAttention.attention(q.data(), k.data(), v.data(), lq, lk, heads, d,
                scale, bs, biasHeads, causal);
        return Tensor.wrap(out, lq, heads * d);
    }

    // ---- normalisation --------------------------------------------------------------------

    @Override
    public Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        int c = x.cols();
        float[] w = weight == null ? null : weight.toF32().data();
        float[] b = bias == null ? null : bias.toF32().data();
        float[] out = new float[Math.toIntExact(x.size())];
        Norms.layerNorm(x.data(), x.rows(), c, eps, w, b, out);
        return Tensor.wrap(out, x.shape());
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor scale, float eps) {
        float[] out = new float[Math.toIntExact(x.size())];
        Norms.rmsNorm(x.data(), x.rows(), x.cols(), eps, scale.toF32().data(), out);
        return Tensor.wrap(out, x.shape());
    }

    @Override
    public Tensor layerNormModulate(Tensor x, Tensor shift, Tensor scale, float eps) {
        ShapeChecks.layerNormModulate(x, shift, scale);
        int c = x.cols();
        float[] sc = scale.data();
        float[] onePlusScale = new float[c];
        for (int i = 0; i < c; i++) {
            onePlusScale[i] = 1 + sc[i];
        }
        float[] out = new float[Math.toIntExact(x.size())];
        Norms.layerNorm(x.data(), x.rows(), c, eps, onePlusScale, shift.data(), out);
        return Tensor.wrap(out, x.shape());
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        int channels = x.dim(0);
        int plane = Math.toIntExact(x.size() / channels);
        if (channels % groups != 0) {
            throw new IllegalArgumentException("groupNorm: " + channels + " channels in " + groups + " groups");
        }
        float[] out = new float[Math.toIntExact(x.size())];
        Norms.groupNorm(x.data(), channels, plane, groups, weight.toF32().data(), bias.toF32().data(), eps, out);
        return Tensor.wrap(out, x.shape());
    }

    // ---- element-wise ---------------------------------------------------------------------

    @Override
    public Tensor activation(Tensor x, Activation act) {
        float[] out = new float[Math.toIntExact(x.size())];
        Elementwise.activation(x.data(), act, out);
        return Tensor.wrap(out, x.shape());
    }

    @Override
    public Tensor add(Tensor a, Tensor b) {
        return zip(a, b, Elementwise.Op.ADD);
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        return zip(a, b, Elementwise.Op.MUL);
    }

    private static Tensor zip(Tensor a, Tensor b, Elementwise.Op op) {
        ShapeChecks.elementwise(a, b);
        float[] x = a.data();
        float[] y = b.data();
        float[] out = new float[x.length];
        Elementwise.zip(x, y, op, out);
        return Tensor.wrap(out, a.shape());
    }

    @Override
    public Tensor scale(Tensor a, float s) {
        float[] out = new float[Math.toIntExact(a.size())];
        Elementwise.scale(a.data(), s, out);
        return Tensor.wrap(out, a.shape());
    }

    @Override
    public Tensor gatedResidual(Tensor residual, Tensor gate, Tensor x) {
        ShapeChecks.gatedResidual(residual, gate, x);
        float[] r = residual.data();
        float[] g = gate.data();
        float[] in = x.data();
        int c = residual.cols();
        float[] out = new float[r.length];
        Elementwise.gatedResidual(r, g, in, c, out);
        return Tensor.wrap(out, residual.shape());
    }

    @Override
    public void axpyInPlace(Tensor x, float s, Tensor y) {
        float[] a = x.data();
        float[] b = y.data();
        if (a.length != b.length) {
            throw new IllegalArgumentException("axpy: " + x + " and " + y);
        }
        Elementwise.axpy(a, s, b);
    }

    // ---- positions --------------------------------------------------------------------------

    @Override
    public Tensor rope(Tensor x, Tensor pe) {
        int l = x.dim(0);
        int heads = x.dim(1);
        int d = x.dim(2);
        ShapeChecks.rope(x, pe);
        float[] out = new float[Math.toIntExact(x.size())];
        Elementwise.rope(x.data(), pe.data(), l, heads, d, out);
        return Tensor.wrap(out, x.shape());
    }

    // ---- layout -----------------------------------------------------------------------------

    @Override
    public Tensor concatRows(Tensor... parts) {
        int[] shape = ShapeChecks.concatRows(parts);
        float[] out = new float[Math.toIntExact(Tensor.count(shape))];
        int at = 0;
        for (Tensor p : parts) {
            int n = Math.toIntExact(p.size());
            p.toFloats(0, out, at, n);
            at += n;
        }
        return Tensor.wrap(out, shape);
    }

    @Override
    public Tensor concatColumns(Tensor... parts) {
        int[] shape = ShapeChecks.concatColumns(parts);
        int rows = parts[0].rows();
        int cols = shape[shape.length - 1];
        float[] out = new float[rows * cols];
        int offset = 0;
        for (Tensor p : parts) {
            float[] in = p.data();
            int c = p.cols();
            for (int r = 0; r < rows; r++) {
                System.arraycopy(in, r * c, out, r * cols + offset, c);
            }
            offset += c;
        }
        return Tensor.wrap(out, shape);
    }

    @Override
    public Tensor sliceColumns(Tensor x, int from, int to) {
        ShapeChecks.columns(x, from, to);
        int c = x.cols();
        int rows = x.rows();
        int w = to - from;
        float[] in = x.data();
        float[] out = new float[rows * w];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(in, r * c + from, out, r * w, w);
        }
        int[] shape = x.shape();
        shape[shape.length - 1] = w;
        return Tensor.wrap(out, shape);
    }

    @Override
    public Tensor sliceRows(Tensor x, int from, int to) {
        return x.sliceRows(from, to);
    }

    @Override
    public Tensor transpose(Tensor x) {
        int r = x.dim(0);
        int c = x.dim(1);
        float[] in = x.data();
        float[] out = new float[in.length];
        Parallel.forChunks(r, 64, (from, to) -> {
            for (int i = from; i < to; i++) {
                for (int j = 0; j < c; j++) {
                    out[j * r + i] = in[i * c + j];
                }
            }
        });
        return Tensor.wrap(out, c, r);
    }

    @Override
    public Tensor gatherRows(Tensor table, int[] ids) {
        int c = table.dim(1);
        int vocab = table.dim(0);
        float[] out = new float[ids.length * c];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IndexOutOfBoundsException("id " + ids[i] + " outside a table of " + vocab + " rows");
            }
            table.toFloats((long) ids[i] * c, out, i * c, c);
        }
        return Tensor.wrap(out, ids.length, c);
    }

    // ---- images -----------------------------------------------------------------------------

    @Override
    public Tensor conv2d(Tensor x, Tensor w, Tensor bias, int stride, int[] padding) {
        int cin = x.dim(0);
        int h = x.dim(1);
        int wd = x.dim(2);
        int cout = w.dim(0);
        int kh = w.dim(2);
        int kw = w.dim(3);
        if (w.rank() != 4 || w.dim(1) != cin) {
            throw new IllegalArgumentException("conv2d: input " + x + " with weight " + w);
        }
        int oh = (h + padding[0] + padding[1] - kh) / stride + 1;
        int ow = (wd + padding[2] + padding[3] - kw) / stride + 1;
        float[] wF = new float[Math.toIntExact(w.size())];
        Widen.run(w, 0, wF, 0, wF.length);
        float[] b = bias == null ? null : bias.toF32().data();
        float[] out = new float[cout * oh * ow];
        Conv2d.conv(x.data(), cin, h, wd, wF, cout, kh, kw, b, stride, padding[0], padding[2], oh, ow, out);
        return Tensor.wrap(out, cout, oh, ow);
    }

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        int c = x.dim(0);
        int h = x.dim(1);
        int w = x.dim(2);
        float[] in = x.data();
        float[] out = new float[c * 4 * h * w];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < 2 * h; y++) {
                int src = (ch * h + y / 2) * w;
                int dst = (ch * 2 * h + y) * 2 * w;
                for (int xx = 0; xx < 2 * w; xx++) {
                    out[dst + xx] = in[src + xx / 2];
                }
            }
        }
        return Tensor.wrap(out, c, 2 * h, 2 * w);
    }

    // ---- fused group norm + activation (the VAE) ---------------------------------------------

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, Activation act) {
        Tensor y = groupNorm(x, groups, weight, bias, eps);
        float[] out = y.data(); // our own fresh buffer: the activation goes in place
        Elementwise.activation(out, act, out);
        return y;
    }
}
