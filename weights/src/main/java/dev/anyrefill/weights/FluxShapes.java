package dev.anyrefill.weights;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tensors (BFL names and shapes) of a FLUX transformer with a given configuration: the
 * inverse of {@link FluxConfig#infer}. Used to make models with generated weights (the
 * embedded demo, the real-width benchmark) that load exactly like a checkpoint.
 */
public final class FluxShapes {
    private FluxShapes() {
    }

    public static Map<String, int[]> of(FluxConfig c) {
        int h = c.hiddenSize();
        int mlp = c.mlpHidden();
        int hd = c.headDim();
        Map<String, int[]> s = new LinkedHashMap<>();
        linear(s, "img_in", h, c.inChannels(), true);
        linear(s, "time_in.in_layer", h, 256, true);
        linear(s, "time_in.out_layer", h, h, true);
        linear(s, "vector_in.in_layer", h, c.vecInDim(), true);
        linear(s, "vector_in.out_layer", h, h, true);
        if (c.guidanceEmbed()) {
            linear(s, "guidance_in.in_layer", h, 256, true);
            linear(s, "guidance_in.out_layer", h, h, true);
        }
        linear(s, "txt_in", h, c.contextInDim(), true);
        for (int i = 0; i < c.depth(); i++) {
            String b = "double_blocks." + i + ".";
            for (String stream : new String[]{"img", "txt"}) {
                linear(s, b + stream + "_mod.lin", 6 * h, h, true);
                linear(s, b + stream + "_attn.qkv", 3 * h, h, c.qkvBias());
                s.put(b + stream + "_attn.norm.query_norm.scale", new int[]{hd});
                s.put(b + stream + "_attn.norm.key_norm.scale", new int[]{hd});
                linear(s, b + stream + "_attn.proj", h, h, true);
                linear(s, b + stream + "_mlp.0", mlp, h, true);
                linear(s, b + stream + "_mlp.2", h, mlp, true);
            }
        }
        for (int i = 0; i < c.depthSingleBlocks(); i++) {
            String b = "single_blocks." + i + ".";
            linear(s, b + "linear1", 3 * h + mlp, h, true);
            linear(s, b + "linear2", h, h + mlp, true);
            s.put(b + "norm.query_norm.scale", new int[]{hd});
            s.put(b + "norm.key_norm.scale", new int[]{hd});
            linear(s, b + "modulation.lin", 3 * h, h, true);
        }
        linear(s, "final_layer.linear", c.outChannels(), h, true);
        linear(s, "final_layer.adaLN_modulation.1", 2 * h, h, true);
        return s;
    }

    static void linear(Map<String, int[]> s, String module, int out, int in, boolean bias) {
        s.put(module + ".weight", new int[]{out, in});
        if (bias) {
            s.put(module + ".bias", new int[]{out});
        }
    }
}
