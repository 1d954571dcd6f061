package dev.anyrefill.pipeline;

import dev.anyrefill.tensor.Tensor;

import java.util.Arrays;

/**
 * The LPG canvas: the reference and the target side by side, H x 2W, and its mask (1 = the
 * model paints here): 0 over the whole reference half, the target's mask (or all ones) over
 * the other. {@code swapped} puts the reference on the right instead.
 *
 * @param image   [3, H, 2W] in [-1, 1]
 * @param mask    [1, H, 2W] in [0, 1]
 * @param swapped whether the reference is on the right
 */
public record Canvas(Tensor image, Tensor mask, boolean swapped) {

    /** Height of the canvas (and of each half). */
    public int height() {
        return image.dim(1);
    }

    /** Width of one half. */
    public int halfWidth() {
        return image.dim(2) / 2;
    }

    /**
     * Stitches reference [3, H, W] and target [3, H, W]; targetMask [1, H, W] or null for a
     * fully masked target.
     */
    public static Canvas of(Tensor reference, Tensor target, Tensor targetMask, boolean swapped) {
        if (!Arrays.equals(reference.shape(), target.shape()) || reference.rank() != 3) {
            throw new IllegalArgumentException("the reference " + Arrays.toString(reference.shape())
                    + " and the target " + Arrays.toString(target.shape()) + " must be [C, H, W] of one size");
        }
        int h = reference.dim(1);
        int w = reference.dim(2);
        Tensor mask = targetMask != null ? targetMask : fill(1f, 1, h, w);
        if (mask.rank() != 3 || mask.dim(0) != 1 || mask.dim(1) != h || mask.dim(2) != w) {
            throw new IllegalArgumentException("the target mask " + Arrays.toString(mask.shape())
                    + " must be [1, " + h + ", " + w + "] like the target");
        }
        Tensor noMask = fill(0f, 1, h, w);
        return swapped
                ? new Canvas(sideBySide(target, reference), sideBySide(mask, noMask), true)
                : new Canvas(sideBySide(reference, target), sideBySide(noMask, mask), false);
    }

    /** This canvas with both halves masked: the reference left out, everything painted from noise. */
    public Canvas withEverythingMasked() {
        return new Canvas(image, fill(1f, mask.shape()), swapped);
    }

    /** The target's half of an image of the canvas's size: [C, H, 2W] to [C, H, W]. */
    public Tensor targetHalf(Tensor canvasSized) {
        return half(canvasSized, swapped ? 0 : 1);
    }

    /** The reference's half. */
    public Tensor referenceHalf(Tensor canvasSized) {
        return half(canvasSized, swapped ? 1 : 0);
    }

    /** left [C, H, W] and right [C, H, W] as one [C, H, 2W]. */
    public static Tensor sideBySide(Tensor left, Tensor right) {
        int c = left.dim(0);
        int h = left.dim(1);
        int w = left.dim(2);
        float[] l = left.data();
        float[] r = right.data();
        float[] out = new float[c * h * 2 * w];
        for (int row = 0; row < c * h; row++) {
            System.arraycopy(l, row * w, out, row * 2 * w, w);
            System.arraycopy(r, row * w, out, row * 2 * w + w, w);
        }
        return Tensor.wrap(out, c, h, 2 * w);
    }

    private static Tensor half(Tensor image, int which) {
        int c = image.dim(0);
        int h = image.dim(1);
        int w = image.dim(2) / 2;
        float[] in = image.data();
        float[] out = new float[c * h * w];
        for (int row = 0; row < c * h; row++) {
            System.arraycopy(in, row * 2 * w + which * w, out, row * w, w);
        }
        return Tensor.wrap(out, c, h, w);
    }

    /**
     * The painted result where the mask is set, the target's own pixels elsewhere:
     * painted * mask + target * (1 - mask), per pixel, the mask shared by all channels.
     */
    public static Tensor pasteBack(Tensor painted, Tensor target, Tensor mask) {
        int c = painted.dim(0);
        int plane = painted.dim(1) * painted.dim(2);
        float[] p = painted.data();
        float[] t = target.data();
        float[] m = mask.data();
        float[] out = new float[p.length];
        for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < plane; i++) {
                int at = ch * plane + i;
                out[at] = p[at] * m[i] + t[at] * (1 - m[i]);
            }
        }
        return Tensor.wrap(out, painted.shape());
    }

    private static Tensor fill(float value, int... shape) {
        float[] a = new float[Math.toIntExact(Tensor.count(shape))];
        Arrays.fill(a, value);
        return Tensor.wrap(a, shape);
    }
}
