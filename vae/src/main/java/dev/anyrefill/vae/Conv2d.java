package dev.anyrefill.vae;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/**
 * A 2-D convolution layer ({@code nn.Conv2d}): weight [O, C, k, k] in its stored type, bias [O].
 * The padding is {top, bottom, left, right}, so Downsample's asymmetric padding fits too.
 */
final class Conv2d {
    private final String name;
    private final Tensor weight;
    private final Tensor bias;
    private final int stride;
    private final int[] padding;

    Conv2d(TensorSource source, String name, int stride, int[] padding) {
        this.name = name;
        this.weight = source.get(name + ".weight");
        this.bias = source.get(name + ".bias").asHeapF32();
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

    /** dx for the forward's input x and output gradient dy; adds dW and db to grads. */
    Tensor backward(Kernels k, Tensor x, Tensor dy, ParameterGradients grads) {
        Kernels.ConvGrads g = k.conv2dBackward(x, weight, stride, padding, dy);
        grads.add(name + ".weight", g.dw());
        grads.add(name + ".bias", g.db());
        return g.dx();
    }

    /** The BFL name of this layer ({@code encoder.conv_in}). */
    String name() {
        return name;
    }

    /** The weight of a 1x1 convolution as a matrix [O, C] (a view, for {@link Kernels#linear}). */
    Tensor matrix() {
        return weight.reshape(weight.dim(0), weight.dim(1));
    }

    Tensor bias() {
        return bias;
    }
}
