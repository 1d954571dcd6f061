package dev.anyrefill.dataset;

import dev.anyrefill.image.Pixels;

import java.util.SplittableRandom;

/**
 * Procedural landscapes, the miniature AnyRefill's image domain: a sky gradient of one of
 * three times of day, a sun or a moon with its glow, clouds, two to four layers of hills or
 * mountains from fractal noise fading into haze, then either water reflecting all of it with
 * ripples or a meadow with trees and houses. Each scene is a pure function of its seed, so a
 * dataset is reproducible and training and evaluation seeds can be kept apart.
 *
 * <p>Why landscapes: they have what the tasks need to show: large smooth regions (sky, water)
 * and sharp structure (ridgelines, trunks, roofs) for deblurring, super-resolution and edges;
 * colour that is not predictable from brightness alone (a red roof and a green tree of one
 * grey) for colorization; and a layout regular enough for a small model to learn.
 */
public final class Scenes {
    /** The scene is painted at this multiple of its size and box-filtered down (anti-aliasing). */
    private static final int SUPERSAMPLE = 2;

    private Scenes() {
    }

    /** The scene of this seed, size x size pixels. */
    public static Pixels render(int size, long seed) {
        return render(size, size, seed);
    }

    /**
     * The scene of this seed at height x width/2, twice, side by side: a picture whose right
     * half repeats its left. A share of these in a Fill model's pretraining gives it the
     * in-context habit LPG leans on (paint the right half from what the left shows), which
     * FLUX.Fill has from the variety of its data.
     */
    public static Pixels diptych(int height, int width, long seed) {
        if (width % 2 != 0) {
            throw new IllegalArgumentException("a diptych needs an even width, got " + width);
        }
        Pixels half = render(height, width / 2, seed);
        int rowBytes = half.width() * half.channels();
        byte[] both = new byte[2 * half.data().length];
        for (int y = 0; y < height; y++) {
            System.arraycopy(half.data(), y * rowBytes, both, 2 * y * rowBytes, rowBytes);
            System.arraycopy(half.data(), y * rowBytes, both, (2 * y + 1) * rowBytes, rowBytes);
        }
        return new Pixels(height, width, half.channels(), both);
    }

    /** Whether the scene of this seed is a diptych when a fraction of them are: a fixed draw per seed. */
    public static boolean isDiptych(long seed, double fraction) {
        return fraction > 0 && new SplittableRandom(seed ^ 0x5DEECE66DL).nextDouble() < fraction;
    }

