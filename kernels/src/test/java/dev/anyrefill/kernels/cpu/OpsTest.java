package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

/**
 * Norms, element-wise ops, RoPE and conv2d against double-precision loops, at widths that
 * are not multiples of the vector length. Error measure |got - ref| / max(1, |ref|) (conv2d:
 * divided by the sum of |products| instead); tolerances 1e-5 (2e-6 for exact-rounding ops).
 */
class OpsTest {
    final JavaKernels kernels = new JavaKernels();
    final Random rnd = new Random(42);

    @Test
    void layerNormAndModulate() {
        for (int c : new int[] {1, 7, 64, 3072 + 3}) {
            int rows = 5;
            float[] x = Reference.random(rnd, rows * c, 3f);
            for (int i = 0; i < x.length; i++) {
                x[i] += 10; // an offset: the mean must be taken out accurately
            }
            float[] w = Reference.random(rnd, c, 1f);
            float[] b = Reference.random(rnd, c, 1f);
            float[] shift = Reference.random(rnd, c, 1f);
            float[] scale = Reference.random(rnd, c, 1f);
            double[] plain = new double[x.length];
            double[] affine = new double[x.length];
            double[] modulated = new double[x.length];
            for (int r = 0; r < rows; r++) {
                double mean = 0;
                for (int i = 0; i < c; i++) {
                    mean += x[r * c + i];
                }
                mean /= c;
                double var = 0;
                for (int i = 0; i < c; i++) {
                    var += (x[r * c + i] - mean) * (x[r * c + i] - mean);
                }
                var /= c;
                for (int i = 0; i < c; i++) {
                    double y = (x[r * c + i] - mean) / Math.sqrt(var + 1e-6);
                    plain[r * c + i] = y;
                    affine[r * c + i] = y * w[i] + b[i];
                    modulated[r * c + i] = (1 + scale[i]) * y + shift[i];
                }
            }
            Tensor xt = Tensor.wrap(x, rows, c);
            Reference.assertWithin("layerNorm c=" + c, kernels.layerNorm(xt, null, null, 1e-6f).data(),
                    plain, Reference.unitBound(plain), 1e-5);
            Reference.assertWithin("layerNorm affine c=" + c,
                    kernels.layerNorm(xt, Tensor.wrap(w, c), Tensor.wrap(b, c), 1e-6f).data(),
                    affine, Reference.unitBound(affine), 1e-5);
            Reference.assertWithin("layerNormModulate c=" + c,
                    kernels.layerNormModulate(xt, Tensor.wrap(shift, c), Tensor.wrap(scale, c), 1e-6f).data(),
                    modulated, Reference.unitBound(modulated), 1e-5);
        }
    }

    @Test
    void rmsNorm() {
        for (int c : new int[] {3, 128, 4096 + 5}) {
            int rows = 4;
            float[] x = Reference.random(rnd, rows * c, 2f);
            Tensor s = Reference.weights(rnd, DType.BF16, c);
            double[] ref = new double[x.length];
            for (int r = 0; r < rows; r++) {
                double sq = 0;
                for (int i = 0; i < c; i++) {
                    sq += (double) x[r * c + i] * x[r * c + i];
                }
                double inv = 1 / Math.sqrt(sq / c + 1e-6);
                for (int i = 0; i < c; i++) {
                    ref[r * c + i] = x[r * c + i] * inv * s.getFloat(i);
                }
            }
            Reference.assertWithin("rmsNorm c=" + c, kernels.rmsNorm(Tensor.wrap(x, rows, c), s, 1e-6f).data(),
                    ref, Reference.unitBound(ref), 1e-5);
        }
    }

    @Test
    void groupNorm() {
        int channels = 12, h = 37, w = 29, groups = 4;
        float[] x = Reference.random(rnd, channels * h * w, 2f);
        for (int i = 0; i < x.length; i++) {
            x[i] += 5;
        }
        float[] g = Reference.random(rnd, channels, 1f);
        float[] b = Reference.random(rnd, channels, 1f);
        int per = channels / groups;
        int plane = h * w;
        double[] ref = new double[x.length];
        for (int gr = 0; gr < groups; gr++) {
            double mean = 0;
            for (int i = gr * per * plane; i < (gr + 1) * per * plane; i++) {
                mean += x[i];
            }
            mean /= per * plane;
            double var = 0;
            for (int i = gr * per * plane; i < (gr + 1) * per * plane; i++) {
                var += (x[i] - mean) * (x[i] - mean);
            }
            var /= per * plane;
            for (int i = gr * per * plane; i < (gr + 1) * per * plane; i++) {
                int ch = i / plane;
                ref[i] = (x[i] - mean) / Math.sqrt(var + 1e-6) * g[ch] + b[ch];
            }
        }
        Reference.assertWithin("groupNorm 12x37x29 in 4 groups",
                kernels.groupNorm(Tensor.wrap(x, channels, h, w), groups, Tensor.wrap(g, channels),
                        Tensor.wrap(b, channels), 1e-6f).data(), ref, Reference.unitBound(ref), 1e-5);
    }

