package dev.anyrefill.pipeline;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.sampler.Packing;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.vae.AutoEncoder;
import dev.anyrefill.vae.Tiling;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * FLUX.1-Fill's image conditioning (BFL's {@code sampling.prepare_fill}): per 2x2 latent patch,
 * the packed VAE latent of {@code image * (1 - mask)} (64 channels) followed by the packed mask,
 * each 8x8 pixel block of it turned into 64 channels (256): {@code img_cond} [N, 320] with
 * N = (H/16)(W/16), the same token order as the packed noise.
 */
public final class FillConditioning {
    /** Fill's image sides must be multiples of this: 8 (VAE) times 2 (patch packing). */
    public static final int MULTIPLE = 16;
    /** Mask pixels per latent element along each side, the block that becomes 64 channels. */
    static final int MASK_BLOCK = 8;

    private FillConditioning() {
    }

    /**
     * img_cond [(H/16)(W/16), 320] from an image [3, H, W] in [-1, 1] and a mask [1, H, W] in
     * [0, 1] (1 = to fill). {@code tiling} null encodes the whole image at once.
     */
    public static Tensor prepare(AutoEncoder ae, Tensor image, Tensor mask, Tiling tiling) {
        Kernels k = ae.kernels();
        int h = image.dim(1);
        int w = image.dim(2);
        if (image.rank() != 3 || image.dim(0) != 3 || h % MULTIPLE != 0 || w % MULTIPLE != 0) {
            throw new IllegalArgumentException("Fill conditioning: image must be [3, H, W] with H and W multiples of "
                    + MULTIPLE + ", got " + Arrays.toString(image.shape()));
        }
        if (mask.rank() != 3 || mask.dim(0) != 1 || mask.dim(1) != h || mask.dim(2) != w) {
            throw new IllegalArgumentException("Fill conditioning: mask must be [1, " + h + ", " + w
                    + "] like the image, got " + Arrays.toString(mask.shape()));
        }
        // image * (1 - mask), the mask broadcast over the three channels
        Tensor keep = k.add(k.scale(mask, -1f).reshape(-1, 1), Tensor.wrap(new float[]{1f}, 1)).reshape(h * w);
        Tensor masked = k.mul(image.reshape(3, h * w), keep).reshape(3, h, w);
        Tensor latent = tiling == null ? ae.encode(masked) : tiling.encode(ae, masked); // [16, H/8, W/8]
        masked = null;
        Tensor latentTokens = Packing.pack(latent); // [N, 64]

        // "(h ph) (w pw) -> (ph pw) h w" with ph = pw = 8: each 8x8 block becomes 64 channels
        Tensor blocks = Packing.pack(mask, MASK_BLOCK); // [(H/8)(W/8), 64]
        Tensor maskChannels = k.transpose(blocks).reshape(MASK_BLOCK * MASK_BLOCK, h / MASK_BLOCK, w / MASK_BLOCK);
        Tensor maskTokens = Packing.pack(maskChannels); // [N, 256]
        return k.concatColumns(latentTokens, maskTokens); // [N, 320]
    }

    /**
     * Reads an image and its mask and prepares img_cond, with the size checks Fill needs (sides
     * multiples of 16, the mask the image's size). The mask is kept soft unless {@code binarize}.
     */
    public static Tensor fromFiles(AutoEncoder ae, Path imageFile, Path maskFile, boolean binarize, Tiling tiling) {
        Tensor image = ImageFiles.readImage(imageFile);
        ImageFiles.requireMultipleOf(imageFile, image, MULTIPLE);
        Tensor mask = ImageFiles.readMask(maskFile, binarize);
        ImageFiles.requireSameSize(maskFile, mask, imageFile, image);
        return prepare(ae, image, mask, tiling);
    }
}
