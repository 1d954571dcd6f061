package dev.anyrefill.text.t5;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.text.EncoderWeights;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The T5 v1.1 encoder (HF's T5EncoderModel; FLUX's text_encoder_2, google/t5-v1_1-xxl):
 * token embeddings, the blocks with one relative position bias shared by all, a final RMS
 * norm. FLUX runs it on 512 ids padded with 0, without a mask, and uses the last hidden
 * state [512, 4096].
 *
 * <p>The weights stay in the memory-mapped file in their stored type (BF16, F16, F8) and are
 * widened inside the kernels; activations are F32 throughout (T5 overflows in F16).
 * {@link #close()} unmaps the file.
 */
public final class T5Encoder implements AutoCloseable {
    private final EncoderWeights weights;
    private final T5Config config;
    private final Tensor embedTokens;
    private final RelativePositionBias relativePositionBias;
    private final List<T5Block> blocks = new ArrayList<>();
    private final Tensor finalLayerNorm;

    /** The encoder's outputs: the final-normed states [L, d_model] and each block's raw output. */
    public record Output(Tensor lastHiddenState, List<Tensor> blockOutputs) {
    }

    public T5Encoder(EncoderWeights weights) {
        this.weights = weights;
        this.config = T5Config.infer(weights);
        this.embedTokens = weights.get(weights.contains(T5Config.SHARED) ? T5Config.SHARED : T5Config.EMBED_TOKENS,
                config.vocab(), config.dModel());
        this.relativePositionBias = new RelativePositionBias(
                weights.get(T5Config.REL_BIAS, config.buckets(), config.heads()), config.maxDistance());
        for (int i = 0; i < config.layers(); i++) {
            blocks.add(new T5Block(weights, i, config));
        }
        this.finalLayerNorm = weights.get("encoder.final_layer_norm.weight", config.dModel());
    }

    /** Opens a T5 encoder from a file or folder (HF names, optionally behind a prefix). */
    public static T5Encoder open(Path path) {
        EncoderWeights w = EncoderWeights.open(path, "encoder.block.0.layer.0.SelfAttention.q.weight", "T5 encoder");
        try {
            return new T5Encoder(w);
        } catch (RuntimeException e) {
            w.close();
            throw e;
        }
    }

    public T5Config config() {
        return config;
    }

    /** Last hidden state [L, d_model] of one sequence, no mask (as FLUX calls it). */
    public Tensor encode(Kernels k, int[] ids) {
        return forward(k, ids, null, false).lastHiddenState();
    }

    /**
     * One sequence of ids; {@code mask} (1 real, 0 padding; null for none) hides padded keys.
     * With {@code trace} every block's raw output is kept.
     */
    public Output forward(Kernels k, int[] ids, int[] mask, boolean trace) {
        checkIds(ids);
        Tensor bias = relativePositionBias.bias(k, ids.length, mask); // [heads, L, L]
        Tensor x = k.gatherRows(embedTokens, ids);                      // [L, d_model]
        List<Tensor> outputs = new ArrayList<>();
        for (T5Block block : blocks) {
            x = block.forward(k, x, bias);
            if (trace) {
                outputs.add(x);
            }
        }
        return new Output(k.rmsNorm(x, finalLayerNorm, config.eps()), outputs);
    }

    private void checkIds(int[] ids) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("T5: no token ids");
        }
        weights.checkTokenIds("T5", ids, config.vocab());
    }

    public String origin() {
        return weights.origin();
    }

    /** Unmaps the weights; the encoder cannot be used afterwards. */
    @Override
    public void close() {
        weights.close();
    }
}
