package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Parallel;
import dev.anyrefill.tensor.Tensor;

/**
 * The backward of a 2-D convolution as GEMMs over bands of im2col rows, the forward's product
 * read the other two ways. With col [P, T] the input patch under each of the P output pixels
 * (T = C kh kw taps) and dy [O, P]:
 * <pre>
 *   dW [O, T]   = dy col           (summed band by band)
 *   dcol [P, T] = dy^T W           then col2im: each tap's gradient added back to its input pixel
 *   db [O]      = dy summed over pixels
 * </pre>
 * A band holds at most {@link #BAND_FLOATS} floats of col, so the VAE's 512x512 levels never
 * build the whole im2col matrix (1.2 GB for 128 channels).
 */
public final class ConvBackward {
    /** The most col floats one band holds (16 MB). */
    static final int BAND_FLOATS = 1 << 22;

    private ConvBackward() {
    }

    /**
     * x [cin, h, wd]; w [cout, cin * kh * kw] in its stored type; dy [cout, oh, ow]; zero
     * padding top / left as in the forward; writes dx [cin, h, wd] (zeroed here), dw
     * [cout, cin * kh * kw] and db [cout].
     */
    public static void backward(float[] x, int cin, int h, int wd, Tensor w, int cout, int kh, int kw, int stride,
                                int top, int left, float[] dy, int oh, int ow, float[] dx, float[] dw, float[] db) {
        int taps = cin * kh * kw;
        int pixels = oh * ow;
        int band = Math.max(1, Math.min(pixels, BAND_FLOATS / taps));
        java.util.Arrays.fill(dx, 0f);
        java.util.Arrays.fill(dw, 0f);
        for (int o = 0; o < cout; o++) {
            double sum = 0;
            for (int p = 0; p < pixels; p++) {
                sum += dy[o * pixels + p];
            }
            db[o] = (float) sum;
        }
        float[] part = new float[cout * taps];
        for (int p0 = 0; p0 < pixels; p0 += band) {
            int n = Math.min(band, pixels - p0);
            float[] col = new float[n * taps];
            im2col(x, cin, h, wd, kh, kw, stride, top, left, ow, p0, n, col);
            float[] dyBand = new float[cout * n]; // dy[:, p0 : p0 + n] as [O, n]
            for (int o = 0; o < cout; o++) {
                System.arraycopy(dy, o * pixels + p0, dyBand, o * n, n);
            }
            Gemm.multiply(dyBand, cout, n, Tensor.wrap(col, n, taps), Gemm.Layout.ROWS_ARE_INNER, taps, null,
                    Activation.NONE, part);
            Elementwise.axpy(dw, 1f, part);
            float[] dcol = new float[n * taps];
            Gemm.multiply(transposeBand(dy, cout, pixels, p0, n), n, cout, w, Gemm.Layout.ROWS_ARE_INNER, taps, null,
                    Activation.NONE, dcol);
            col2im(dcol, cin, h, wd, kh, kw, stride, top, left, ow, p0, n, dx);
        }
    }

    /** col[j, t]: the input under tap t of output pixel p0 + j, 0 in the padding. */
    static void im2col(float[] x, int cin, int h, int wd, int kh, int kw, int stride, int top, int left, int ow,
                       int p0, int n, float[] col) {
        int taps = cin * kh * kw;
        Parallel.forChunks(n, 64, (from, to) -> {
            for (int j = from; j < to; j++) {
                int iy0 = ((p0 + j) / ow) * stride - top;
                int ix0 = ((p0 + j) % ow) * stride - left;
                int t = j * taps;
                for (int c = 0; c < cin; c++) {
                    for (int dy = 0; dy < kh; dy++) {
                        int iy = iy0 + dy;
                        for (int dxo = 0; dxo < kw; dxo++, t++) {
                            int ix = ix0 + dxo;
                            col[t] = iy >= 0 && iy < h && ix >= 0 && ix < wd ? x[(c * h + iy) * wd + ix] : 0f;
                        }
                    }
                }
            }
        });
    }

    /** dx += the taps of dcol added back at their input pixels; parallel over input channels (disjoint planes). */
    static void col2im(float[] dcol, int cin, int h, int wd, int kh, int kw, int stride, int top, int left, int ow,
                       int p0, int n, float[] dx) {
        int taps = cin * kh * kw;
        Parallel.forChunks(cin, 1, (from, to) -> {
            for (int c = from; c < to; c++) {
                for (int j = 0; j < n; j++) {
                    int iy0 = ((p0 + j) / ow) * stride - top;
                    int ix0 = ((p0 + j) % ow) * stride - left;
                    int t = j * taps + c * kh * kw;
                    for (int dy = 0; dy < kh; dy++) {
                        int iy = iy0 + dy;
                        for (int dxo = 0; dxo < kw; dxo++, t++) {
                            int ix = ix0 + dxo;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                dx[(c * h + iy) * wd + ix] += dcol[t];
                            }
                        }
                    }
                }
            }
        });
    }

    /** dy[:, p0 : p0 + n] transposed: [n, O]. */
    private static float[] transposeBand(float[] dy, int cout, int pixels, int p0, int n) {
        float[] t = new float[n * cout];
        for (int o = 0; o < cout; o++) {
            for (int j = 0; j < n; j++) {
                t[j * cout + o] = dy[o * pixels + p0 + j];
            }
        }
        return t;
    }
}
