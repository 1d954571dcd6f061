package dev.anyrefill.weights.lora;

/**
 * The naming schemes of FLUX LoRA files.
 *
 * <ul>
 *   <li>{@link #BFL}: BFL's module names, {@code double_blocks.0.img_attn.qkv.lora_A.weight} /
 *       {@code lora_B.weight} (optionally {@code lora_B.bias}); also behind {@code diffusion_model.}.</li>
 *   <li>{@link #PEFT}: PEFT/diffusers, diffusers' module names
 *       ({@code transformer.transformer_blocks.0.attn.to_q.lora_A.weight}); q, k, v (and proj_mlp)
 *       are separate modules that land on row slices of BFL's fused qkv / linear1.</li>
 *   <li>{@link #KOHYA}: kohya's {@code lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight} /
 *       {@code lora_up.weight} / {@code alpha}, with BFL names behind {@code lora_unet_}, or
 *       diffusers names behind {@code lora_transformer_}.</li>
 * </ul>
 */
public enum LoraLayout {
    BFL, PEFT, KOHYA
}