    /** The scene of this seed, height x width pixels (a panorama when wider than high). */
    public static Pixels render(int height, int width, long seed) {
        if (Math.min(height, width) < 16 || Math.max(height, width) > 4096) {
            throw new IllegalArgumentException("scene size " + width + "x" + height + ": sides from 16 to 4096 pixels");
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        int s = height * SUPERSAMPLE;
        Raster r = new Raster(width * SUPERSAMPLE, s);
        Palette p = Palette.pick(rnd);
        int horizon = (int) (s * rnd.nextDouble(0.5, 0.7));
        sky(r, p, horizon, rnd);
        sunOrMoon(r, p, horizon, rnd);
        clouds(r, p, horizon, rnd);
        int layers = 2 + rnd.nextInt(3);
        for (int i = 0; i < layers; i++) {
            ridge(r, p, horizon, i, layers, rnd);
        }
        if (rnd.nextDouble() < 0.45) {
            water(r, p, horizon, rnd);
        } else {
            meadow(r, p, horizon, rnd);
        }
        return new Pixels(height, width, 3, r.downsampled(SUPERSAMPLE));
    }

    /** The colours of a time of day. */
    private record Palette(float[] zenith, float[] horizonSky, float[] light, float[] haze, float[] land, float[] water,
                           boolean night) {
        static Palette pick(SplittableRandom rnd) {
            double kind = rnd.nextDouble();
            Palette p = kind < 0.55
                    ? new Palette(Raster.rgb(40, 100, 200), Raster.rgb(170, 210, 240), Raster.rgb(255, 250, 220),
                    Raster.rgb(150, 175, 205), Raster.rgb(60, 120, 50), Raster.rgb(40, 90, 150), false)
                    : kind < 0.85
                    ? new Palette(Raster.rgb(70, 50, 120), Raster.rgb(250, 150, 80), Raster.rgb(255, 220, 150),
                    Raster.rgb(180, 110, 110), Raster.rgb(70, 60, 50), Raster.rgb(90, 60, 90), false)
                    : new Palette(Raster.rgb(5, 10, 35), Raster.rgb(30, 50, 90), Raster.rgb(235, 235, 250),
                    Raster.rgb(40, 55, 85), Raster.rgb(20, 35, 30), Raster.rgb(15, 25, 50), true);
            return p.jittered(rnd);
        }

        /** Each colour moved a little, so no two scenes share a palette exactly. */
        private Palette jittered(SplittableRandom rnd) {
            return new Palette(j(zenith, rnd), j(horizonSky, rnd), light, j(haze, rnd), j(land, rnd), j(water, rnd), night);
        }

        private static float[] j(float[] c, SplittableRandom rnd) {
            float[] o = c.clone();
            for (int k = 0; k < 3; k++) {
                o[k] = (float) Math.max(0, Math.min(1, o[k] + rnd.nextDouble(-0.06, 0.06)));
            }
            return o;
        }
    }

    private static void sky(Raster r, Palette p, int horizon, SplittableRandom rnd) {
        for (int y = 0; y < r.height; y++) {
            float[] c = Raster.mix(p.zenith(), p.horizonSky(), Math.pow(Math.min(1, (double) y / horizon), 1.6));
            for (int x = 0; x < r.width; x++) {
                r.blend(x, y, c, 1);
            }
        }
        if (p.night()) {
            int stars = 40 + rnd.nextInt(80);
            for (int i = 0; i < stars; i++) {
                r.blend(rnd.nextInt(r.width), rnd.nextInt(Math.max(1, horizon * 3 / 4)), p.light(), rnd.nextDouble(0.4, 1));
            }
        }
    }

    private static void sunOrMoon(Raster r, Palette p, int horizon, SplittableRandom rnd) {
        double cx = rnd.nextDouble(0.1, 0.9) * r.width;
        double cy = rnd.nextDouble(0.15, 0.8) * horizon;
        double radius = Math.min(r.width, r.height) * rnd.nextDouble(0.04, 0.08);
        for (int y = 0; y < horizon; y++) {
            for (int x = 0; x < r.width; x++) {
                double d = Math.hypot(x - cx, y - cy);
                double glow = 0.45 * Math.exp(-Math.pow(d / (radius * 4), 2));
                r.blend(x, y, p.light(), d < radius ? 1 : glow);
            }
        }
    }

    private static void clouds(Raster r, Palette p, int horizon, SplittableRandom rnd) {
        int count = rnd.nextInt(5);
        float[] colour = Raster.mix(p.light(), p.horizonSky(), p.night() ? 0.7 : 0.25);
        for (int c = 0; c < count; c++) {
            double cx = rnd.nextDouble() * r.width;
            double cy = rnd.nextDouble(0.1, 0.6) * horizon;
            double w = Math.min(r.width, r.height) * rnd.nextDouble(0.08, 0.2);
            double h = w * rnd.nextDouble(0.25, 0.45);
            int puffs = 3 + rnd.nextInt(4);
            for (int k = 0; k < puffs; k++) {
                double px = cx + rnd.nextDouble(-w, w);
                double py = cy + rnd.nextDouble(-h, h) * 0.5;
                double pr = h * rnd.nextDouble(0.6, 1.1);
                for (int y = (int) (py - 2 * pr); y < py + 2 * pr; y++) {
                    for (int x = (int) (px - 3 * pr); x < px + 3 * pr; x++) {
                        double d = Math.pow((x - px) / (1.8 * pr), 2) + Math.pow((y - py) / pr, 2);
                        r.blend(x, y, colour, 0.8 * Math.exp(-2 * d));
                    }
                }
            }
        }
    }

    /** Layer i of n: a fractal ridgeline, nearer layers lower, darker and less hazy. */
    private static void ridge(Raster r, Palette p, int horizon, int i, int n, SplittableRandom rnd) {
        double near = (double) (i + 1) / n;
        double base = horizon - r.height * (0.22 - 0.15 * near);
        double amplitude = r.height * rnd.nextDouble(0.05, 0.16) * (1.2 - 0.5 * near);
        boolean mountains = rnd.nextDouble() < 0.5;
        Noise1D noise = new Noise1D(rnd.nextLong(), mountains ? 5 : 3);
        float[] colour = Raster.mix(p.haze(), p.land(), 0.35 + 0.65 * near);
        float[] top = Raster.mix(colour, p.light(), mountains && !p.night() ? 0.35 : 0.1);
        double scale = rnd.nextDouble(1.5, 4);
        for (int x = 0; x < r.width; x++) {
            double v = noise.at(scale * x / r.width);
            double ridgeY = base - amplitude * (mountains ? Math.abs(v) * 1.6 : 0.5 + 0.5 * v);
            for (int y = Math.max(0, (int) Math.floor(ridgeY)); y <= horizon && y < r.height; y++) {
                double shade = Math.min(1, (y - ridgeY) / (amplitude + 1));
                double edge = Math.min(1, y + 1 - ridgeY); // anti-aliased top edge at the supersampled scale
                r.blend(x, y, Raster.mix(top, colour, shade), edge);
            }
        }
    }

    /** The sky and land above the horizon mirrored, darker and bluer, wobbled by horizontal ripples. */
    private static void water(Raster r, Palette p, int horizon, SplittableRandom rnd) {
        double phase = rnd.nextDouble(2 * Math.PI);
        double wobble = r.width * rnd.nextDouble(0.003, 0.01);
        for (int y = horizon; y < r.height; y++) {
            double depth = (double) (y - horizon) / Math.max(1, r.height - horizon);
            int mirrored = horizon - (y - horizon) - 1;
            for (int x = 0; x < r.width; x++) {
                int dx = (int) Math.round(wobble * (1 + 3 * depth) * Math.sin(phase + y * 0.9 + Math.sin(x * 0.05)));
                float[] seen = r.get(x + dx, mirrored);
                float[] c = Raster.mix(seen, p.water(), 0.35 + 0.45 * depth);
                r.blend(x, y, c, 1);
            }
        }
    }

    /** Rolling ground below the horizon, then trees and houses standing on it, far to near. */
    private static void meadow(Raster r, Palette p, int horizon, SplittableRandom rnd) {
        Noise1D ground = new Noise1D(rnd.nextLong(), 3);
        float[] far = Raster.mix(p.land(), p.haze(), 0.3);
        float[] near = Raster.mix(p.land(), Raster.rgb(20, 30, 10), 0.3);
        int[] groundY = new int[r.width];
        for (int x = 0; x < r.width; x++) {
            groundY[x] = horizon + (int) (r.height * 0.03 * ground.at(2.0 * x / r.width));
            for (int y = groundY[x]; y < r.height; y++) {
                double t = (double) (y - horizon) / (r.height - horizon);
                r.blend(x, y, Raster.mix(far, near, t), 1);
            }
        }
        int things = 3 + rnd.nextInt(9);
        for (int k = 0; k < things; k++) {
            double depth = rnd.nextDouble(); // 0 far, 1 near
            int x = rnd.nextInt(r.width);
            int y = groundY[x] + (int) (depth * (r.height - groundY[x]) * 0.8);
            double scale = r.height * (0.04 + 0.12 * depth);
            if (rnd.nextDouble() < 0.3) {
                house(r, x, y, scale, rnd, p.night());
            } else {
                tree(r, x, y, scale, rnd, p);
            }
        }
    }

    private static void tree(Raster r, int x, int y, double scale, SplittableRandom rnd, Palette p) {
        float[] trunk = Raster.rgb(80, 55, 35);
        float[] leaves = Raster.mix(Raster.rgb(30 + rnd.nextInt(40), 90 + rnd.nextInt(60), 30 + rnd.nextInt(30)),
                p.land(), p.night() ? 0.7 : 0.2);
        int trunkH = (int) (scale * 0.35);
        int trunkW = Math.max(1, (int) (scale * 0.08));
        fillRect(r, x - trunkW, y - trunkH, x + trunkW, y, trunk);
        if (rnd.nextBoolean()) { // a conifer: a triangle
            double h = scale * 1.1;
            double w = scale * 0.45;
            for (int yy = (int) (y - trunkH - h); yy <= y - trunkH; yy++) {
                double half = w * (yy - (y - trunkH - h)) / h;
                fillRect(r, (int) (x - half), yy, (int) (x + half), yy, leaves);
            }
        } else { // a round crown
            fillDisc(r, x, y - trunkH - scale * 0.4, scale * 0.45, leaves);
        }
    }

    private static void house(Raster r, int x, int y, double scale, SplittableRandom rnd, boolean night) {
        float[] wall = Raster.rgb(150 + rnd.nextInt(100), 120 + rnd.nextInt(110), 90 + rnd.nextInt(100));
        float[] roof = Raster.rgb(120 + rnd.nextInt(110), 30 + rnd.nextInt(50), 20 + rnd.nextInt(40));
        float[] window = night ? Raster.rgb(255, 220, 120) : Raster.rgb(60, 80, 110);
        int w = (int) (scale * 0.9);
        int h = (int) (scale * 0.6);
        fillRect(r, x - w / 2, y - h, x + w / 2, y, wall);
        for (int yy = y - h - (int) (scale * 0.45); yy < y - h; yy++) {
            double half = (w / 2.0 + scale * 0.1) * (yy - (y - h - scale * 0.45)) / (scale * 0.45);
            fillRect(r, (int) (x - half), yy, (int) (x + half), yy, roof);
        }
        int ws = Math.max(1, (int) (scale * 0.15));
        fillRect(r, x - w / 4 - ws / 2, y - h * 2 / 3, x - w / 4 + ws / 2, y - h * 2 / 3 + ws, window);
    }

    private static void fillRect(Raster r, int x0, int y0, int x1, int y1, float[] c) {
        for (int y = y0; y <= y1; y++) {
            for (int x = x0; x <= x1; x++) {
                r.blend(x, y, c, 1);
            }
        }
    }

    private static void fillDisc(Raster r, double cx, double cy, double radius, float[] c) {
        for (int y = (int) (cy - radius - 1); y <= cy + radius + 1; y++) {
            for (int x = (int) (cx - radius - 1); x <= cx + radius + 1; x++) {
                double d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
                r.blend(x, y, c, Math.min(1, radius + 0.5 - d));
            }
        }
    }

    /** Fractal value noise on a line: octaves of smoothly interpolated random values, in about [-1, 1]. */
    private static final class Noise1D {
        private final double[] values = new double[256];
        private final int octaves;

        Noise1D(long seed, int octaves) {
            SplittableRandom rnd = new SplittableRandom(seed);
            for (int i = 0; i < values.length; i++) {
                values[i] = rnd.nextDouble(-1, 1);
            }
            this.octaves = octaves;
        }

        double at(double x) {
            double sum = 0;
            double amplitude = 1;
            double norm = 0;
            for (int o = 0; o < octaves; o++) {
                sum += amplitude * smooth(x * (1 << o) + o * 17.3);
                norm += amplitude;
                amplitude *= 0.5;
            }
            return sum / norm;
        }

        private double smooth(double x) {
            int i = (int) Math.floor(x);
            double f = x - i;
            double t = f * f * (3 - 2 * f);
            return values[Math.floorMod(i, 256)] * (1 - t) + values[Math.floorMod(i + 1, 256)] * t;
        }
    }
}
