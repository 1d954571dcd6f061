package dev.anyrefill.sampler;

import dev.anyrefill.tensor.Tensor;

/**
 * The position ids FLUX's RoPE reads (BFL's {@code prepare}): image token (i, j) of the packed
 * grid gets (0, i, j); text tokens get (0, 0, 0). For an LPG canvas the grid is the whole
 * canvas (reference and target side by side), so columns run over both halves: the positional
 * grid is extended, never interpolated.
 */
public final class PositionIds {
    private PositionIds() {
    }

    /** [rows * cols, 3] ids of a packed token grid rows x cols (latent height / 2, width / 2). */
    public static Tensor image(int rows, int cols) {
        float[] ids = new float[rows * cols * 3];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                int at = (i * cols + j) * 3;
                ids[at + 1] = i;
                ids[at + 2] = j;
            }
        }
        return Tensor.wrap(ids, rows * cols, 3);
    }

    /** [tokens, 3] zeros. */
    public static Tensor text(int tokens) {
        return Tensor.zeros(tokens, 3);
    }
}
