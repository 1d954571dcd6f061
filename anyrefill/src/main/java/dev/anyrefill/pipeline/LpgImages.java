package dev.anyrefill.pipeline;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.ImageOps;
import dev.anyrefill.image.Pixels;
import dev.anyrefill.tensor.Tensor;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The two images of an LPG run, brought to one size: the reference, the target and the
 * target's mask (null when the whole target is to be painted).
 *
 * @param reference  [3, H, W] in [-1, 1]
 * @param target     [3, H, W] in [-1, 1]
 * @param targetMask [1, H, W] in [0, 1], or null
 */
public record LpgImages(Tensor reference, Tensor target, Tensor targetMask) {

    /** The largest side of a half: beyond it the canvas's tensors would pass 2^31 floats in the VAE. */
    public static final int MAX_SIDE = 8192;

    /** A size HxW, as {@code --size 512x512} gives it. */
    public record Size(int height, int width) {
        public Size {
            if (height < 1 || width < 1) {
                throw new IllegalArgumentException("--size " + height + "x" + width + ": height and width must be positive");
            }
        }

        public static Size parse(String text) {
            String[] parts = text.toLowerCase(Locale.ROOT).split("x");
            try {
                if (parts.length == 2) {
                    return new Size(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException("--size '" + text + "' is not HEIGHTxWIDTH, e.g. 512x512");
        }

        @Override
        public String toString() {
            return height + "x" + width;
        }
    }

    /**
     * Reads the images and resizes them to {@code size}, or to the reference's own size when
     * size is null. The mask must have the target's size as given (it describes those pixels).
     */
    public static LpgImages read(Path reference, Path target, Path mask, Size size, boolean binarizeMask) {
        return of(reference, ImageFiles.readRgb(reference), target, ImageFiles.readRgb(target),
                mask, mask == null ? null : ImageFiles.readGrey(mask), size, binarizeMask);
    }

    /** {@link #read} on images already decoded (the paths name them in errors). */
    public static LpgImages of(Path reference, Pixels ref, Path target, Pixels tgt, Path mask, Pixels msk, Size size,
                               boolean binarizeMask) {
        if (msk != null && (msk.height() != tgt.height() || msk.width() != tgt.width())) {
            throw new IllegalArgumentException(mask + ": the mask is " + msk.size() + ", the target " + target
                    + " is " + tgt.size() + "; they must be the same size");
        }
        Size s = size != null ? size : new Size(ref.height(), ref.width());
        if (s.height() > MAX_SIDE || s.width() > MAX_SIDE) {
            throw new IllegalArgumentException(size != null
                    ? "--size " + s + ": at most " + MAX_SIDE + " pixels a side"
                    : reference + ": the reference is " + ref.size() + ", more than " + MAX_SIDE + " pixels a side; give "
                    + "--size HxW to bring it down");
        }
        int m = FillConditioning.MULTIPLE;
        if (s.height() % m != 0 || s.width() % m != 0) {
            throw new IllegalArgumentException(size != null
                    ? "--size " + s + ": height and width must be multiples of " + m
                    : reference + ": the reference is " + ref.size() + " (width x height), not a multiple of " + m
                    + " on each side; give --size HxW (e.g. --size " + roundTo(ref.height(), m) + "x"
                    + roundTo(ref.width(), m) + ")");
        }
        Tensor refT = ImageFiles.toTensor(ImageOps.resize(ref, s.height(), s.width()));
        Tensor tgtT = ImageFiles.toTensor(ImageOps.resize(tgt, s.height(), s.width()));
        Tensor mskT = msk == null ? null : ImageFiles.toMask(ImageOps.resize(msk, s.height(), s.width()), binarizeMask);
        return new LpgImages(refT, tgtT, mskT);
    }

    private static int roundTo(int value, int multiple) {
        return Math.max(multiple, Math.round(value / (float) multiple) * multiple);
    }
}
