package dev.anyrefill.metrics;

import dev.anyrefill.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** PSNR and SSIM against closed forms and against scikit-image on the same pair of images. */
class ImageMetricsTest {
    private static final int C = 3;
    private static final int H = 24;
    private static final int W = 32;

    /** a = 0.5 + 0.4 sin(0.3 x + 0.2 y + c), b = clip(a + 0.1 cos(0.7 x - 0.5 y + 2 c), 0, 1), both in [0, 1]. */
    private static Tensor[] pair() {
        float[] a = new float[C * H * W];
        float[] b = new float[C * H * W];
        for (int c = 0; c < C; c++) {
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    int i = (c * H + y) * W + x;
                    double va = 0.5 + 0.4 * Math.sin(0.3 * x + 0.2 * y + c);
                    double vb = Math.clamp(va + 0.1 * Math.cos(0.7 * x - 0.5 * y + 2 * c), 0, 1);
                    a[i] = 2 * (float) va - 1; // to the pipeline's [-1, 1]
                    b[i] = 2 * (float) vb - 1;
                }
            }
        }
        return new Tensor[]{Tensor.wrap(a, C, H, W), Tensor.wrap(b, C, H, W)};
    }

    private static Tensor flat(float unitValue) {
        float[] v = new float[C * H * W];
        java.util.Arrays.fill(v, 2 * unitValue - 1);
        return Tensor.wrap(v, C, H, W);
    }

    @Test
    void agreesWithScikitImage() {
        Tensor[] p = pair();
        // skimage.metrics.structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
        //   use_sample_covariance=False, data_range=1.0, channel_axis=0) and peak_signal_noise_ratio(a, b,
        //   data_range=1.0) on the same images (built in float32), scikit-image 0.19.3
        double ssim = ImageMetrics.ssim(p[0], p[1]);
        double psnr = ImageMetrics.psnr(p[0], p[1]);
        System.out.printf("SSIM %.8f (scikit-image 0.87575911), PSNR %.6f dB (23.010275); tolerances 1e-5, 1e-4%n",
                ssim, psnr);
        assertEquals(0.8757591140153274, ssim, 1e-5);
        assertEquals(23.010274870409226, psnr, 1e-4);
    }

    @Test
    void closedForms() {
        Tensor[] p = pair();
        assertEquals(1.0, ImageMetrics.ssim(p[0], p[0]), 1e-12, "SSIM of an image with itself");
        assertEquals(Double.POSITIVE_INFINITY, ImageMetrics.psnr(p[0], p[0]), "PSNR of an image with itself");
        // flat images p and q: no variance, so SSIM is the luminance term alone
        double ps = 0.25;
        double q = 0.75;
        assertEquals((2 * ps * q + 1e-4) / (ps * ps + q * q + 1e-4), ImageMetrics.ssim(flat(0.25f), flat(0.75f)), 1e-9);
        // a uniform difference d: PSNR = 10 log10(1 / d^2)
        assertEquals(10 * Math.log10(1 / (0.5 * 0.5)), ImageMetrics.psnr(flat(0.25f), flat(0.75f)), 1e-9);
    }
}
