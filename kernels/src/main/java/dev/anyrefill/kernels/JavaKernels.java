package dev.anyrefill.kernels;

import dev.anyrefill.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * The pure-Java backend: plain loops over arrays, the Vector API for inner products, and the
 * {@link Parallel} pool for the outer loops. Each method is one well-defined operation so a
 * faster implementation can replace it alone.
 */
public class JavaKernels implements Kernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

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
        float[] xs = x.data();
        float[] out = new float[Math.multiplyExact(m, n)];
        float[] b = bias == null ? null : bias.toF32().data();
        // Parallel over output columns: each weight row is widened once and used for every x row.
        Parallel.forChunks(n, 16, (from, to) -> {
            float[] wRow = new float[k];
            for (int j = from; j < to; j++) {
                w.toFloats((long) j * k, wRow, 0, k);
                float bj = b == null ? 0f : b[j];
                for (int i = 0; i < m; i++) {
                    out[i * n + j] = act.apply(dot(xs, i * k, wRow, 0, k) + bj);
                }
            }
        });
        int[] shape = x.shape();
        shape[shape.length - 1] = n;
        return Tensor.wrap(out, shape);
    }

    static float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        int upper = F.loopBound(len);
        for (; i < upper; i += F.length()) {
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, float scale, Tensor bias, boolean causal) {
        int lq = q.dim(0);
        int heads = q.dim(1);
        int d = q.dim(2);
        int lk = k.dim(0);
        if (k.dim(1) != heads || k.dim(2) != d || v.dim(0) != lk || v.dim(1) != heads || v.dim(2) != d) {
            throw new IllegalArgumentException("attention: q " + q + ", k " + k + ", v " + v);
        }
        float[] qs = q.data();
        float[] ks = k.data();
        float[] vs = v.data();
        float[] bs = bias == null ? null : bias.toF32().data();
        int biasHeads = bias == null ? 0 : bias.dim(0);
        int hd = heads * d;
        float[] out = new float[lq * hd];
        Parallel.forChunks(heads * lq, 8, (from, to) -> {
            float[] scores = new float[lk];
            float[] acc = new float[d];
            for (int task = from; task < to; task++) {
                int h = task / lq;
                int i = task % lq;
                int keys = causal ? Math.min(lk, i + 1) : lk;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < keys; j++) {
                    float s = scale * dot(qs, i * hd + h * d, ks, j * hd + h * d, d);
                    if (bs != null) {
                        s += bs[((biasHeads == 1 ? 0 : h) * lq + i) * lk + j];
                    }
                    scores[j] = s;
                    max = Math.max(max, s);
                }
                Arrays.fill(acc, 0f);
                float sum = 0;
                for (int j = 0; j < keys; j++) {
                    float p = max == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(scores[j] - max);
                    sum += p;
                    int vOff = j * hd + h * d;
                    for (int c = 0; c < d; c++) {
                        acc[c] += p * vs[vOff + c];
                    }
                }
                float inv = sum == 0 ? 0f : 1f / sum;
                int oOff = i * hd + h * d;
                for (int c = 0; c < d; c++) {
                    out[oOff + c] = acc[c] * inv;
                }
            }
        });
        return Tensor.wrap(out, lq, hd);
    }

    // ---- normalisation --------------------------------------------------------------------

    @Override
    public Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        int c = x.cols();
        float[] w = weight == null ? null : weight.toF32().data();
        float[] b = bias == null ? null : bias.toF32().data();
        return rowWise(x, (in, off, out) -> {
            double mean = 0;
            for (int i = 0; i < c; i++) {
                mean += in[off + i];
            }
            mean /= c;
            double var = 0;
            for (int i = 0; i < c; i++) {
                double dv = in[off + i] - mean;
                var += dv * dv;
            }
            float inv = (float) (1 / Math.sqrt(var / c + eps));
            for (int i = 0; i < c; i++) {
                float y = (float) (in[off + i] - mean) * inv;
                if (w != null) {
                    y *= w[i];
                }
                if (b != null) {
                    y += b[i];
                }
                out[off + i] = y;
            }
        });
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor scale, float eps) {
        int c = x.cols();
        float[] s = scale.toF32().data();
        return rowWise(x, (in, off, out) -> {
            double sq = 0;
            for (int i = 0; i < c; i++) {
                sq += (double) in[off + i] * in[off + i];
            }
            float inv = (float) (1 / Math.sqrt(sq / c + eps));
            for (int i = 0; i < c; i++) {
                out[off + i] = in[off + i] * inv * s[i];
            }
        });
    }

    @Override
    public Tensor layerNormModulate(Tensor x, Tensor shift, Tensor scale, float eps) {
        int c = x.cols();
        float[] sh = shift.data();
        float[] sc = scale.data();
        Tensor normed = layerNorm(x, null, null, eps);
        float[] o = normed.data();
        Parallel.forChunks(x.rows(), 64, (from, to) -> {
            for (int r = from; r < to; r++) {
                int off = r * c;
                for (int i = 0; i < c; i++) {
                    o[off + i] = (1 + sc[i]) * o[off + i] + sh[i];
                }
            }
        });
        return normed;
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        int channels = x.dim(0);
        int plane = Math.toIntExact(x.size() / channels);
        if (channels % groups != 0) {
            throw new IllegalArgumentException("groupNorm: " + channels + " channels in " + groups + " groups");
        }
        int per = channels / groups;
        float[] in = x.data();
        float[] w = weight.toF32().data();
        float[] b = bias.toF32().data();
        float[] out = new float[in.length];
        Parallel.forRange(groups, g -> {
            int start = g * per * plane;
            int len = per * plane;
            double mean = 0;
            for (int i = 0; i < len; i++) {
                mean += in[start + i];
            }
            mean /= len;
            double var = 0;
            for (int i = 0; i < len; i++) {
                double dv = in[start + i] - mean;
                var += dv * dv;
            }
            float inv = (float) (1 / Math.sqrt(var / len + eps));
            for (int ch = g * per; ch < (g + 1) * per; ch++) {
                for (int i = 0; i < plane; i++) {
                    int at = ch * plane + i;
                    out[at] = (float) (in[at] - mean) * inv * w[ch] + b[ch];
                }
            }
        });
        return Tensor.wrap(out, x.shape());
    }

    private interface RowOp {
        void apply(float[] in, int offset, float[] out);
    }

    private static Tensor rowWise(Tensor x, RowOp op) {
        int c = x.cols();
        float[] in = x.data();
        float[] out = new float[in.length];
        Parallel.forChunks(x.rows(), 16, (from, to) -> {
            for (int r = from; r < to; r++) {
                op.apply(in, r * c, out);
            }
        });
        return Tensor.wrap(out, x.shape());
    }

    // ---- element-wise ---------------------------------------------------------------------

    @Override
    public Tensor activation(Tensor x, Activation act) {
        float[] in = x.data();
        float[] out = new float[in.length];
        Parallel.forChunks(in.length, 4096, (from, to) -> {
            for (int i = from; i < to; i++) {
                out[i] = act.apply(in[i]);
            }
        });
        return Tensor.wrap(out, x.shape());
    }

    @Override
    public Tensor add(Tensor a, Tensor b) {
        return zip(a, b, Float::sum);
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        return zip(a, b, (p, q) -> p * q);
    }

    private interface FloatOp {
        float apply(float a, float b);
    }

    private static Tensor zip(Tensor a, Tensor b, FloatOp op) {
        float[] x = a.data();
        float[] y = b.data();
        if (y.length != x.length && (y.length != a.cols() || b.size() != a.cols())) {
            throw new IllegalArgumentException("cannot combine " + a + " with " + b);
        }
        int period = y.length;
        float[] out = new float[x.length];
        Parallel.forChunks(x.length, 4096, (from, to) -> {
            for (int i = from; i < to; i++) {
                out[i] = op.apply(x[i], y[i % period]);
            }
        });
        return Tensor.wrap(out, a.shape());
    }

    @Override
    public Tensor scale(Tensor a, float s) {
        float[] x = a.data();
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * s;
        }
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
        Parallel.forChunks(r.length, 4096, (from, to) -> {
            for (int i = from; i < to; i++) {
                out[i] = r[i] + g[i % c] * in[i];
            }
        });
        return Tensor.wrap(out, residual.shape());
    }

    @Override
    public void axpyInPlace(Tensor x, float s, Tensor y) {
        float[] a = x.data();
        float[] b = y.data();
        if (a.length != b.length) {
            throw new IllegalArgumentException("axpy: " + x + " and " + y);
        }
        for (int i = 0; i < a.length; i++) {
            a[i] += s * b[i];
        }
    }

    // ---- positions --------------------------------------------------------------------------

    @Override
    public Tensor rope(Tensor x, Tensor pe) {
        int l = x.dim(0);
        int heads = x.dim(1);
        int d = x.dim(2);
        if (pe.dim(0) != l || pe.dim(1) != d / 2) {
            throw new IllegalArgumentException("rope: x " + x + " with pe " + pe);
        }
        float[] in = x.data();
        float[] p = pe.data();
        float[] out = new float[in.length];
        Parallel.forChunks(l, 16, (from, to) -> {
            for (int t = from; t < to; t++) {
                for (int h = 0; h < heads; h++) {
                    int base = (t * heads + h) * d;
                    for (int i = 0; i < d / 2; i++) {
                        int m = (t * (d / 2) + i) * 4;
                        float x0 = in[base + 2 * i];
                        float x1 = in[base + 2 * i + 1];
                        out[base + 2 * i] = p[m] * x0 + p[m + 1] * x1;
                        out[base + 2 * i + 1] = p[m + 2] * x0 + p[m + 3] * x1;
                    }
                }
            }
        });
        return Tensor.wrap(out, x.shape());
    }

    // ---- layout -----------------------------------------------------------------------------

    @Override
    public Tensor concatRows(Tensor... parts) {
        int[] shape = parts[0].shape();
        int rowSize = Math.toIntExact(parts[0].size() / Math.max(1, shape[0]));
        int rows = 0;
        for (Tensor p : parts) {
            if (p.size() != (long) p.dim(0) * rowSize) {
                throw new IllegalArgumentException("concatRows: " + Arrays.toString(parts));
            }
            rows += p.dim(0);
        }
        float[] out = new float[rows * rowSize];
        int at = 0;
        for (Tensor p : parts) {
            int n = Math.toIntExact(p.size());
            p.toFloats(0, out, at, n);
            at += n;
        }
        shape[0] = rows;
        return Tensor.wrap(out, shape);
    }

    @Override
    public Tensor concatColumns(Tensor... parts) {
        int rows = parts[0].rows();
        int cols = 0;
        for (Tensor p : parts) {
            if (p.rows() != rows) {
                throw new IllegalArgumentException("concatColumns: " + Arrays.toString(parts));
            }
            cols += p.cols();
        }
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
        int[] shape = parts[0].shape();
        shape[shape.length - 1] = cols;
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
        if (w.dim(1) != cin) {
            throw new IllegalArgumentException("conv2d: input " + x + " with weight " + w);
        }
        int top = padding[0];
        int left = padding[2];
        int oh = (h + padding[0] + padding[1] - kh) / stride + 1;
        int ow = (wd + padding[2] + padding[3] - kw) / stride + 1;
        float[] in = x.data();
        float[] b = bias == null ? null : bias.toF32().data();
        float[] out = new float[cout * oh * ow];
        int taps = cin * kh * kw;
        // im2col-free direct convolution: for each output channel, accumulate each input tap
        // as a shifted, strided copy of the input plane.
        Parallel.forRange(cout, o -> {
            float[] wo = new float[taps];
            w.toFloats((long) o * taps, wo, 0, taps);
            int base = o * oh * ow;
            if (b != null) {
                Arrays.fill(out, base, base + oh * ow, b[o]);
            }
            for (int ci = 0; ci < cin; ci++) {
                for (int dy = 0; dy < kh; dy++) {
                    for (int dx = 0; dx < kw; dx++) {
                        float wv = wo[(ci * kh + dy) * kw + dx];
                        if (wv == 0f) {
                            continue;
                        }
                        for (int y = 0; y < oh; y++) {
                            int iy = y * stride + dy - top;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            int inRow = (ci * h + iy) * wd;
                            int outRow = base + y * ow;
                            for (int xo = 0; xo < ow; xo++) {
                                int ix = xo * stride + dx - left;
                                if (ix >= 0 && ix < wd) {
                                    out[outRow + xo] += wv * in[inRow + ix];
                                }
                            }
                        }
                    }
                }
            }
        });
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
        Parallel.forChunks(out.length, 4096, (from, to) -> {
            for (int i = from; i < to; i++) {
                out[i] = act.apply(out[i]);
            }
        });
        return y;
    }
}
