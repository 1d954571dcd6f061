package dev.anyrefill.dit;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/**
 * BFL's {@code DoubleStreamBlock}: image and text keep their own weights (modulation, attention
 * projections, MLP) but attend jointly over the concatenation (text first).
 *
 * <p>BFL writes the image and the text stream out one after the other with the same lines;
 * here both run through {@link #prepare} (before attention) and {@link #finish} (after it),
 * and the backward through their backwards, in reverse.
 */
public final class DoubleStreamBlock {
    final Modulation imgMod;
    final SelfAttention imgAttn;
    final Linear imgMlp0;
    final Linear imgMlp2;
    final Modulation txtMod;
    final SelfAttention txtAttn;
    final Linear txtMlp0;
    final Linear txtMlp2;
    private final Stream imgStream;
    private final Stream txtStream;

    /** One stream's modules. */
    private record Stream(Modulation mod, SelfAttention attn, Mlp mlp) {
    }

    /** What one stream keeps from before attention. */
    record Prepared(
            Tensor x,                       // [L, hidden] the stream's input to the block
            Modulation.ModulationOut mod1,  // shift, scale, gate [hidden] around attention
            Modulation.ModulationOut mod2,  // shift, scale, gate [hidden] around the MLP
            Tensor modulated,               // [L, hidden] (1 + scale1) * norm(x) + shift1
            SelfAttention.Qkv qkv) {        // q, k (normalised), v [L, H, D]
    }

    /** What one stream keeps from after attention. */
    record Finished(
            Tensor attnOut,                 // [L, hidden] this stream's rows of the attention
            Tensor proj,                    // [L, hidden] attn.proj(attnOut)
            Tensor x1,                      // [L, hidden] x + gate1 * proj
            Tensor mlpIn,                   // [L, hidden] (1 + scale2) * norm(x1) + shift2
            Mlp.Activations mlp,            // [L, mlp] hidden and act, [L, hidden] out
            Tensor out) {                   // [L, hidden] x1 + gate2 * mlp: the block's output
    }

    /** The whole block's activations. */
    record Activations(Prepared img, Prepared txt, Attention.Activations attention, Finished imgOut,
                       Finished txtOut) {
    }

    /** The gradients {@link #finishBackward} hands to {@link #prepareBackward}. */
    private record FinishGrads(Tensor dX1, Tensor dAttnOut, Tensor dGate1, Modulation.ModulationOut dMod2) {
    }

    DoubleStreamBlock(TensorSource w, String prefix, int numHeads) {
        imgMod = new Modulation(w, prefix + ".img_mod", true);
        imgAttn = new SelfAttention(w, prefix + ".img_attn", numHeads);
        imgMlp0 = Layers.linear(w, prefix + ".img_mlp.0");
        imgMlp2 = Layers.linear(w, prefix + ".img_mlp.2");
        txtMod = new Modulation(w, prefix + ".txt_mod", true);
        txtAttn = new SelfAttention(w, prefix + ".txt_attn", numHeads);
        txtMlp0 = Layers.linear(w, prefix + ".txt_mlp.0");
        txtMlp2 = Layers.linear(w, prefix + ".txt_mlp.2");
        imgStream = new Stream(imgMod, imgAttn, new Mlp(imgMlp0, Activation.GELU_TANH, imgMlp2));
        txtStream = new Stream(txtMod, txtAttn, new Mlp(txtMlp0, Activation.GELU_TANH, txtMlp2));
    }

    /** img [Li, hidden], txt [Lt, hidden], vec [hidden], pe [Lt + Li, D/2, 2, 2]; returns {img, txt}. */
    public Tensor[] forward(Kernels k, Tensor img, Tensor txt, Tensor vec, Tensor pe) {
        Activations a = activations(k, img, txt, vec, pe, false);
        return new Tensor[]{a.imgOut().out(), a.txtOut().out()};
    }

    /** The forward, keeping every activation; {@code forBackward} also keeps attention's log-sum-exp. */
    Activations activations(Kernels k, Tensor img, Tensor txt, Tensor vec, Tensor pe, boolean forBackward) {
        // prepare image and text for attention: (1 + scale) * norm(x) + shift, then q, k, v [L, H, D]
        Prepared imgIn = prepare(k, imgStream, img, vec);
        Prepared txtIn = prepare(k, txtStream, txt, vec);

        // run actual attention over text then image tokens: [Lt + Li, H * D]
        Tensor q = k.concatRows(txtIn.qkv().q(), imgIn.qkv().q());
        Tensor key = k.concatRows(txtIn.qkv().k(), imgIn.qkv().k());
        Tensor v = k.concatRows(txtIn.qkv().v(), imgIn.qkv().v());
        Attention.Activations attn = Attention.forward(k, q, key, v, pe, forBackward);
        Tensor out = attn.out().out();
        int lt = txt.dim(0);

        // calculate the img blocks, then the txt blocks
        Finished imgOut = finish(k, imgStream, imgIn, k.sliceRows(out, lt, out.dim(0)));
        Finished txtOut = finish(k, txtStream, txtIn, k.sliceRows(out, 0, lt));
        return new Activations(imgIn, txtIn, attn, imgOut, txtOut);
    }

