package dev.anyrefill.text.clip;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.text.AttentionMasks;
import dev.anyrefill.text.EncoderWeights;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * CLIP's text model (HF's CLIPTextModel; FLUX's text_encoder, openai/clip-vit-large-patch14):
 * token plus learned position embeddings, causal pre-LayerNorm layers, a final LayerNorm, and
 * the pooled output: the final state at the end-of-text token. FLUX pads to 77 ids with
 * {@code <|endoftext|>}, passes no mask, and uses the pooled output [768].
 *
 * <p>Weights stay memory-mapped in their stored type; {@link #close()} unmaps them.
 */
public final class ClipTextModel implements AutoCloseable {
    private final EncoderWeights weights;
    private final ClipTextConfig config;
    private final Tensor tokenEmbedding;
    private final Tensor positionEmbedding;
    private final List<ClipEncoderLayer> layers = new ArrayList<>();
    private final Tensor finalLayerNormW;
    private final Tensor finalLayerNormB;

    /**
     * The model's outputs for one sequence: final-normed states [L, hidden], the pooled state
     * [hidden] and where it was taken; with tracing, HF's hidden_states (embeddings, then the
     * output of each layer, the last one before the final norm), else an empty list.
     */
    public record Output(Tensor lastHiddenState, Tensor pooledOutput, int pooledIndex, List<Tensor> hiddenStates) {
    }

    public ClipTextModel(EncoderWeights weights) {
        this.weights = weights;
        this.config = ClipTextConfig.infer(weights);
        String p = ClipTextConfig.PREFIX;
        this.tokenEmbedding = weights.get(ClipTextConfig.TOKEN_EMBEDDING, config.vocab(), config.hidden());
        this.positionEmbedding = weights.get(p + "embeddings.position_embedding.weight", config.maxPositions(), config.hidden());
        for (int i = 0; i < config.layers(); i++) {
            layers.add(new ClipEncoderLayer(weights, i, config));
        }
        this.finalLayerNormW = weights.get(p + "final_layer_norm.weight", config.hidden());
        this.finalLayerNormB = weights.get(p + "final_layer_norm.bias", config.hidden());
    }

    /** Opens a CLIP text model from a file or folder (HF names, optionally behind a prefix). */
    public static ClipTextModel open(Path path) {
        EncoderWeights w = EncoderWeights.open(path, ClipTextConfig.TOKEN_EMBEDDING, "CLIP text model");
        try {
            return new ClipTextModel(w);
        } catch (RuntimeException e) {
            w.close();
            throw e;
        }
    }

    public ClipTextConfig config() {
        return config;
    }

    /** One sequence of ids; {@code mask} (1 real, 0 padding; null for none) hides padded keys. */
    public Output forward(Kernels k, int[] ids, int[] mask, boolean trace) {
        checkIds(ids);
        int length = ids.length;
        int[] positions = new int[length];
        for (int i = 0; i < length; i++) {
            positions[i] = i;
        }
        Tensor x = k.add(k.gatherRows(tokenEmbedding, ids), k.gatherRows(positionEmbedding, positions)); // [L, hidden]
        Tensor maskBias = mask == null ? null : AttentionMasks.keyMask(length, mask).reshape(1, length, length);
        List<Tensor> hidden = new ArrayList<>();
        for (ClipEncoderLayer layer : layers) {
            if (trace) {
                hidden.add(x);
            }
            x = layer.forward(k, x, maskBias);
        }
        if (trace) {
            hidden.add(x);
        }
        Tensor last = k.layerNorm(x, finalLayerNormW, finalLayerNormB, config.eps());
        int pooledIndex = pooledIndex(ids, config.eosTokenId());
        Tensor pooled = k.sliceRows(last, pooledIndex, pooledIndex + 1).reshape(config.hidden());
        return new Output(last, pooled, pooledIndex, hidden);
    }

    /**
     * Where HF pools: with the legacy eos id 2 in the config (CLIP-L's), at the highest id (the
     * first, if it repeats); otherwise at the first occurrence of the eos id, or the last
     * position if it is absent.
     */
    static int pooledIndex(int[] ids, int eosTokenId) {
        int at = 0;
        if (eosTokenId == 2) {
            for (int i = 1; i < ids.length; i++) {
                if (ids[i] > ids[at]) {
                    at = i;
                }
            }
            return at;
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == eosTokenId) {
                return i;
            }
        }
        return ids.length - 1;
    }

    private void checkIds(int[] ids) {
        if (ids.length == 0 || ids.length > config.maxPositions()) {
            throw new IllegalArgumentException("CLIP: " + ids.length + " token ids; the model takes 1 to "
                    + config.maxPositions() + " (" + weights.origin() + ")");
        }
        weights.checkTokenIds("CLIP", ids, config.vocab());
    }

    public String origin() {
        return weights.origin();
    }

    /** Unmaps the weights; the model cannot be used afterwards. */
    @Override
    public void close() {
        weights.close();
    }
}
