package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Parallel;
import dev.anyrefill.tensor.Tensor;

import java.util.Arrays;

/**
 * The backward of a 2-D convolution as GEMMs over bands of im2col columns, the forward's product
 * read the other two ways. With col [T, P] the input under each of the T = C kh kw taps for
 * each of the P output pixels, W [O, T] and dy [O, P]:
 * <pre>
 *   dW [O, T]   = dy col^T          (summed band by band)
 *   dcol [T, P] = W^T dy            then col2im: each tap's gradient added back to its input pixel
 *   db [O]      = dy summed over pixels
 * </pre>
 * A tap's row of col runs along output rows, so im2col and col2im copy and add whole row
 * segments (stride 1) rather than single values. A band holds at most {@link #BAND_FLOATS}
 * floats of col, so the VAE's 512x512 levels never build the whole matrix (1.2 GB for 128
 * channels).
 */
public final class ConvBackward {
    /** The most col floats one band holds (16 MB). */
    static final int BAND_FLOATS = 1 << 22;

    private ConvBackward() {
    }

    /**
     * x [cin, h, wd]; w [cout, cin * kh * kw] in its stored type (wF the same widened to F32);
     * dy [cout, oh, ow]; zero padding top / left as in the forward; writes dx [cin, h, wd],
     * dw [cout, cin * kh * kw] and db [cout].
     */
    public static void backward(float[] x, int cin, int h, int wd, float[] wF, int cout, int kh, int kw, int stride,
                                int top, int left, float[] dy, int oh, int ow, float[] dx, float[] dw, float[] db) {
        int taps = cin * kh * kw;
        int pixels = oh * ow;
        // whole output rows per band, so a band's pixels are rows [r0, r0 + rows) of the output
        int rowsPerBand = Math.max(1, Math.min(oh, BAND_FLOATS / Math.max(1, taps * ow)));
        Arrays.fill(dx, 0f);
        Arrays.fill(dw, 0f);
        for (int o = 0; o < cout; o++) {
            double sum = 0;
            for (int p = 0; p < pixels; p++) {
                sum += dy[o * pixels + p];
            }
            db[o] = (float) sum;
        }
        float[] wT = new float[taps * cout]; // W^T [T, O], the A operand of dcol
        for (int o = 0; o < cout; o++) {
            for (int t = 0; t < taps; t++) {
                wT[t * cout + o] = wF[o * taps + t];
            }
        }
        float[] part = new float[cout * taps];
        for (int r0 = 0; r0 < oh; r0 += rowsPerBand) {
            int rows = Math.min(rowsPerBand, oh - r0);
            int n = rows * ow;
            float[] col = new float[taps * n];
            im2col(x, cin, h, wd, kh, kw, stride, top, left, ow, r0, rows, col);
            float[] dyRows = new float[cout * n]; // dy[:, band] as [O, n]
            for (int o = 0; o < cout; o++) {
                System.arraycopy(dy, o * pixels + r0 * ow, dyRows, o * n, n);
            }
            Tensor dyBand = Tensor.wrap(dyRows, cout, n);
            // dW += dy col^T: col [T, n] is B stored with its rows as the outputs
            Gemm.multiply(dyRows, cout, n, Tensor.wrap(col, taps, n), Gemm.Layout.ROWS_ARE_OUTPUTS, taps, null,
                    Activation.NONE, part);
            Elementwise.axpy(dw, 1f, part);
            // dcol = W^T dy: dy [O, n] is B stored [K, N]
            float[] dcol = col; // col is no longer needed: reuse its memory
            Gemm.multiply(wT, taps, cout, dyBand, Gemm.Layout.ROWS_ARE_INNER, n, null, Activation.NONE, dcol);
            col2im(dcol, cin, h, wd, kh, kw, stride, top, left, ow, r0, rows, dx);
        }
    }

    /** col[t, j]: the input under tap t of the band's output pixel j, 0 in the padding. */
    static void im2col(float[] x, int cin, int h, int wd, int kh, int kw, int stride, int top, int left, int ow,
                       int r0, int rows, float[] col) {
        Arrays.fill(col, 0f);
        forEachSegment(cin, h, wd, kh, kw, stride, top, left, ow, r0, rows, (colAt, xAt, length) -> {
            if (stride == 1) {
                System.arraycopy(x, xAt, col, colAt, length);
            } else {
                for (int j = 0; j < length; j++) {
                    col[colAt + j] = x[xAt + j * stride];
                }
            }
        });
    }

    /** dx += the taps of dcol added back at their input pixels. */
    static void col2im(float[] dcol, int cin, int h, int wd, int kh, int kw, int stride, int top, int left, int ow,
                       int r0, int rows, float[] dx) {
        forEachSegment(cin, h, wd, kh, kw, stride, top, left, ow, r0, rows, (colAt, xAt, length) -> {
            for (int j = 0; j < length; j++) { // a plain loop the JIT vectorises at stride 1
                dx[xAt + j * stride] += dcol[colAt + j];
            }
        });
    }

    /** A run of one tap's row of col that lies inside the input: col index, input index, length. */
    @FunctionalInterface
    private interface Segment {
        void visit(int colAt, int xAt, int length);
    }

    /**
     * Every segment of col [T, rows * ow] that reads the input (the rest is padding): per tap
     * (c, ky, kx) and output row, the columns whose input pixel lies inside the input row.
     * Parallel over input channels, so col2im's writes to dx planes never meet.
     */
    private static void forEachSegment(int cin, int h, int wd, int kh, int kw, int stride, int top, int left, int ow,
                                       int r0, int rows, Segment segment) {
        int n = rows * ow;
        Parallel.forChunks(cin, 1, (from, to) -> {
            for (int c = from; c < to; c++) {
                for (int ky = 0; ky < kh; ky++) {
                    for (int kx = 0; kx < kw; kx++) {
                        int t = (c * kh + ky) * kw + kx;
                        Span s = Span.of(ow, stride, left, kx, wd);
                        for (int r = 0; r < rows; r++) {
                            int iy = (r0 + r) * stride - top + ky;
                            if (iy >= 0 && iy < h && s.end() > s.first()) {
                                segment.visit(t * n + r * ow + s.first(),
                                        (c * h + iy) * wd + s.first() * stride - left + kx, s.end() - s.first());
                            }
                        }
                    }
                }
            }
        });
    }

    /** The output columns [first, end) of a row whose tap kx falls inside the input row (the rest is padding). */
    private record Span(int first, int end) {
        static Span of(int ow, int stride, int left, int kx, int wd) {
            // input column j * stride - left + kx must be in [0, wd)
            int first = Math.max(0, ceilDiv(left - kx, stride));
            int end = Math.min(ow, ceilDiv(wd + left - kx, stride));
            return new Span(first, Math.max(first, end));
        }

        private static int ceilDiv(int a, int b) {
            return Math.floorDiv(a + b - 1, b);
        }
    }
}
