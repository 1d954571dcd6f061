package dev.anyrefill.vae;

import dev.anyrefill.weights.AutoEncoderShapes;
import dev.anyrefill.weights.TensorSource;
import dev.anyrefill.weights.WeightsException;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The shape of a FLUX AutoEncoder, as BFL's {@code AutoEncoderParams}: base width {@code ch},
 * the width multiplier of each resolution level {@code chMult}, ResnetBlocks per level,
 * latent channels, and the latent scale and shift (0.3611 and 0.1159 for FLUX.1).
 * {@link #infer} reads all but the two factors from a checkpoint's tensor shapes.
 */
public record AutoEncoderParams(int inChannels, int ch, int outCh, int[] chMult, int numResBlocks,
                                int zChannels, float scaleFactor, float shiftFactor) {
    /** FLUX.1's latent scale. */
    public static final float FLUX_SCALE_FACTOR = 0.3611f;
    /** FLUX.1's latent shift. */
    public static final float FLUX_SHIFT_FACTOR = 0.1159f;

    public AutoEncoderParams {
        chMult = chMult.clone();
        if (ch <= 0 || zChannels <= 0 || numResBlocks <= 0 || chMult.length == 0) {
            throw new IllegalArgumentException("invalid AutoEncoder params: ch " + ch + ", ch_mult "
                    + Arrays.toString(chMult) + ", num_res_blocks " + numResBlocks + ", z_channels " + zChannels);
        }
    }

    /** FLUX.1's AutoEncoder: ch 128, ch_mult [1, 2, 4, 4], 2 res blocks, 16 latent channels. */
    public static AutoEncoderParams flux() {
        return new AutoEncoderParams(3, 128, 3, new int[]{1, 2, 4, 4}, 2, 16, FLUX_SCALE_FACTOR, FLUX_SHIFT_FACTOR);
    }

    @Override
    public int[] chMult() {
        return chMult.clone();
    }

    public int levels() {
        return chMult.length;
    }

    /** Pixels per latent element along each side: 2^(levels - 1) (8 for FLUX). */
    public int downscale() {
        return 1 << (chMult.length - 1);
    }

    /** The same shape with other latent factors. */
    public AutoEncoderParams withFactors(float scale, float shift) {
        return new AutoEncoderParams(inChannels, ch, outCh, chMult, numResBlocks, zChannels, scale, shift);
    }

    /**
     * Reads the shape from a checkpoint under BFL's names (the encoder, the decoder, or both);
     * the factors are FLUX.1's.
     */
    public static AutoEncoderParams infer(TensorSource source) {
        boolean encoder = source.contains("encoder.conv_in.weight");
        boolean decoder = source.contains("decoder.conv_in.weight");
        if (!encoder && !decoder) {
            throw new WeightsException(source.origin() + ": not a FLUX AutoEncoder checkpoint "
                    + "(neither 'encoder.conv_in.weight' nor 'decoder.conv_in.weight' present)");
        }
        int levels = countIndexed(source, encoder ? "encoder.down." : "decoder.up.");
        if (levels == 0) {
            throw new WeightsException(source.origin() + ": AutoEncoder has no resolution levels");
        }
        int ch;
        int inChannels = 3;
        int outCh = 3;
        int zChannels;
        int numResBlocks;
        int[] chMult = new int[levels];
        if (encoder) {
            int[] convIn = source.get("encoder.conv_in.weight").shape();
            ch = convIn[0];
            inChannels = convIn[1];
            zChannels = source.get("encoder.conv_out.weight").dim(0) / 2;
            numResBlocks = countIndexed(source, "encoder.down.0.block.");
            for (int i = 0; i < levels; i++) {
                chMult[i] = source.get("encoder.down." + i + ".block.0.conv2.weight").dim(0) / ch;
            }
        } else {
            ch = source.get("decoder.norm_out.weight").dim(0);
            zChannels = source.get("decoder.conv_in.weight").dim(1);
            numResBlocks = countIndexed(source, "decoder.up.0.block.") - 1;
            for (int i = 0; i < levels; i++) {
                chMult[i] = source.get("decoder.up." + i + ".block.0.conv2.weight").dim(0) / ch;
            }
        }
        if (decoder) {
            outCh = source.get("decoder.conv_out.weight").dim(0);
            int dz = source.get("decoder.conv_in.weight").dim(1);
            if (dz != zChannels) {
                throw new WeightsException(source.origin() + ": encoder makes " + zChannels
                        + " latent channels, decoder takes " + dz);
            }
        }
        return new AutoEncoderParams(inChannels, ch, outCh, chMult, numResBlocks, zChannels,
                factor(source, SCALE_KEY, FLUX_SCALE_FACTOR), factor(source, SHIFT_KEY, FLUX_SHIFT_FACTOR));
    }

    /** Metadata keys of a latent scale and shift measured for this AutoEncoder (by {@code vae train}). */
    public static final String SCALE_KEY = "anyrefill.scale_factor";
    public static final String SHIFT_KEY = "anyrefill.shift_factor";

    /** A factor from the file's metadata where {@code vae train} measured one, else FLUX.1's. */
    private static float factor(TensorSource source, String key, float flux) {
        String v = source.metadata().get(key);
        if (v == null) {
            return flux;
        }
        try {
            float f = Float.parseFloat(v);
            if (Float.isFinite(f)) {
                return f;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new WeightsException(source.origin() + ": metadata " + key + " is '" + v + "', not a finite number");
    }

    /** How many of prefix0., prefix1., ... exist. */
    private static int countIndexed(TensorSource source, String prefix) {
        int n = 0;
        while (true) {
            String p = prefix + n + ".";
            if (source.names().stream().noneMatch(name -> name.startsWith(p))) {
                return n;
            }
            n++;
        }
    }

    /**
     * Every parameter's name and shape under BFL's names, encoder then decoder: what a
     * checkpoint of this shape holds ({@link AutoEncoderShapes}, with this output channel count).
     */
    public Map<String, int[]> parameterShapes() {
        Map<String, int[]> shapes = new LinkedHashMap<>(AutoEncoderShapes.of(ch, chMult, numResBlocks, zChannels, inChannels));
        shapes.put("decoder.conv_out.weight", new int[]{outCh, ch * chMult[0], 3, 3});
        shapes.put("decoder.conv_out.bias", new int[]{outCh});
        return shapes;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AutoEncoderParams p && p.inChannels == inChannels && p.ch == ch && p.outCh == outCh
                && Arrays.equals(p.chMult, chMult) && p.numResBlocks == numResBlocks && p.zChannels == zChannels
                && p.scaleFactor == scaleFactor && p.shiftFactor == shiftFactor;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(chMult) * 31 + ch * 17 + zChannels;
    }

    @Override
    public String toString() {
        return "ch " + ch + ", ch_mult " + Arrays.toString(chMult) + ", num_res_blocks " + numResBlocks
                + ", z_channels " + zChannels + ", in/out channels " + inChannels + "/" + outCh
                + ", scale " + scaleFactor + ", shift " + shiftFactor;
    }
}
