package dev.anyrefill.dit;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Adds a LoRA delta into one slice of a fused layer: the q, k or v part of a qkv projection.
 * At run time the slice is columns of the layer's output [L, out]; when merging it is rows
 * of the weight [out, in]. The rest of the tensor passes through unchanged.
 */
enum SliceAdd {
    ROWS {
        @Override
        Tensor slice(Kernels k, Tensor x, int from, int to) {
            return k.sliceRows(x, from, to);
        }

        @Override
        Tensor join(Kernels k, Tensor[] parts) {
            return k.concatRows(parts);
        }

        @Override
        int length(Tensor x) {
            return x.dim(0);
        }
    },
    COLUMNS {
        @Override
        Tensor slice(Kernels k, Tensor x, int from, int to) {
            return k.sliceColumns(x, from, to);
        }

        @Override
        Tensor join(Kernels k, Tensor[] parts) {
            return k.concatColumns(parts);
        }

        @Override
        int length(Tensor x) {
            return x.cols();
        }
    };

    abstract Tensor slice(Kernels k, Tensor x, int from, int to);

    abstract Tensor join(Kernels k, Tensor[] parts);

    abstract int length(Tensor x);

    /** x with the slice [offset, offset + length(delta)) along this axis increased by delta. */
    Tensor add(Kernels k, Tensor x, int offset, Tensor delta) {
        int end = offset + length(delta);
        int all = length(x);
        if (offset == 0 && end == all) {
            return k.add(x, delta);
        }
        List<Tensor> parts = new ArrayList<>(3);
        if (offset > 0) {
            parts.add(slice(k, x, 0, offset));
        }
        parts.add(k.add(slice(k, x, offset, end), delta));
        if (end < all) {
            parts.add(slice(k, x, end, all));
        }
        return join(k, parts.toArray(Tensor[]::new));
    }
}
