package dev.anyrefill.vae;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/**
 * A 2-D convolution layer ({@code nn.Conv2d}): weight [O, C, k, k] in its stored type, bias [O].
 * The padding is {top, bottom, left, right}, so Downsample's asymmetric padding fits too.
 */
final class Conv2d {
    private final Tensor weight;
    private final Tensor bias;
    private final int stride;
    private final int[] padding;

    Conv2d(TensorSource source, String name, int stride, int[] padding) {
        this.weight = source.get(name + ".weight");
        this.bias = source.get(name + ".bias").toF32();
        this.stride = stride;
        this.padding = padding.clone();
    }

    /** A k x k convolution, stride 1, padded to keep the size (k = 1 or 3). */
    static Conv2d same(TensorSource source, String name) {
        int k = source.get(name + ".weight").dim(-1);
        int p = k / 2;
        return new Conv2d(source, name, 1, new int[]{p, p, p, p});
    }

    /** [C, H, W] to [O, H', W']. */
    Tensor forward(Kernels k, Tensor x) {
        return k.conv2d(x, weight, bias, stride, padding);
    }

    /** The weight of a 1x1 convolution as a matrix [O, C] (a view, for {@link Kernels#linear}). */
    Tensor matrix() {
        return weight.reshape(weight.dim(0), weight.dim(1));
    }

    Tensor bias() {
        return bias;
    }
}
