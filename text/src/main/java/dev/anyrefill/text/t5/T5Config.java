package dev.anyrefill.text.t5;

import com.google.gson.JsonObject;
import dev.anyrefill.text.Configs;
import dev.anyrefill.text.EncoderWeights;
import dev.anyrefill.weights.WeightsException;

/**
 * The shape of a T5 v1.1 encoder (google/t5-v1_1-xxl is FLUX's text_encoder_2: vocab 32128,
 * d_model 4096, 64 heads of 64, d_ff 10240, 24 blocks). Everything is read from tensor
 * shapes (the heads from the relative attention bias table, which has one column per head);
 * config.json, when present beside the weights, supplies the position-bucket distance and
 * the norm epsilon, which shapes do not carry.
 */
public record T5Config(int vocab, int dModel, int heads, int dKv, int dFf, int layers,
                       int buckets, int maxDistance, float eps) {

    static final String SHARED = "shared.weight";
    static final String EMBED_TOKENS = "encoder.embed_tokens.weight";
    static final String REL_BIAS = "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight";

    public static T5Config infer(EncoderWeights w) {
        JsonObject config = w.config("t5", "umt5");
        String embedding = w.contains(SHARED) ? SHARED : EMBED_TOKENS;
        int vocab = w.get(embedding).dim(0);
        int dModel = w.get(embedding).dim(1);
        int layers = 0;
        while (w.contains("encoder.block." + layers + ".layer.0.SelfAttention.q.weight")) {
            layers++;
        }
        if (layers == 0) {
            throw new WeightsException(w.origin() + ": no T5 encoder blocks (encoder.block.0...)");
        }
        if (!w.contains("encoder.block.0.layer.1.DenseReluDense.wi_0.weight")) {
            throw new WeightsException(w.origin() + ": not a gated T5 v1.1 encoder (no "
                    + "'encoder.block.0.layer.1.DenseReluDense.wi_0.weight'); only FLUX's T5 v1.1 is supported");
        }
        String dense = Configs.stringOr(config, "feed_forward_proj", "gated-gelu");
        if (!dense.equals("gated-gelu")) {
            throw new WeightsException(w.origin() + ": feed_forward_proj '" + dense + "' is not supported (gated-gelu is)");
        }
        int inner = w.get("encoder.block.0.layer.0.SelfAttention.q.weight").dim(0);
        int buckets = w.get(REL_BIAS).dim(0);
        int heads = w.get(REL_BIAS).dim(1);
        if (inner % heads != 0) {
            throw new WeightsException(w.origin() + ": attention width " + inner + " is not a multiple of "
                    + heads + " heads (the columns of '" + REL_BIAS + "')");
        }
        int dFf = w.get("encoder.block.0.layer.1.DenseReluDense.wi_0.weight").dim(0);
        return new T5Config(vocab, dModel, heads, inner / heads, dFf, layers, buckets,
                Configs.intOr(config, "relative_attention_max_distance", 128),
                Configs.floatOr(config, "layer_norm_epsilon", 1e-6f));
    }

    /** Width of the attention projections: heads x d_kv (equal to d_model in FLUX's T5). */
    public int inner() {
        return heads * dKv;
    }
}