    @Test
    void activationsAndElementwise() {
        int rows = 3, c = 45;
        float[] x = Reference.random(rnd, rows * c, 4f);
        float[] y = Reference.random(rnd, rows * c, 1f);
        float[] row = Reference.random(rnd, c, 1f);
        for (Activation act : Activation.values()) {
            double[] ref = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                ref[i] = Reference.act(act, x[i]);
            }
            Reference.assertWithin("activation " + act, kernels.activation(Tensor.wrap(x, rows, c), act).data(),
                    ref, Reference.unitBound(ref), 1e-5);
        }
        double[] add = new double[x.length];
        double[] addRow = new double[x.length];
        double[] mul = new double[x.length];
        double[] mulRow = new double[x.length];
        double[] scaled = new double[x.length];
        double[] gated = new double[x.length];
        double[] axpy = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            add[i] = (double) x[i] + y[i];
            addRow[i] = (double) x[i] + row[i % c];
            mul[i] = (double) x[i] * y[i];
            mulRow[i] = (double) x[i] * row[i % c];
            scaled[i] = x[i] * 0.3f;
            gated[i] = x[i] + (double) row[i % c] * y[i];
            axpy[i] = x[i] + 0.7f * (double) y[i];
        }
        Tensor xt = Tensor.wrap(x, rows, c);
        Tensor yt = Tensor.wrap(y, rows, c);
        Tensor rt = Tensor.wrap(row, c);
        Reference.assertWithin("add", kernels.add(xt, yt).data(), add, Reference.unitBound(add), 2e-6);
        Reference.assertWithin("add row", kernels.add(xt, rt).data(), addRow, Reference.unitBound(addRow), 2e-6);
        Reference.assertWithin("mul", kernels.mul(xt, yt).data(), mul, Reference.unitBound(mul), 2e-6);
        Reference.assertWithin("mul row", kernels.mul(xt, rt).data(), mulRow, Reference.unitBound(mulRow), 2e-6);
        Reference.assertWithin("scale", kernels.scale(xt, 0.3f).data(), scaled, Reference.unitBound(scaled), 2e-6);
        Reference.assertWithin("gatedResidual", kernels.gatedResidual(xt, rt, yt).data(), gated,
                Reference.unitBound(gated), 2e-6);
        float[] acc = x.clone();
        kernels.axpyInPlace(Tensor.wrap(acc, rows, c), 0.7f, yt);
        Reference.assertWithin("axpyInPlace", acc, axpy, Reference.unitBound(axpy), 2e-6);
    }

    @Test
    void rope() {
        for (int d : new int[] {6, 16, 128}) {
            int l = 9, heads = 3;
            float[] x = Reference.random(rnd, l * heads * d, 1f);
            float[] pe = Reference.random(rnd, l * d / 2 * 4, 1f);
            double[] ref = new double[x.length];
            for (int t = 0; t < l; t++) {
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < d / 2; i++) {
                        int at = (t * heads + h) * d + 2 * i;
                        int m = (t * (d / 2) + i) * 4;
                        ref[at] = (double) pe[m] * x[at] + (double) pe[m + 1] * x[at + 1];
                        ref[at + 1] = (double) pe[m + 2] * x[at] + (double) pe[m + 3] * x[at + 1];
                    }
                }
            }
            Reference.assertWithin("rope d=" + d, kernels.rope(Tensor.wrap(x, l, heads, d),
                    Tensor.wrap(pe, l, d / 2, 2, 2)).data(), ref, Reference.unitBound(ref), 1e-6);
        }
    }

    @Test
    void conv2d() {
        // {cin, h, w, cout, kh, kw, stride, top, bottom, left, right}
        int[][] cases = {
            {3, 9, 13, 5, 3, 3, 1, 1, 1, 1, 1},
            {4, 17, 40, 7, 3, 3, 1, 1, 1, 1, 1},
            {5, 16, 33, 6, 3, 3, 2, 0, 1, 0, 1},   // the VAE's downsampling: pad right/bottom only
            {8, 11, 12, 13, 1, 1, 1, 0, 0, 0, 0},
            {2, 6, 70, 3, 3, 3, 1, 1, 1, 1, 1},
        };
        for (int[] cs : cases) {
            for (DType type : new DType[] {DType.F32, DType.BF16}) {
                int cin = cs[0], h = cs[1], w = cs[2], cout = cs[3], kh = cs[4], kw = cs[5], stride = cs[6];
                int[] pad = {cs[7], cs[8], cs[9], cs[10]};
                float[] x = Reference.random(rnd, cin * h * w, 1f);
                Tensor wt = Reference.weights(rnd, type, cout, cin, kh, kw);
                float[] bias = Reference.random(rnd, cout, 1f);
                int oh = (h + pad[0] + pad[1] - kh) / stride + 1;
                int ow = (w + pad[2] + pad[3] - kw) / stride + 1;
                double[] ref = new double[cout * oh * ow];
                double[] bound = new double[ref.length];
                for (int o = 0; o < cout; o++) {
                    for (int y = 0; y < oh; y++) {
                        for (int xo = 0; xo < ow; xo++) {
                            double s = bias[o];
                            double mag = Math.abs(bias[o]);
                            for (int ci = 0; ci < cin; ci++) {
                                for (int dy = 0; dy < kh; dy++) {
                                    for (int dx = 0; dx < kw; dx++) {
                                        int iy = y * stride + dy - pad[0];
                                        int ix = xo * stride + dx - pad[2];
                                        if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                            double p = (double) x[(ci * h + iy) * w + ix]
                                                    * wt.getFloat(((long) (o * cin + ci) * kh + dy) * kw + dx);
                                            s += p;
                                            mag += Math.abs(p);
                                        }
                                    }
                                }
                            }
                            ref[(o * oh + y) * ow + xo] = s;
                            bound[(o * oh + y) * ow + xo] = Math.max(mag, 1e-30);
                        }
                    }
                }
                Tensor out = kernels.conv2d(Tensor.wrap(x, cin, h, w), wt, Tensor.wrap(bias, cout), stride, pad);
                Reference.assertWithin(String.format("conv2d %dx%dx%d -> %d, %dx%d stride %d %s", cin, h, w, cout,
                        kh, kw, stride, type), out.data(), ref, bound, 1e-5);
            }
        }
    }
}
