package dev.anyrefill.weights;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tensors (BFL names and shapes) of FLUX's AutoEncoder for a given width: {@code ch}
 * channels at the first level, multiplied per level by {@code chMult}, {@code numResBlocks}
 * ResNet blocks per level, {@code zChannels} latent channels. Used to generate a model's
 * weights (the embedded demo) that load exactly like BFL's {@code ae.safetensors}.
 */
public final class AutoEncoderShapes {
    private AutoEncoderShapes() {
    }

    public static Map<String, int[]> of(int ch, int[] chMult, int numResBlocks, int zChannels, int imageChannels) {
        Map<String, int[]> s = new LinkedHashMap<>();
        int levels = chMult.length;
        conv(s, "encoder.conv_in", ch, imageChannels, 3);
        int in = ch;
        for (int i = 0; i < levels; i++) {
            int out = ch * chMult[i];
            for (int j = 0; j < numResBlocks; j++) {
                resnet(s, "encoder.down." + i + ".block." + j, in, out);
                in = out;
            }
            if (i != levels - 1) {
                conv(s, "encoder.down." + i + ".downsample.conv", in, in, 3);
            }
        }
        middle(s, "encoder.mid", in);
        norm(s, "encoder.norm_out", in);
        conv(s, "encoder.conv_out", 2 * zChannels, in, 3);

        int top = ch * chMult[levels - 1];
        conv(s, "decoder.conv_in", top, zChannels, 3);
        middle(s, "decoder.mid", top);
        in = top;
        for (int i = levels - 1; i >= 0; i--) {
            int out = ch * chMult[i];
            for (int j = 0; j <= numResBlocks; j++) {
                resnet(s, "decoder.up." + i + ".block." + j, in, out);
                in = out;
            }
            if (i != 0) {
                conv(s, "decoder.up." + i + ".upsample.conv", in, in, 3);
            }
        }
        norm(s, "decoder.norm_out", in);
        conv(s, "decoder.conv_out", imageChannels, in, 3);
        return s;
    }

    private static void middle(Map<String, int[]> s, String prefix, int c) {
        resnet(s, prefix + ".block_1", c, c);
        norm(s, prefix + ".attn_1.norm", c);
        for (String p : new String[]{"q", "k", "v", "proj_out"}) {
            conv(s, prefix + ".attn_1." + p, c, c, 1);
        }
        resnet(s, prefix + ".block_2", c, c);
    }

    private static void resnet(Map<String, int[]> s, String prefix, int in, int out) {
        norm(s, prefix + ".norm1", in);
        conv(s, prefix + ".conv1", out, in, 3);
        norm(s, prefix + ".norm2", out);
        conv(s, prefix + ".conv2", out, out, 3);
        if (in != out) {
            conv(s, prefix + ".nin_shortcut", out, in, 1);
        }
    }

    private static void conv(Map<String, int[]> s, String module, int out, int in, int k) {
        s.put(module + ".weight", new int[]{out, in, k, k});
        s.put(module + ".bias", new int[]{out});
    }

    private static void norm(Map<String, int[]> s, String module, int c) {
        s.put(module + ".weight", new int[]{c});
        s.put(module + ".bias", new int[]{c});
    }
}
