package dev.anyrefill.dit;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;

/**
 * One low-rank update of a {@link Linear}: {@code s * (B (A x) + b)} added to output rows
 * [rowOffset, rowOffset + B.rows) of the layer. A covers the whole input; B may cover only a
 * slice of the output, as a diffusers LoRA on to_q covers the q rows of BFL's fused qkv.
 *
 * @param down      A, [rank, in], in its stored type
 * @param up        B, [rows, rank], in its stored type
 * @param upBias    b, [rows] or null (BFL's LinearLora allows a bias on B)
 * @param scale     s = user weight * alpha / rank
 * @param rowOffset first output row of the layer that B writes
 * @param source    where it came from (file and key), for messages
 */
public record LoraAdapter(Tensor down, Tensor up, Tensor upBias, float scale, int rowOffset, String source) {

    public int rank() {
        return down.dim(0);
    }

    public int rows() {
        return up.dim(0);
    }

    /** An error naming the source when the adapter does not fit the layer. */
    void checkFits(Linear layer) {
        if (down.rank() != 2 || up.rank() != 2 || down.dim(1) != layer.inFeatures() || up.dim(1) != down.dim(0)
                || rowOffset < 0 || rowOffset + up.dim(0) > layer.outFeatures()
                || (upBias != null && upBias.size() != up.dim(0))) {
            throw new IllegalArgumentException(source + ": LoRA A " + java.util.Arrays.toString(down.shape())
                    + ", B " + java.util.Arrays.toString(up.shape()) + " at row " + rowOffset
                    + " does not fit " + layer.name() + " [" + layer.outFeatures() + ", " + layer.inFeatures() + "]");
        }
    }

    /** {@code h + s * (B (A x) + b)} on this adapter's rows; x [L, in], h [L, out]. */
    Tensor addTo(Kernels k, Tensor x, Tensor h) {
        Tensor ax = k.linear(x, down, null, Activation.NONE);          // [L, rank]
        // s B (A x): the scale goes on the narrow A x (rank columns), not on the [L, rows] result
        Tensor delta = upBias == null ? k.linear(k.scale(ax, scale), up, null, Activation.NONE)
                : k.scale(k.linear(ax, up, upBias, Activation.NONE), scale);         // [L, rows]
        // only a slice of the output channels (q, k or v of a fused qkv) when B is narrower
        return SliceAdd.COLUMNS.add(k, h, rowOffset, delta);
    }

    /**
     * The backward of {@link #addTo}: dh [L, out] (the layer's output gradient) to this
     * adapter's share of dx [L, in]. A x is recomputed (a thin product, rank / out of the
     * layer's) rather than kept. With u = A x and g = dh on this adapter's rows:
     * dB = s g^T u, du = s g B, dA = du^T x, dx = du A. A trained adapter adds dA and dB to
     * grads; the bias b, if any, stays frozen.
     */
    Tensor backward(Kernels k, Tensor x, Tensor dh, Gradients grads) {
        Tensor g = rowOffset == 0 && rows() == dh.cols() ? dh
                : k.sliceColumns(dh, rowOffset, rowOffset + rows());         // [L, rows]
        Tensor u = k.linear(x, down, null, Activation.NONE);                 // [L, rank]
        Tensor du = k.scale(k.linearBackwardInput(g, up), scale);            // [L, rank]
        String module = grads.moduleOf(this);
        if (module != null) {
            grads.add(module + ".lora_B", k.scale(k.linearBackwardWeight(g, u), scale)); // [rows, rank]
            grads.add(module + ".lora_A", k.linearBackwardWeight(du, x));                // [rank, in]
        }
        return k.linearBackwardInput(du, down);                              // [L, in]
    }
}
