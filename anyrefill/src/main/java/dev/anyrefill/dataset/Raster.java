package dev.anyrefill.dataset;

/**
 * A floating-point RGB canvas the scene painter draws on, with alpha blending, and its
 * box-filtered 8-bit result (the scene is drawn at a multiple of its size, which anti-aliases
 * every edge).
 */
final class Raster {
    final int width;
    final int height;
    private final float[] rgb;

    Raster(int width, int height) {
        this.width = width;
        this.height = height;
        this.rgb = new float[width * height * 3];
    }

    /** Blends colour c (components 0..1) over pixel (x, y) with opacity a. */
    void blend(int x, int y, float[] c, double a) {
        if (x < 0 || y < 0 || x >= width || y >= height || a <= 0) {
            return;
        }
        float alpha = (float) Math.min(1, a);
        int i = (y * width + x) * 3;
        for (int k = 0; k < 3; k++) {
            rgb[i + k] += (c[k] - rgb[i + k]) * alpha;
        }
    }

    /** Pixel (x, y)'s colour, clamped to the canvas. */
    float[] get(int x, int y) {
        int cx = Math.max(0, Math.min(width - 1, x));
        int cy = Math.max(0, Math.min(height - 1, y));
        int i = (cy * width + cx) * 3;
        return new float[]{rgb[i], rgb[i + 1], rgb[i + 2]};
    }

    /** 8-bit RGB at 1 / factor of this size, each output pixel the mean of a factor x factor block. */
    byte[] downsampled(int factor) {
        int w = width / factor;
        int h = height / factor;
        byte[] out = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int k = 0; k < 3; k++) {
                    double s = 0;
                    for (int dy = 0; dy < factor; dy++) {
                        for (int dx = 0; dx < factor; dx++) {
                            s += rgb[((y * factor + dy) * width + x * factor + dx) * 3 + k];
                        }
                    }
                    int v = (int) Math.round(255 * s / (factor * factor));
                    out[(y * w + x) * 3 + k] = (byte) Math.max(0, Math.min(255, v));
                }
            }
        }
        return out;
    }

    static float[] mix(float[] a, float[] b, double t) {
        return new float[]{(float) (a[0] + (b[0] - a[0]) * t), (float) (a[1] + (b[1] - a[1]) * t),
                (float) (a[2] + (b[2] - a[2]) * t)};
    }

    static float[] rgb(int r, int g, int b) {
        return new float[]{r / 255f, g / 255f, b / 255f};
    }
}
