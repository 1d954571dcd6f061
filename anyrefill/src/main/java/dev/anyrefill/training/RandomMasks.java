package dev.anyrefill.training;

import dev.anyrefill.tensor.Tensor;

import java.util.SplittableRandom;

/**
 * Ref-inpainting's training masks: rectangles and free-form brush strokes (the LaMa-style
 * masks inpainting trainers draw) until they cover a fraction of the target drawn uniformly
 * from 20 to 60 %. The paper also uses masks from feature matching between reference and
 * target, which needs a matcher: not done here.
 */
public final class RandomMasks {
    static final double MIN_COVER = 0.2;
    static final double MAX_COVER = 0.6;

    private RandomMasks() {
    }

    /** A mask [1, h, w] of 0 and 1 (1 = repaint), from rnd. */
    public static Tensor draw(SplittableRandom rnd, int h, int w) {
        double goal = rnd.nextDouble(MIN_COVER, MAX_COVER);
        float[] mask = new float[h * w];
        for (int attempt = 0; attempt < 200 && cover(mask) < goal; attempt++) {
            float[] before = mask.clone();
            if (rnd.nextBoolean()) {
                rectangle(mask, h, w, rnd);
            } else {
                stroke(mask, h, w, rnd);
            }
            if (cover(mask) > MAX_COVER) {
                System.arraycopy(before, 0, mask, 0, mask.length); // too much: try a smaller shape
            }
        }
        return Tensor.wrap(mask, 1, h, w);
    }

    /**
     * A mask of FLUX.Fill's own pretraining mix, for inpainting single images: rectangles and
     * strokes as {@link #draw} (40 %), one half of the image, left, right, top or bottom (30 %:
     * what an LPG canvas asks of the model), the whole image (15 %), or everything but a
     * centred window (outpainting, 15 %).
     */
    public static Tensor fill(SplittableRandom rnd, int h, int w) {
        double kind = rnd.nextDouble();
        if (kind < 0.4) {
            return draw(rnd, h, w);
        }
        float[] mask = new float[h * w];
        if (kind < 0.7) {
            int side = rnd.nextInt(4);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    boolean set = switch (side) {
                        case 0 -> x < w / 2;
                        case 1 -> x >= w / 2;
                        case 2 -> y < h / 2;
                        default -> y >= h / 2;
                    };
                    mask[y * w + x] = set ? 1 : 0;
                }
            }
        } else if (kind < 0.85) {
            java.util.Arrays.fill(mask, 1f);
        } else {
            double keep = rnd.nextDouble(0.3, 0.7);
            int kh = (int) (h * keep);
            int kw = (int) (w * keep);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    boolean inside = y >= (h - kh) / 2 && y < (h + kh) / 2 && x >= (w - kw) / 2 && x < (w + kw) / 2;
                    mask[y * w + x] = inside ? 0 : 1;
                }
            }
        }
        return Tensor.wrap(mask, 1, h, w);
    }

    /** The fraction of pixels set. */
    public static double cover(float[] mask) {
        double s = 0;
        for (float m : mask) {
            s += m;
        }
        return s / mask.length;
    }

    private static void rectangle(float[] mask, int h, int w, SplittableRandom rnd) {
        int rh = 1 + rnd.nextInt(Math.max(1, h / 2));
        int rw = 1 + rnd.nextInt(Math.max(1, w / 2));
        int y0 = rnd.nextInt(h - rh + 1);
        int x0 = rnd.nextInt(w - rw + 1);
        for (int y = y0; y < y0 + rh; y++) {
            for (int x = x0; x < x0 + rw; x++) {
                mask[y * w + x] = 1;
            }
        }
    }

    /** A brush of random radius dragged along a few random segments. */
    private static void stroke(float[] mask, int h, int w, SplittableRandom rnd) {
        int side = Math.min(h, w);
        double radius = side * rnd.nextDouble(0.03, 0.1);
        double y = rnd.nextDouble(h);
        double x = rnd.nextDouble(w);
        int segments = 1 + rnd.nextInt(5);
        for (int s = 0; s < segments; s++) {
            double angle = rnd.nextDouble(2 * Math.PI);
            double length = side * rnd.nextDouble(0.1, 0.4);
            int dots = (int) Math.ceil(length / Math.max(1, radius / 2));
            for (int d = 0; d <= dots; d++) {
                disc(mask, h, w, y, x, radius);
                y = clamp(y + Math.sin(angle) * length / dots, h);
                x = clamp(x + Math.cos(angle) * length / dots, w);
            }
        }
    }

    private static void disc(float[] mask, int h, int w, double cy, double cx, double r) {
        int y0 = Math.max(0, (int) Math.floor(cy - r));
        int y1 = Math.min(h - 1, (int) Math.ceil(cy + r));
        int x0 = Math.max(0, (int) Math.floor(cx - r));
        int x1 = Math.min(w - 1, (int) Math.ceil(cx + r));
        for (int y = y0; y <= y1; y++) {
            for (int x = x0; x <= x1; x++) {
                double dy = y + 0.5 - cy;
                double dx = x + 0.5 - cx;
                if (dy * dy + dx * dx <= r * r) {
                    mask[y * w + x] = 1;
                }
            }
        }
    }

    private static double clamp(double v, int size) {
        return Math.max(0, Math.min(size - 1e-9, v));
    }
}
