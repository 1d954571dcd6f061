package dev.anyrefill.dit;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/** BFL's {@code MLPEmbedder}: out_layer(silu(in_layer(x))), for time, guidance and the pooled vector. */
public final class MLPEmbedder {
    final Linear inLayer;
    final Linear outLayer;
    private final Mlp mlp;

    MLPEmbedder(TensorSource w, String prefix) {
        this.inLayer = Layers.linear(w, prefix + ".in_layer");
        this.outLayer = Layers.linear(w, prefix + ".out_layer");
        this.mlp = new Mlp(inLayer, Activation.SILU, outLayer);
    }

    public Tensor forward(Kernels k, Tensor x) {
        return mlp.forward(k, x).out();
    }

    /** The backward of forward(k, x), recomputing its inside (one small vector): dOut [hidden] to dx. */
    public Tensor backward(Kernels k, Tensor x, Tensor dOut, Gradients grads) {
        return mlp.backward(k, x, mlp.forward(k, x), dOut, grads);
    }
}
