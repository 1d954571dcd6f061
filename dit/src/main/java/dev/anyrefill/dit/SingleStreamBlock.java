package dev.anyrefill.dit;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/**
 * BFL's {@code SingleStreamBlock}: one stream of text and image tokens; the qkv projection and
 * the MLP's first layer are fused in {@code linear1}, attention output and MLP output are
 * projected together by {@code linear2} (parallel attention and MLP).
 */
public final class SingleStreamBlock {
    static final float EPS = 1e-6f;

    final Linear linear1;
    final Linear linear2;
    final QKNorm norm;
    final Modulation modulation;
    private final int hiddenSize;
    private final int numHeads;

    SingleStreamBlock(TensorSource w, String prefix, int hiddenSize, int numHeads) {
        linear1 = Layers.linear(w, prefix + ".linear1");
        linear2 = Layers.linear(w, prefix + ".linear2");
        norm = new QKNorm(w, prefix + ".norm");
        modulation = new Modulation(w, prefix + ".modulation", false);
        this.hiddenSize = hiddenSize;
        this.numHeads = numHeads;
    }

    /** x [L, hidden] (text tokens first), vec [hidden], pe [L, D/2, 2, 2]; returns [L, hidden]. */
    public Tensor forward(Kernels k, Tensor x, Tensor vec, Tensor pe) {
        Modulation.ModulationOut mod = modulation.forward(k, vec)[0];
        Tensor xMod = k.layerNormModulate(x, mod.shift(), mod.scale(), EPS);
        Tensor fused = linear1.forward(k, xMod);                                // [L, 3 hidden + mlp]
        Tensor qkv = k.sliceColumns(fused, 0, 3 * hiddenSize);
        Tensor mlp = k.sliceColumns(fused, 3 * hiddenSize, fused.cols());

        Tensor[] heads = Attention.splitQkv(k, qkv, numHeads);                  // [L, H, D] each
        Tensor[] qk = norm.forward(k, heads[0], heads[1]);
        Tensor attn = Attention.attention(k, qk[0], qk[1], heads[2], pe);      // [L, hidden]

        // compute activation in mlp stream, cat again and run second linear layer
        Tensor output = linear2.forward(k, k.concatColumns(attn, k.activation(mlp, Activation.GELU_TANH)));
        return k.gatedResidual(x, mod.gate(), output);
    }
}
