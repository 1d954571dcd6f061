package dev.anyrefill.dit;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/**
 * BFL's {@code DoubleStreamBlock}: image and text keep their own weights (modulation, attention
 * projections, MLP) but attend jointly over the concatenation (text first).
 */
public final class DoubleStreamBlock {
    static final float EPS = 1e-6f;

    final Modulation imgMod;
    final SelfAttention imgAttn;
    final Linear imgMlp0;
    final Linear imgMlp2;
    final Modulation txtMod;
    final SelfAttention txtAttn;
    final Linear txtMlp0;
    final Linear txtMlp2;

    DoubleStreamBlock(TensorSource w, String prefix, int numHeads) {
        imgMod = new Modulation(w, prefix + ".img_mod", true);
        imgAttn = new SelfAttention(w, prefix + ".img_attn", numHeads);
        imgMlp0 = Layers.linear(w, prefix + ".img_mlp.0");
        imgMlp2 = Layers.linear(w, prefix + ".img_mlp.2");
        txtMod = new Modulation(w, prefix + ".txt_mod", true);
        txtAttn = new SelfAttention(w, prefix + ".txt_attn", numHeads);
        txtMlp0 = Layers.linear(w, prefix + ".txt_mlp.0");
        txtMlp2 = Layers.linear(w, prefix + ".txt_mlp.2");
    }

    /** img [Li, hidden], txt [Lt, hidden], vec [hidden], pe [Lt + Li, D/2, 2, 2]; returns {img, txt}. */
    public Tensor[] forward(Kernels k, Tensor img, Tensor txt, Tensor vec, Tensor pe) {
        Modulation.ModulationOut[] imgMods = imgMod.forward(k, vec);
        Modulation.ModulationOut[] txtMods = txtMod.forward(k, vec);
        Modulation.ModulationOut imgMod1 = imgMods[0];
        Modulation.ModulationOut imgMod2 = imgMods[1];
        Modulation.ModulationOut txtMod1 = txtMods[0];
        Modulation.ModulationOut txtMod2 = txtMods[1];

        // prepare image and text for attention: (1 + scale) * norm(x) + shift, then q, k, v [L, H, D]
        Tensor imgModulated = k.layerNormModulate(img, imgMod1.shift(), imgMod1.scale(), EPS);
        Tensor[] imgQkv = imgAttn.qkv(k, imgModulated);
        Tensor txtModulated = k.layerNormModulate(txt, txtMod1.shift(), txtMod1.scale(), EPS);
        Tensor[] txtQkv = txtAttn.qkv(k, txtModulated);

        // run actual attention over text then image tokens: [Lt + Li, H * D]
        Tensor q = k.concatRows(txtQkv[0], imgQkv[0]);
        Tensor key = k.concatRows(txtQkv[1], imgQkv[1]);
        Tensor v = k.concatRows(txtQkv[2], imgQkv[2]);
        Tensor attn = Attention.attention(k, q, key, v, pe);
        int lt = txt.dim(0);
        Tensor txtAttnOut = k.sliceRows(attn, 0, lt);
        Tensor imgAttnOut = k.sliceRows(attn, lt, attn.dim(0));

        // calculate the img blocks
        img = k.gatedResidual(img, imgMod1.gate(), imgAttn.proj(k, imgAttnOut));
        img = k.gatedResidual(img, imgMod2.gate(), mlp(k, imgMlp0, imgMlp2,
                k.layerNormModulate(img, imgMod2.shift(), imgMod2.scale(), EPS)));

        // calculate the txt blocks
        txt = k.gatedResidual(txt, txtMod1.gate(), txtAttn.proj(k, txtAttnOut));
        txt = k.gatedResidual(txt, txtMod2.gate(), mlp(k, txtMlp0, txtMlp2,
                k.layerNormModulate(txt, txtMod2.shift(), txtMod2.scale(), EPS)));
        return new Tensor[]{img, txt};
    }

    /** BFL's {@code *_mlp}: Linear, GELU (tanh), Linear. */
    private static Tensor mlp(Kernels k, Linear first, Linear second, Tensor x) {
        return second.forward(k, first.forward(k, x, Activation.GELU_TANH));
    }
}
