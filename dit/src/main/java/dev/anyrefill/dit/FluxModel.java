package dev.anyrefill.dit;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.FluxConfig;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * BFL's {@code Flux} transformer (model.py): embed image tokens, text tokens and the conditioning
 * vector (time + guidance + pooled text), run the double-stream blocks, then the single-stream
 * blocks over text and image together, and project the image tokens to a velocity.
 *
 * <p>Weights stay views of the checkpoint in their stored type; activations are F32. Every
 * linear layer is a {@link Linear}, listed by its BFL module name in {@link #linears()}.
 */
public final class FluxModel {
    /** Receives intermediate tensors by name ({@code vec}, {@code pe}, {@code trace.double_blocks.N.img}...). */
    @FunctionalInterface
    public interface Trace {
        Trace NONE = (name, value) -> {
        };

        void record(String name, Tensor value);
    }

    private final FluxConfig config;
    private final Kernels kernels;
    final EmbedND peEmbedder;
    final Linear imgIn;
    final MLPEmbedder timeIn;
    final MLPEmbedder vectorIn;
    final MLPEmbedder guidanceIn; // null without guidance embedding
    final Linear txtIn;
    final List<DoubleStreamBlock> doubleBlocks = new ArrayList<>();
    final List<SingleStreamBlock> singleBlocks = new ArrayList<>();
    final LastLayer finalLayer;
    private final Map<String, Linear> linears = new LinkedHashMap<>();

    public FluxModel(FluxCheckpoint w, Kernels kernels) {
        this.config = w.config();
        this.kernels = kernels;
        peEmbedder = new EmbedND(config.theta(), config.axesDim());
        imgIn = Layers.linear(w, "img_in");
        timeIn = new MLPEmbedder(w, "time_in");
        vectorIn = new MLPEmbedder(w, "vector_in");
        guidanceIn = config.guidanceEmbed() ? new MLPEmbedder(w, "guidance_in") : null;
        txtIn = Layers.linear(w, "txt_in");
        for (int i = 0; i < config.depth(); i++) {
            doubleBlocks.add(new DoubleStreamBlock(w, "double_blocks." + i, config.numHeads()));
        }
        for (int i = 0; i < config.depthSingleBlocks(); i++) {
            singleBlocks.add(new SingleStreamBlock(w, "single_blocks." + i, config.hiddenSize(), config.numHeads()));
        }
        finalLayer = new LastLayer(w, "final_layer");
        collectLinears();
    }

    public FluxConfig config() {
        return config;
    }

    public Kernels kernels() {
        return kernels;
    }

    /** Every linear layer by BFL module name ({@code double_blocks.0.img_attn.qkv}), in model order. */
    public Map<String, Linear> linears() {
        return Collections.unmodifiableMap(linears);
    }

    /** BFL's {@code vec}: time_in(emb(t)) + guidance_in(emb(guidance)) + vector_in(y); [hidden]. */
    public Tensor vec(double timestep, double guidance, Tensor y) {
        return vec(TimestepEmbedding.of(timestep, 256), guidanceEmbedding(guidance), y);
    }

    /** timestep_embedding(guidance) [256], or null for a model without guidance_in. */
    private Tensor guidanceEmbedding(double guidance) {
        return guidanceIn == null ? null : TimestepEmbedding.of(guidance, 256);
    }

    private Tensor vec(Tensor timeEmb, Tensor guidanceEmb, Tensor y) {
        Kernels k = kernels;
        Tensor vec = timeIn.forward(k, timeEmb);
        if (guidanceIn != null) {
            vec = k.add(vec, guidanceIn.forward(k, guidanceEmb));
        }
        return k.add(vec, vectorIn.forward(k, y));
    }

    /**
     * One pass: the velocity [Li, out] of image tokens img [Li, in] at time t.
     *
     * @param imgIds [Li, axes] position ids of the image tokens
     * @param txt    [Lt, context] text embeddings (T5)
     * @param txtIds [Lt, axes] (zeros for FLUX)
     * @param y      [vecIn] pooled text vector (CLIP)
     */
    public Tensor forward(Tensor img, Tensor imgIds, Tensor txt, Tensor txtIds, double timestep, Tensor y,
                          double guidance, Trace trace) {
        checkInputs(img, imgIds, txt, txtIds);
        Shapes.require("vec", y, config.vecInDim());
        try (Kernels.Scope pass = kernels.scope()) {
            return pass.keep(forward(img, imgIds, txt, txtIds, vec(timestep, guidance, y), trace));
        }
    }

    /**
     * One pass with the conditioning vector already computed ({@link #vec}, [hidden]): the part of
     * the model after the embedders of t, guidance and y.
     */
    public Tensor forward(Tensor img, Tensor imgIds, Tensor txt, Tensor txtIds, Tensor vec, Trace trace) {
        checkInputs(img, imgIds, txt, txtIds);
        Shapes.require("vec (hidden)", vec, config.hiddenSize());
        Kernels k = kernels;
        // One scope for the pass and one per block: a device backend keeps the activations on
        // the device from the first layer to the velocity, and frees each block's intermediates
        // (and the block's inputs, which the next block does not read) when the block ends.
        try (Kernels.Scope pass = k.scope()) {
            img = imgIn.forward(k, img);                                     // [Li, hidden]
            txt = txtIn.forward(k, txt);                                     // [Lt, hidden]
            Tensor pe = peEmbedder.forward(k.concatRows(txtIds, imgIds));    // [Lt + Li, D/2, 2, 2]
            record(trace, "vec", vec);
            record(trace, "pe", pe);

            for (int i = 0; i < doubleBlocks.size(); i++) {
                try (Kernels.Scope block = k.scopeFreeing("double_blocks." + i, img, txt)) {
                    Tensor[] out = doubleBlocks.get(i).forward(k, img, txt, vec, pe);
                    img = block.keep(out[0]);
                    txt = block.keep(out[1]);
                }
                record(trace, "trace.double_blocks." + i + ".img", img);
                record(trace, "trace.double_blocks." + i + ".txt", txt);
            }
            int lt = txt.dim(0);
            Tensor x = k.concatRows(txt, img);                                // [Lt + Li, hidden]
            for (int i = 0; i < singleBlocks.size(); i++) {
                try (Kernels.Scope block = k.scopeFreeing("single_blocks." + i, x)) {
                    x = block.keep(singleBlocks.get(i).forward(k, x, vec, pe));
                }
                record(trace, "trace.single_blocks." + i, x);
            }
            img = k.sliceRows(x, lt, x.dim(0));                               // [Li, hidden]
            return pass.keep(finalLayer.forward(k, img, vec));                // [Li, out]
        }
    }

    // ---- training ----------------------------------------------------------------------------

    /**
     * What a training pass keeps for its backward: the embedders' inputs, each block's inputs
     * and, unless the blocks are checkpointed ({@link ActivationCheckpointing#BLOCKS}: a block's
     * inside is recomputed in its backward, so the whole model needs the activations of one
     * block at a time), each block's activations.
     */
    public record Checkpoints(
            Tensor img,                 // [Li, in] the image tokens
            Tensor txt,                 // [Lt, context] the text embeddings
            Tensor timeEmb,             // [256] timestep_embedding(t)
            Tensor guidanceEmb,         // [256] timestep_embedding(guidance), or null without guidance_in
            Tensor y,                   // [vecIn] the pooled text vector
            Tensor vec,                 // [hidden]
            Tensor pe,                  // [Lt + Li, D/2, 2, 2]
            List<Tensor[]> doubleIn,    // {img [Li, hidden], txt [Lt, hidden]} per double block
            List<Tensor> singleIn,      // [Lt + Li, hidden] per single block
            List<DoubleStreamBlock.Activations> doubleSaved,  // per double block, or empty when checkpointed
            List<SingleStreamBlock.Activations> singleSaved,  // per single block, or empty when checkpointed
            Tensor finalIn,             // [Li, hidden] the image rows after the last block
            Tensor velocity) {          // [Li, out]
    }

    /**
     * The forward of {@link #forward(Tensor, Tensor, Tensor, Tensor, double, Tensor, double, Trace)},
     * keeping what {@code keep} says for the backward ({@link ActivationCheckpointing#AUTO}: all
     * activations where they take at most half the heap).
     */
    public Checkpoints forwardForTraining(Tensor img, Tensor imgIds, Tensor txt, Tensor txtIds, double timestep,
                                          Tensor y, double guidance, ActivationCheckpointing keep) {
        checkInputs(img, imgIds, txt, txtIds);
        Shapes.require("vec", y, config.vecInDim());
        Kernels k = kernels;
        Tensor timeEmb = TimestepEmbedding.of(timestep, 256);
        Tensor guidanceEmb = guidanceEmbedding(guidance);
        Tensor vec = vec(timeEmb, guidanceEmb, y);
        Tensor h = imgIn.forward(k, img);                                    // [Li, hidden]
        Tensor t = txtIn.forward(k, txt);                                    // [Lt, hidden]
        Tensor pe = peEmbedder.forward(k.concatRows(txtIds, imgIds));        // [Lt + Li, D/2, 2, 2]
        boolean save = keep.resolve(config, img.dim(0) + (long) txt.dim(0)) == ActivationCheckpointing.NONE;
        List<Tensor[]> doubleIn = new ArrayList<>();
        List<DoubleStreamBlock.Activations> doubleSaved = new ArrayList<>();
        for (DoubleStreamBlock block : doubleBlocks) {
            doubleIn.add(new Tensor[]{h, t});
            DoubleStreamBlock.Activations a = block.activations(k, h, t, vec, pe, save); // log-sum-exp if kept
            if (save) {
                doubleSaved.add(a);
            }
            h = a.imgOut().out();
            t = a.txtOut().out();
        }
        List<Tensor> singleIn = new ArrayList<>();
        List<SingleStreamBlock.Activations> singleSaved = new ArrayList<>();
        Tensor x = k.concatRows(t, h);                                       // [Lt + Li, hidden]
        for (SingleStreamBlock block : singleBlocks) {
            singleIn.add(x);
            SingleStreamBlock.Activations a = block.activations(k, x, vec, pe, save);
            if (save) {
                singleSaved.add(a);
            }
            x = a.out();
        }
        Tensor finalIn = k.sliceRows(x, t.dim(0), x.dim(0));                 // [Li, hidden]
        return new Checkpoints(img, txt, timeEmb, guidanceEmb, y, vec, pe, doubleIn, singleIn, doubleSaved, singleSaved,
                finalIn, finalLayer.forward(k, finalIn, vec));
    }

    /**
     * The backward of {@link #forwardForTraining}: the gradient of the velocity [Li, out] into
     * grads (the trained parameters' gradients), block by block in reverse.
     */
    public void backward(Checkpoints c, Tensor dVelocity, Gradients grads) {
        Kernels k = kernels;
        Tensor[] last = finalLayer.backward(k, c.finalIn(), c.vec(), dVelocity, grads);
        Tensor dVec = last[1];
        int lt = c.txt().dim(0);
        Tensor dX = k.concatRows(Tensor.zeros(lt, config.hiddenSize()), last[0]);   // no gradient on text rows
        for (int i = singleBlocks.size() - 1; i >= 0; i--) {
            SingleStreamBlock block = singleBlocks.get(i);
            Tensor[] d = c.singleSaved().isEmpty()
                    ? block.backward(k, c.singleIn().get(i), c.vec(), c.pe(), dX, grads)
                    : block.backward(k, c.singleSaved().get(i), c.vec(), c.pe(), dX, grads);
            dX = d[0];
            dVec = k.add(dVec, d[1]);
        }
        Tensor dTxt = k.sliceRows(dX, 0, lt);
        Tensor dImg = k.sliceRows(dX, lt, dX.dim(0));
        for (int i = doubleBlocks.size() - 1; i >= 0; i--) {
            Tensor[] in = c.doubleIn().get(i);
            DoubleStreamBlock block = doubleBlocks.get(i);
            Tensor[] d = c.doubleSaved().isEmpty()
                    ? block.backward(k, in[0], in[1], c.vec(), c.pe(), dImg, dTxt, grads)
                    : block.backward(k, c.doubleSaved().get(i), c.vec(), c.pe(), dImg, dTxt, grads);
            dImg = d[0];
            dTxt = d[1];
            dVec = k.add(dVec, d[2]);
        }
        txtIn.backward(k, c.txt(), dTxt, grads);
        imgIn.backward(k, c.img(), dImg, grads);
        // vec = time_in(emb t) + guidance_in(emb g) + vector_in(y): each embedder gets all of dVec
        timeIn.backward(k, c.timeEmb(), dVec, grads);
        if (guidanceIn != null) {
            guidanceIn.backward(k, c.guidanceEmb(), dVec, grads);
        }
        vectorIn.backward(k, c.y(), dVec, grads);
    }

    /**
     * Hands a tensor to the trace with its values on the host: a deferred one is read now, before
     * its scope may free it.
     */
    private static void record(Trace trace, String name, Tensor value) {
        if (trace != Trace.NONE) { // a copy: the value's scope may free it before the trace is read
            trace.record(name, Tensor.wrap(value.data().clone(), value.shape()));
        }
    }

    private void checkInputs(Tensor img, Tensor imgIds, Tensor txt, Tensor txtIds) {
        int axes = config.axesDim().length;
        Shapes.require("img", img, Shapes.ANY, config.inChannels());
        Shapes.require("img_ids", imgIds, img.dim(0), axes);
        Shapes.require("txt", txt, Shapes.ANY, config.contextInDim());
        Shapes.require("txt_ids", txtIds, txt.dim(0), axes);
    }

    private void collectLinears() {
        add(imgIn);
        add(timeIn.inLayer, timeIn.outLayer, vectorIn.inLayer, vectorIn.outLayer);
        if (guidanceIn != null) {
            add(guidanceIn.inLayer, guidanceIn.outLayer);
        }
        add(txtIn);
        for (DoubleStreamBlock b : doubleBlocks) {
            add(b.imgMod.lin, b.imgAttn.qkv, b.imgAttn.proj, b.imgMlp0, b.imgMlp2,
                    b.txtMod.lin, b.txtAttn.qkv, b.txtAttn.proj, b.txtMlp0, b.txtMlp2);
        }
        for (SingleStreamBlock b : singleBlocks) {
            add(b.linear1, b.linear2, b.modulation.lin);
        }
        add(finalLayer.linear, finalLayer.adaLNModulation);
    }

    private void add(Linear... layers) {
        for (Linear l : layers) {
            linears.put(l.name(), l);
        }
    }
}