    /**
     * The backward of forward(k, img, txt, vec, pe): the gradients of its outputs to
     * {dImg, dTxt, dVec}. The block's inside is recomputed from its inputs first (activation
     * checkpointing: a training pass keeps only each block's inputs).
     */
    public Tensor[] backward(Kernels k, Tensor img, Tensor txt, Tensor vec, Tensor pe, Tensor dImgOut,
                             Tensor dTxtOut, Gradients grads) {
        return backward(k, activations(k, img, txt, vec, pe, true), vec, pe, dImgOut, dTxtOut, grads);
    }

    /** The backward from activations kept by the forward ({@link #activations} with {@code forBackward}). */
    Tensor[] backward(Kernels k, Activations a, Tensor vec, Tensor pe, Tensor dImgOut, Tensor dTxtOut, Gradients grads) {
        // the img and txt blocks: MLP and projection, in reverse
        FinishGrads imgFinish = finishBackward(k, imgStream, a.img(), a.imgOut(), dImgOut, grads);
        FinishGrads txtFinish = finishBackward(k, txtStream, a.txt(), a.txtOut(), dTxtOut, grads);

        // attention over text then image tokens: [Lt + Li, H, D] each
        Tensor[] dqkv = Attention.backward(k, a.attention(), pe,
                k.concatRows(txtFinish.dAttnOut(), imgFinish.dAttnOut()));
        int lt = a.txt().x().dim(0);
        int l = dqkv[0].dim(0);

        // back through q, k, v and the modulated norms to each stream's input and to vec
        Tensor[] dImg = prepareBackward(k, imgStream, a.img(), rows(k, dqkv, lt, l), imgFinish, vec, grads);
        Tensor[] dTxt = prepareBackward(k, txtStream, a.txt(), rows(k, dqkv, 0, lt), txtFinish, vec, grads);
        return new Tensor[]{dImg[0], dTxt[0], k.add(dImg[1], dTxt[1])};
    }

    private static Prepared prepare(Kernels k, Stream s, Tensor x, Tensor vec) {
        Modulation.ModulationOut[] mods = s.mod().forward(k, vec);
        Tensor modulated = k.layerNormModulate(x, mods[0].shift(), mods[0].scale(), Layers.EPS);
        return new Prepared(x, mods[0], mods[1], modulated, s.attn().qkvHeads(k, modulated));
    }

    /** {dx, dVec} of one stream from the gradients of its q, k, v and of what {@link #finish} computed. */
    private static Tensor[] prepareBackward(Kernels k, Stream s, Prepared p, Tensor[] dqkv, FinishGrads f,
                                            Tensor vec, Gradients grads) {
        Tensor dModulated = s.attn().qkvHeadsBackward(k, p.modulated(), p.qkv(), dqkv[0], dqkv[1], dqkv[2], grads);
        Kernels.NormGrads n1 = k.layerNormModulateBackward(p.x(), p.mod1().shift(), p.mod1().scale(), Layers.EPS,
                dModulated);
        Modulation.ModulationOut dMod1 = new Modulation.ModulationOut(n1.dShift(), n1.dScale(), f.dGate1());
        Tensor dVec = s.mod().backward(k, vec, new Modulation.ModulationOut[]{dMod1, f.dMod2()}, grads);
        return new Tensor[]{k.add(f.dX1(), n1.dx()), dVec};
    }

    private static Finished finish(Kernels k, Stream s, Prepared p, Tensor attnOut) {
        Tensor proj = s.attn().outputProjection(k, attnOut);
        Tensor x1 = k.gatedResidual(p.x(), p.mod1().gate(), proj);
        Tensor mlpIn = k.layerNormModulate(x1, p.mod2().shift(), p.mod2().scale(), Layers.EPS);
        Mlp.Activations mlp = s.mlp().forward(k, mlpIn);
        return new Finished(attnOut, proj, x1, mlpIn, mlp, k.gatedResidual(x1, p.mod2().gate(), mlp.out()));
    }

    private static FinishGrads finishBackward(Kernels k, Stream s, Prepared p, Finished f, Tensor dOut,
                                              Gradients grads) {
        // out = x1 + gate2 * mlp((1 + scale2) * norm(x1) + shift2)
        Tensor[] g2 = k.gatedResidualBackward(p.mod2().gate(), f.mlp().out(), dOut);   // {dMlpOut, dGate2}
        Tensor dMlpIn = s.mlp().backward(k, f.mlpIn(), f.mlp(), g2[0], grads);
        Kernels.NormGrads n2 = k.layerNormModulateBackward(f.x1(), p.mod2().shift(), p.mod2().scale(), Layers.EPS,
                dMlpIn);
        Tensor dX1 = k.add(dOut, n2.dx());
        // x1 = x + gate1 * proj(attnOut)
        Tensor[] g1 = k.gatedResidualBackward(p.mod1().gate(), f.proj(), dX1);         // {dProj, dGate1}
        Tensor dAttnOut = s.attn().proj.backward(k, f.attnOut(), g1[0], grads);
        return new FinishGrads(dX1, dAttnOut, g1[1], new Modulation.ModulationOut(n2.dShift(), n2.dScale(), g2[1]));
    }

    /** Rows [from, to) of each of dq, dk, dv. */
    private static Tensor[] rows(Kernels k, Tensor[] dqkv, int from, int to) {
        return new Tensor[]{k.sliceRows(dqkv[0], from, to), k.sliceRows(dqkv[1], from, to),
                k.sliceRows(dqkv[2], from, to)};
    }
}
