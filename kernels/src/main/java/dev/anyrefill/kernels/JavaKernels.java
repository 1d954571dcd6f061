package dev.anyrefill.kernels;

import dev.anyrefill.kernels.cpu.Conv2d;
import dev.anyrefill.kernels.cpu.Elementwise;
import dev.anyrefill.kernels.cpu.FlashAttention;
import dev.anyrefill.kernels.cpu.Gemm;
import dev.anyrefill.kernels.cpu.Norms;
import dev.anyrefill.kernels.cpu.Widen;
import dev.anyrefill.tensor.Tensor;

import java.util.Arrays;

/**
 * The pure-Java backend: checks shapes, then hands the arithmetic to the Vector API kernels
 * of {@code dev.anyrefill.kernels.cpu} (register-blocked GEMM, flash attention, fused norms)
 * running on the {@link Parallel} pool. Each method is one well-defined operation so a
 * faster implementation can replace it alone. The backward operations (training) are in
 * {@link JavaBackwardKernels}.
 */
public class JavaKernels extends JavaBackwardKernels {
    @Override
    public String name() {
        return "java";
    }

    // ---- linear algebra -------------------------------------------------------------------

    @Override
    public Tensor linear(Tensor x, Tensor w, Tensor bias, Activation act) {
        int k = x.cols();
        int m = x.rows();
        if (w.rank() != 2 || w.dim(1) != k) {
            throw new IllegalArgumentException("linear: input " + x + " does not fit weight " + w);
        }
        int n = w.dim(0);
        if (bias != null && bias.size() != n) {
            throw new IllegalArgumentException("linear: bias " + bias + " for weight " + w);
        }
        if (!Widen.supports(w.dtype())) {
            throw new IllegalArgumentException("linear: weight " + w + " is not a floating-point type");
        }
        float[] out = new float[Math.multiplyExact(m, n)];
        float[] b = bias == null ? null : bias.toF32().data();
        Gemm.linear(x.data(), m, k, w, n, b, act, out);
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
        checkAttention(q, k, v);
        int biasHeads = bias == null ? 0 : bias.dim(0);
        if (bias != null && (bias.rank() != 3 || (biasHeads != 1 && biasHeads != heads)
                || bias.dim(1) != lq || bias.dim(2) != lk)) {
            throw new IllegalArgumentException("attention: bias " + bias + " for q " + q + ", k " + k);
        }
        float[] bs = bias == null ? null : bias.toF32().data();
        float[] out = FlashAttention.attention(q.data(), k.data(), v.data(), lq, lk, heads, d,
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
        int c = x.cols();
        if (shift.size() != c || scale.size() != c) {
            throw new IllegalArgumentException("layerNormModulate: x " + x + ", shift " + shift + ", scale " + scale);
        }
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
        float[] x = a.data();
        float[] y = b.data();
        if (y.length != x.length && (y.length != a.cols() || b.size() != a.cols())) {
            throw new IllegalArgumentException("cannot combine " + a + " with " + b);
        }
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
        float[] r = residual.data();
        float[] g = gate.data();
        float[] in = x.data();
        int c = residual.cols();
        if (in.length != r.length || g.length != c) {
            throw new IllegalArgumentException("gatedResidual: " + residual + ", gate " + gate + ", x " + x);
        }
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
        if (pe.dim(0) != l || pe.dim(1) != d / 2 || d % 2 != 0) {
            throw new IllegalArgumentException("rope: x " + x + " with pe " + pe);
        }
        float[] out = new float[Math.toIntExact(x.size())];
        Elementwise.rope(x.data(), pe.data(), l, heads, d, out);
        return Tensor.wrap(out, x.shape());
    }

    // ---- layout -----------------------------------------------------------------------------

    /** The shape of parts concatenated along the first dimension; an error unless their other dimensions agree. */
    protected static int[] concatRowsShape(Tensor... parts) {
        int[] shape = parts[0].shape();
        int rowSize = Math.toIntExact(parts[0].size() / Math.max(1, shape[0]));
        int rows = 0;
        for (Tensor p : parts) {
            if (p.size() != (long) p.dim(0) * rowSize) {
                throw new IllegalArgumentException("concatRows: " + Arrays.toString(parts));
            }
            rows += p.dim(0);
        }
        shape[0] = rows;
        return shape;
    }

    /** The shape of parts concatenated along the last dimension; an error unless their row counts agree. */
    protected static int[] concatColumnsShape(Tensor... parts) {
        int rows = parts[0].rows();
        int cols = 0;
        for (Tensor p : parts) {
            if (p.rows() != rows) {
                throw new IllegalArgumentException("concatColumns: " + Arrays.toString(parts));
            }
            cols += p.cols();
        }
        int[] shape = parts[0].shape();
        shape[shape.length - 1] = cols;
        return shape;
    }

    @Override
    public Tensor concatRows(Tensor... parts) {
        int[] shape = concatRowsShape(parts);
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
        int[] shape = concatColumnsShape(parts);
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
        int c = x.cols();
        if (from < 0 || to > c || from > to) {
            throw new IndexOutOfBoundsException("columns [" + from + ", " + to + ") of " + x);
        }
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

    // ---- added for the VAE: fused group norm + activation -----------------------------------

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, Activation act) {
        Tensor y = groupNorm(x, groups, weight, bias, eps);
        float[] out = y.data(); // our own fresh buffer: the activation goes in place
        Elementwise.activation(out, act, out);
        return y;
    }
}
