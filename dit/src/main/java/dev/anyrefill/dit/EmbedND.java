package dev.anyrefill.dit;

import dev.anyrefill.tensor.Tensor;

import java.util.Arrays;

/**
 * BFL's {@code EmbedND}: rotary position matrices from n-dimensional position ids. Each axis i
 * (FLUX: index, row, column) gets {@code axesDim[i] / 2} frequencies {@code theta^(-2j / axesDim[i])};
 * a token at position p on that axis gets the rotations [[cos, -sin], [sin, cos]] of p times each.
 * Text tokens have ids (0, 0, 0); image tokens (0, row, column) over the whole canvas.
 */
public final class EmbedND {
    private final int theta;
    private final int[] axesDim;

    public EmbedND(int theta, int[] axesDim) {
        this.theta = theta;
        this.axesDim = axesDim.clone();
    }

    /** Sum of the axes' dimensions: the head size. */
    public int dim() {
        return Arrays.stream(axesDim).sum();
    }

    /** ids [L, axes] to pe [L, dim/2, 2, 2]: BFL's {@code rope} per axis, concatenated. */
    public Tensor forward(Tensor ids) {
        if (ids.rank() != 2 || ids.dim(1) != axesDim.length) {
            throw new IllegalArgumentException("position ids: expected [L, " + axesDim.length + "], got "
                    + Arrays.toString(ids.shape()));
        }
        int tokens = ids.dim(0);
        int pairs = dim() / 2;
        float[] pe = new float[tokens * pairs * 4];
        for (int l = 0; l < tokens; l++) {
            int pair = 0;
            for (int axis = 0; axis < axesDim.length; axis++) {
                double pos = ids.getFloat((long) l * axesDim.length + axis);
                int d = axesDim[axis];
                for (int j = 0; j < d / 2; j++, pair++) {
                    // float64 like the reference: positions up to 64 times omega up to 1
                    double omega = 1.0 / Math.pow(theta, 2.0 * j / d);
                    double angle = pos * omega;
                    int at = (l * pairs + pair) * 4;
                    float cos = (float) Math.cos(angle);
                    float sin = (float) Math.sin(angle);
                    pe[at] = cos;
                    pe[at + 1] = -sin;
                    pe[at + 2] = sin;
                    pe[at + 3] = cos;
                }
            }
        }
        return Tensor.wrap(pe, tokens, pairs, 2, 2);
    }
}
