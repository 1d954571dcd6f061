package dev.anyrefill.weights.lora;

import dev.anyrefill.tensor.Tensor;

import java.util.List;

/**
 * One low-rank update of a file, mapped onto a BFL linear layer: {@code h += s (B (A x) + b)}
 * on output rows [rowOffset, rowOffset + B.rows) of {@code bflModule}, with
 * {@code s = user weight * alpha / rank}.
 *
 * @param fileModule the module as the file names it (for messages)
 * @param bflModule  the canonical BFL module ({@code double_blocks.0.img_attn.qkv})
 * @param rowOffset  first output row of the BFL layer this update writes (a slice for a
 *                   diffusers to_k, say); 0 for a whole layer
 * @param slice      true when B covers only a slice of the layer's rows
 * @param down       A [rank, in], in its stored type
 * @param up         B [rows, rank], in its stored type
 * @param upBias     b [rows] or null
 * @param alpha      the LoRA alpha (the rank when the file stores none)
 * @param keys       the file's tensor names this module consumed
 */
public record LoraModule(String fileModule, String bflModule, int rowOffset, boolean slice, Tensor down, Tensor up,
                         Tensor upBias, double alpha, List<String> keys) {

    public int rank() {
        return down.dim(0);
    }

    /** user weight * alpha / rank. */
    public double scale(double userWeight) {
        return userWeight * alpha / rank();
    }
}
