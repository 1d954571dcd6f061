package dev.anyrefill.weights;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The naming schemes FLUX transformer checkpoints come in, and how each maps onto BFL's own
 * names ({@code double_blocks.N.img_attn.qkv.weight}, ...), which the rest of the project uses.
 *
 * <ul>
 *   <li>{@link #BFL}: BFL's single file ({@code flux1-fill-dev.safetensors}).</li>
 *   <li>{@link #COMFYUI}: the same names behind {@code model.diffusion_model.}.</li>
 *   <li>{@link #DIFFUSERS}: diffusers' {@code FluxTransformer2DModel}. Its attention has
 *       separate q, k, v projections where BFL has one fused {@code qkv}; single blocks split
 *       BFL's {@code linear1} into to_q, to_k, to_v and proj_mlp; and {@code norm_out.linear}
 *       produces (scale, shift) where BFL's {@code final_layer.adaLN_modulation.1} produces
 *       (shift, scale).</li>
 * </ul>
 */
public enum FluxLayout {
    BFL, DIFFUSERS, COMFYUI;

    public static final String COMFYUI_PREFIX = "model.diffusion_model.";

    /** How a BFL module is made from diffusers modules. */
    public enum Kind {
        /** One module, renamed. */
        SAME,
        /** Several modules whose output rows are stacked, in order (fused qkv, linear1). */
        CONCAT_ROWS,
        /** One module whose two output halves are swapped (norm_out to final_layer). */
        SWAP_HALVES
    }

    /** A BFL module (name without .weight/.bias) and the diffusers modules it is made of. */
    public record ModuleRule(String bflModule, List<String> diffusersModules, Kind kind) {
    }

    private static final Pattern DOUBLE = Pattern.compile("^double_blocks\\.(\\d+)\\.");
    private static final Pattern SINGLE = Pattern.compile("^single_blocks\\.(\\d+)\\.");
    private static final Pattern DIFF_DOUBLE = Pattern.compile("^transformer_blocks\\.(\\d+)\\.");
    private static final Pattern DIFF_SINGLE = Pattern.compile("^single_transformer_blocks\\.(\\d+)\\.");

    /** The layout of a set of tensor names; an error when it is none of them. */
    public static FluxLayout detect(String origin, Set<String> names) {
        for (String n : names) {
            if (n.startsWith(COMFYUI_PREFIX)) {
                return COMFYUI;
            }
        }
        if (names.contains("img_in.weight")) {
            return BFL;
        }
        if (names.contains("x_embedder.weight")) {
            return DIFFUSERS;
        }
        throw new WeightsException(origin + ": not a FLUX transformer checkpoint: none of img_in.weight "
                + "(BFL), x_embedder.weight (diffusers) or model.diffusion_model.* (ComfyUI) is present");
    }

    /** Number of double and single blocks, counted from names in BFL or diffusers form. */
    static int countBlocks(Set<String> names, boolean single, boolean diffusers) {
        Pattern p = diffusers ? (single ? DIFF_SINGLE : DIFF_DOUBLE) : (single ? SINGLE : DOUBLE);
        int max = -1;
        for (String n : names) {
            Matcher m = p.matcher(n);
            if (m.find()) {
                max = Math.max(max, Integer.parseInt(m.group(1)));
            }
        }
        return max + 1;
    }

    /** Every BFL module of a model with this many blocks, and its diffusers counterpart. */
    public static List<ModuleRule> diffusersRules(int doubleBlocks, int singleBlocks) {
        List<ModuleRule> rules = new ArrayList<>();
        same(rules, "img_in", "x_embedder");
        same(rules, "txt_in", "context_embedder");
        same(rules, "time_in.in_layer", "time_text_embed.timestep_embedder.linear_1");
        same(rules, "time_in.out_layer", "time_text_embed.timestep_embedder.linear_2");
        same(rules, "vector_in.in_layer", "time_text_embed.text_embedder.linear_1");
        same(rules, "vector_in.out_layer", "time_text_embed.text_embedder.linear_2");
        same(rules, "guidance_in.in_layer", "time_text_embed.guidance_embedder.linear_1");
        same(rules, "guidance_in.out_layer", "time_text_embed.guidance_embedder.linear_2");
        same(rules, "final_layer.linear", "proj_out");
        rules.add(new ModuleRule("final_layer.adaLN_modulation.1", List.of("norm_out.linear"), Kind.SWAP_HALVES));
        for (int i = 0; i < doubleBlocks; i++) {
            String b = "double_blocks." + i + ".";
            String d = "transformer_blocks." + i + ".";
            same(rules, b + "img_mod.lin", d + "norm1.linear");
            same(rules, b + "txt_mod.lin", d + "norm1_context.linear");
            rules.add(new ModuleRule(b + "img_attn.qkv",
                    List.of(d + "attn.to_q", d + "attn.to_k", d + "attn.to_v"), Kind.CONCAT_ROWS));
            rules.add(new ModuleRule(b + "txt_attn.qkv",
                    List.of(d + "attn.add_q_proj", d + "attn.add_k_proj", d + "attn.add_v_proj"), Kind.CONCAT_ROWS));
            same(rules, b + "img_attn.norm.query_norm", d + "attn.norm_q");
            same(rules, b + "img_attn.norm.key_norm", d + "attn.norm_k");
            same(rules, b + "txt_attn.norm.query_norm", d + "attn.norm_added_q");
            same(rules, b + "txt_attn.norm.key_norm", d + "attn.norm_added_k");
            same(rules, b + "img_attn.proj", d + "attn.to_out.0");
            same(rules, b + "txt_attn.proj", d + "attn.to_add_out");
            same(rules, b + "img_mlp.0", d + "ff.net.0.proj");
            same(rules, b + "img_mlp.2", d + "ff.net.2");
            same(rules, b + "txt_mlp.0", d + "ff_context.net.0.proj");
            same(rules, b + "txt_mlp.2", d + "ff_context.net.2");
        }
        for (int i = 0; i < singleBlocks; i++) {
            String b = "single_blocks." + i + ".";
            String d = "single_transformer_blocks." + i + ".";
            rules.add(new ModuleRule(b + "linear1",
                    List.of(d + "attn.to_q", d + "attn.to_k", d + "attn.to_v", d + "proj_mlp"), Kind.CONCAT_ROWS));
            same(rules, b + "linear2", d + "proj_out");
            same(rules, b + "modulation.lin", d + "norm.linear");
            same(rules, b + "norm.query_norm", d + "attn.norm_q");
            same(rules, b + "norm.key_norm", d + "attn.norm_k");
        }
        return rules;
    }

    private static void same(List<ModuleRule> rules, String bfl, String diffusers) {
        rules.add(new ModuleRule(bfl, List.of(diffusers), Kind.SAME));
    }

    /** The parameter suffix BFL uses for a diffusers one: RMS norms call their weight "scale". */
    static String bflParam(String bflModule, String diffusersParam) {
        boolean isNorm = bflModule.endsWith("query_norm") || bflModule.endsWith("key_norm");
        return isNorm && diffusersParam.equals("weight") ? "scale" : diffusersParam;
    }
}
