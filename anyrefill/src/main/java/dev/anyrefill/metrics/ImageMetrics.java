package dev.anyrefill.metrics;

import dev.anyrefill.tensor.Tensor;

import java.util.Arrays;

/**
 * How close an answer is to the ground truth, as image-restoration papers report it. Both
 * images are [C, H, W] in [-1, 1] (the pipeline's range), compared in [0, 1]:
 * <ul>
 *   <li>PSNR: {@code 10 log10(1 / MSE)} over every value;</li>
 *   <li>SSIM (Wang, Bovik, Sheikh, Simoncelli 2004): luminance, contrast and structure compared
 *       in an 11 x 11 Gaussian window (sigma 1.5), {@code C1 = 0.01^2}, {@code C2 = 0.03^2},
 *       per channel, averaged over the window positions that fit inside the image and then
 *       over channels.</li>
 * </ul>
 */
public final class ImageMetrics {
    private static final int WINDOW = 11;
    private static final double SIGMA = 1.5;
    private static final double C1 = 0.01 * 0.01;
    private static final double C2 = 0.03 * 0.03;
    private static final double[] GAUSS = gaussian();

    private ImageMetrics() {
    }

    /** PSNR in dB of a against b; infinite when they are equal. */
    public static double psnr(Tensor a, Tensor b) {
        float[] x = check(a, b);
        float[] y = b.data();
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            double d = (x[i] - y[i]) / 2.0; // [-1, 1] to [0, 1]
            sum += d * d;
        }
        return 10 * Math.log10(x.length / sum);
    }

    /** Mean SSIM of a against b; 1 when they are equal. */
    public static double ssim(Tensor a, Tensor b) {
        check(a, b);
        int channels = a.dim(0);
        int h = a.dim(1);
        int w = a.dim(2);
        if (h < WINDOW || w < WINDOW) {
            throw new IllegalArgumentException("SSIM needs images of at least " + WINDOW + " x " + WINDOW + ", got " + w + " x " + h);
        }
        double total = 0;
        for (int c = 0; c < channels; c++) {
            double[] x = unit(a.data(), c, h, w);
            double[] y = unit(b.data(), c, h, w);
            double[] mx = blur(x, h, w);
            double[] my = blur(y, h, w);
            double[] xx = blur(product(x, x), h, w);
            double[] yy = blur(product(y, y), h, w);
            double[] xy = blur(product(x, y), h, w);
            double sum = 0;
            for (int i = 0; i < mx.length; i++) {
                double vx = xx[i] - mx[i] * mx[i];
                double vy = yy[i] - my[i] * my[i];
                double cov = xy[i] - mx[i] * my[i];
                sum += (2 * mx[i] * my[i] + C1) * (2 * cov + C2)
                        / ((mx[i] * mx[i] + my[i] * my[i] + C1) * (vx + vy + C2));
            }
            total += sum / mx.length;
        }
        return total / channels;
    }

    private static float[] check(Tensor a, Tensor b) {
        if (a.rank() != 3 || !Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException("compare images [C, H, W] of one shape, got " + a + " and " + b);
        }
        return a.data();
    }

    /** Channel c of a [C, H, W] image in [-1, 1] as [0, 1] values. */
    private static double[] unit(float[] image, int c, int h, int w) {
        double[] out = new double[h * w];
        for (int i = 0; i < out.length; i++) {
            out[i] = (image[c * h * w + i] + 1) / 2.0;
        }
        return out;
    }

    private static double[] product(double[] a, double[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] * b[i];
        }
        return out;
    }

    /** The Gaussian-weighted mean over each window that fits: [h - 10, w - 10]. */
    private static double[] blur(double[] x, int h, int w) {
        int oh = h - WINDOW + 1;
        int ow = w - WINDOW + 1;
        double[] rows = new double[h * ow];
        for (int y = 0; y < h; y++) {
            for (int i = 0; i < ow; i++) {
                double s = 0;
                for (int k = 0; k < WINDOW; k++) {
                    s += GAUSS[k] * x[y * w + i + k];
                }
                rows[y * ow + i] = s;
            }
        }
        double[] out = new double[oh * ow];
        for (int j = 0; j < oh; j++) {
            for (int i = 0; i < ow; i++) {
                double s = 0;
                for (int k = 0; k < WINDOW; k++) {
                    s += GAUSS[k] * rows[(j + k) * ow + i];
                }
                out[j * ow + i] = s;
            }
        }
        return out;
    }

    private static double[] gaussian() {
        double[] g = new double[WINDOW];
        double sum = 0;
        for (int k = 0; k < WINDOW; k++) {
            double d = k - WINDOW / 2;
            g[k] = Math.exp(-d * d / (2 * SIGMA * SIGMA));
            sum += g[k];
        }
        for (int k = 0; k < WINDOW; k++) {
            g[k] /= sum;
        }
        return g;
    }
}
