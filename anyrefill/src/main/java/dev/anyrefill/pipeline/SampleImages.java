package dev.anyrefill.pipeline;

import dev.anyrefill.image.Pixels;

/**
 * The demo's built-in picture, drawn here rather than shipped: a sky graded towards the
 * horizon, a sun, two ranges of hills and a lake. Deterministic, any size.
 */
public final class SampleImages {
    private SampleImages() {
    }

    /** The landscape as RGB pixels, height x width. */
    public static Pixels landscape(int height, int width) {
        byte[] data = new byte[height * width * 3];
        for (int y = 0; y < height; y++) {
            double v = y / (double) height;
            for (int x = 0; x < width; x++) {
                double u = x / (double) width;
                double[] rgb = sky(v);
                double sun = Math.hypot(u - 0.72, v - 0.28);
                if (sun < 0.11) {
                    rgb = new double[]{255, 214, 120};
                }
                double farHill = 0.55 + 0.07 * Math.sin(u * 7.0 + 0.5) + 0.03 * Math.sin(u * 19.0);
                double nearHill = 0.68 + 0.05 * Math.sin(u * 4.0 + 2.0);
                if (v > farHill) {
                    rgb = new double[]{70 + 30 * u, 110 + 20 * v, 90};
                }
                if (v > nearHill) {
                    rgb = new double[]{50, 140 - 60 * (v - nearHill), 60};
                }
                double lake = Math.hypot((u - 0.35) / 0.25, (v - 0.86) / 0.07);
                if (lake < 1) {
                    rgb = new double[]{60, 110 + 40 * lake, 170};
                }
                int at = (y * width + x) * 3;
                for (int c = 0; c < 3; c++) {
                    data[at + c] = (byte) Math.max(0, Math.min(255, Math.round(rgb[c])));
                }
            }
        }
        return new Pixels(height, width, 3, data);
    }

    private static double[] sky(double v) {
        return new double[]{90 + 120 * v, 150 + 70 * v, 235 - 20 * v};
    }
}
