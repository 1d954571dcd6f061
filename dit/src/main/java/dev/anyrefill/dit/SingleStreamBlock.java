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
    final Linear linear1;
    final Linear linear2;
    final QKNorm norm;
    final Modulation modulation;
    private final int hiddenSize;
    private final int numHeads;

    /** What forward keeps for backward. */
    record Activations(
            Tensor x,                       // [L, hidden] the block's input
            Modulation.ModulationOut mod,   // shift, scale, gate [hidden]
            Tensor xMod,                    // [L, hidden] (1 + scale) * norm(x) + shift
            Tensor mlp,                     // [L, mlp] linear1's MLP columns, before GELU
            SelfAttention.Qkv qkv,          // linear1's q, k (normalised), v [L, H, D]
            Attention.Activations attention,
            Tensor attnAndMlp,              // [L, hidden + mlp] cat(attention, GELU(mlp)): linear2's input
            Tensor output,                  // [L, hidden] linear2's output
            Tensor out) {                   // [L, hidden] x + gate * output
    }

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
        return activations(k, x, vec, pe, false).out();
    }

    /** The forward, keeping every activation; {@code forBackward} also keeps attention's log-sum-exp. */
    Activations activations(Kernels k, Tensor x, Tensor vec, Tensor pe, boolean forBackward) {
        Modulation.ModulationOut mod = modulation.forward(k, vec)[0];
        Tensor xMod = k.layerNormModulate(x, mod.shift(), mod.scale(), Layers.EPS);
        Tensor fused = linear1.forward(k, xMod);                                // [L, 3 hidden + mlp]
        Tensor qkvCols = k.sliceColumns(fused, 0, 3 * hiddenSize);
        Tensor mlp = k.sliceColumns(fused, 3 * hiddenSize, fused.cols());

        SelfAttention.Qkv qkv = SelfAttention.splitAndNorm(k, norm, qkvCols, numHeads); // [L, H, D] each
        Attention.Activations attn = Attention.forward(k, qkv.q(), qkv.k(), qkv.v(), pe, forBackward);

        // compute activation in mlp stream, cat again and run second linear layer
        Tensor attnAndMlp = k.concatColumns(attn.out().out(), k.activation(mlp, Activation.GELU_TANH));
        Tensor output = linear2.forward(k, attnAndMlp);
        return new Activations(x, mod, xMod, mlp, qkv, attn, attnAndMlp, output, k.gatedResidual(x, mod.gate(), output));
    }

    /**
     * The backward of forward(k, x, vec, pe): dOut [L, hidden] to {dx, dVec}, the block's inside
     * recomputed from x first (activation checkpointing).
     */
    public Tensor[] backward(Kernels k, Tensor x, Tensor vec, Tensor pe, Tensor dOut, Gradients grads) {
        return backward(k, activations(k, x, vec, pe, true), vec, pe, dOut, grads);
    }

    /** The backward from activations kept by the forward ({@link #activations} with {@code forBackward}). */
    Tensor[] backward(Kernels k, Activations a, Tensor vec, Tensor pe, Tensor dOut, Gradients grads) {
        Tensor[] g = k.gatedResidualBackward(a.mod().gate(), a.output(), dOut);  // {dOutput, dGate}
        Tensor dAttnAndMlp = linear2.backward(k, a.attnAndMlp(), g[0], grads);
        Tensor dAttn = k.sliceColumns(dAttnAndMlp, 0, hiddenSize);
        Tensor dMlp = k.activationBackward(a.mlp(),
                k.sliceColumns(dAttnAndMlp, hiddenSize, dAttnAndMlp.cols()), Activation.GELU_TANH);

        Tensor[] dqkv = Attention.backward(k, a.attention(), pe, dAttn);
        Tensor dQkvCols = SelfAttention.joinAndNormBackward(k, norm, a.qkv(), dqkv[0], dqkv[1], dqkv[2], grads);
        Tensor dXMod = linear1.backward(k, a.xMod(), k.concatColumns(dQkvCols, dMlp), grads);

        Kernels.NormGrads n = k.layerNormModulateBackward(a.x(), a.mod().shift(), a.mod().scale(), Layers.EPS, dXMod);
        Tensor dVec = modulation.backward(k, vec,
                new Modulation.ModulationOut[]{new Modulation.ModulationOut(n.dShift(), n.dScale(), g[1])}, grads);
        return new Tensor[]{k.add(dOut, n.dx()), dVec};
    }
}
