package dev.anyrefill.sampler;

import dev.anyrefill.tensor.Tensor;

/**
 * FLUX's 2x2 patch packing: a latent image [C, H, W] becomes H/2 * W/2 tokens of C * 4
 * channels, as BFL's {@code rearrange(x, "b c (h ph) (w pw) -> b (h w) (c ph pw)", ph=2, pw=2)}.
 * Token (i, j) is row-major over the (H/2, W/2) grid; channel c * 4 + ph * 2 + pw.
 */
public final class Packing {
    private Packing() {
    }

    /** [C, H, W] to [(H/p)(W/p), C p p] for patch size p (2 for latents, 8 for Fill's mask). */
    public static Tensor pack(Tensor image, int patch) {
        int c = image.dim(0);
        int h = image.dim(1);
        int w = image.dim(2);
        if (h % patch != 0 || w % patch != 0) {
            throw new IllegalArgumentException("cannot pack " + image + " in " + patch + "x" + patch
                    + " patches: height and width must be multiples of " + patch);
        }
        int gh = h / patch;
        int gw = w / patch;
        int channels = c * patch * patch;
        float[] out = new float[gh * gw * channels];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int token = (y / patch) * gw + x / patch;
                    int channel = (ch * patch + y % patch) * patch + x % patch;
                    out[token * channels + channel] = image.getFloat(((long) ch * h + y) * w + x);
                }
            }
        }
        return Tensor.wrap(out, gh * gw, channels);
    }

    /** The 2x2 packing of latents. */
    public static Tensor pack(Tensor latent) {
        return pack(latent, 2);
    }

    /** The inverse of {@link #pack(Tensor)}: [(H/2)(W/2), C*4] to [C, H, W] for latent size H x W. */
    public static Tensor unpack(Tensor packed, int height, int width) {
        int gh = height / 2;
        int gw = width / 2;
        int channels = packed.cols();
        if (packed.rows() != gh * gw || channels % 4 != 0) {
            throw new IllegalArgumentException("cannot unpack " + packed + " to a " + height + "x" + width + " latent");
        }
        int c = channels / 4;
        float[] in = packed.data();
        float[] out = new float[c * height * width];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int token = (y / 2) * gw + x / 2;
                    int channel = (ch * 2 + y % 2) * 2 + x % 2;
                    out[(ch * height + y) * width + x] = in[token * channels + channel];
                }
            }
        }
        return Tensor.wrap(out, c, height, width);
    }
}
