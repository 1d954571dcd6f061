package dev.anyrefill.vae;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Finite;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;
import dev.anyrefill.weights.WeightsException;

import java.util.Arrays;
import java.util.Map;

/**
 * FLUX's AutoEncoder (BFL's {@code modules/autoencoder.py}): images [3, H, W] in [-1, 1] to
 * latents [z_channels, H/8, W/8] and back. {@link #encode} keeps the mean of the latent
 * distribution (no sampling) and returns {@code scale * (z - shift)}; {@link #decode} undoes
 * that before the decoder. Weights stay in the checkpoint's type, viewed from the mapped file;
 * the encoder or the decoder alone may be present.
 */
public final class AutoEncoder {
    private final AutoEncoderParams params;
    private final Encoder encoder; // null when the checkpoint has no encoder
    private final Decoder decoder; // null when the checkpoint has no decoder
    private final Kernels kernels;

    public AutoEncoder(TensorSource source, AutoEncoderParams params, Kernels kernels) {
        this.params = params;
        this.kernels = kernels;
        checkShapes(source, params);
        this.encoder = source.contains("encoder.conv_in.weight") ? new Encoder(source, params) : null;
        this.decoder = source.contains("decoder.conv_in.weight") ? new Decoder(source, params) : null;
    }

    /** With the shape inferred from the checkpoint and FLUX.1's scale and shift. */
    public AutoEncoder(TensorSource source, Kernels kernels) {
        this(source, AutoEncoderParams.infer(source), kernels);
    }

    private static void checkShapes(TensorSource source, AutoEncoderParams params) {
        for (Map.Entry<String, int[]> e : params.parameterShapes().entrySet()) {
            String name = e.getKey();
            boolean part = source.contains(name.substring(0, name.indexOf('.')) + ".conv_in.weight");
            if (!part) {
                continue;
            }
            if (!source.contains(name)) {
                throw new WeightsException(source.origin() + ": AutoEncoder tensor '" + name + "' is missing");
            }
            int[] shape = source.get(name).shape();
            if (!Arrays.equals(shape, e.getValue())) {
                throw new WeightsException(source.origin() + ": AutoEncoder tensor '" + name + "' has shape "
                        + Arrays.toString(shape) + ", expected " + Arrays.toString(e.getValue()) + " for " + params);
            }
        }
    }

    Encoder encoder() {
        return encoder;
    }

    Decoder decoder() {
        return decoder;
    }

    public AutoEncoderParams params() {
        return params;
    }

    public Kernels kernels() {
        return kernels;
    }

    /** Image [3, H, W] in [-1, 1], H and W multiples of 8, to the scaled latent [z, H/8, W/8]. */
    public Tensor encode(Tensor image) {
        if (encoder == null) {
            throw new IllegalArgumentException("this AutoEncoder checkpoint has no encoder");
        }
        checkImage(image);
        Tensor moments = encoder.forward(kernels, image); // [2 z, h, w]
        Tensor mean = kernels.sliceRows(moments, 0, params.zChannels()); // the mean half
        Finite.require(mean, "the AutoEncoder's encoding", "NaN or infinity in the encoder's weights or in the image");
        return affine(mean, params.scaleFactor(), -params.scaleFactor() * params.shiftFactor());
    }

    /** Scaled latent [z, h, w] to image [3, 8h, 8w], nominally in [-1, 1] (not clamped). */
    public Tensor decode(Tensor z) {
        if (decoder == null) {
            throw new IllegalArgumentException("this AutoEncoder checkpoint has no decoder");
        }
        if (z.rank() != 3 || z.dim(0) != params.zChannels()) {
            throw new IllegalArgumentException("decode: expected a latent [" + params.zChannels()
                    + ", h, w], got " + Arrays.toString(z.shape()));
        }
        // z / scale + shift, the inverse of encode's scaling
        Tensor image = decoder.forward(kernels, affine(z, 1 / params.scaleFactor(), params.shiftFactor()));
        return Finite.require(image, "the AutoEncoder's decoded image", "NaN or infinity in the decoder's weights");
    }

    private void checkImage(Tensor image) {
        int f = params.downscale();
        if (image.rank() != 3 || image.dim(0) != params.inChannels()
                || image.dim(1) % f != 0 || image.dim(2) % f != 0) {
            throw new IllegalArgumentException("encode: expected an image [" + params.inChannels()
                    + ", H, W] with H and W multiples of " + f + ", got " + Arrays.toString(image.shape()));
        }
    }

    /** a * x + b element-wise. */
    private Tensor affine(Tensor x, float a, float b) {
        Tensor scaled = kernels.scale(x, a).reshape(-1, 1);
        return kernels.add(scaled, Tensor.wrap(new float[]{b}, 1)).reshape(x.shape());
    }
}
