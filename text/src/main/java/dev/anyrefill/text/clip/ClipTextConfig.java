package dev.anyrefill.text.clip;

import com.google.gson.JsonObject;
import dev.anyrefill.kernels.Activation;
import dev.anyrefill.text.Configs;
import dev.anyrefill.text.EncoderWeights;
import dev.anyrefill.weights.WeightsException;

/**
 * The shape of a CLIP text model (openai/clip-vit-large-patch14's text tower is FLUX's
 * text_encoder: vocab 49408, hidden 768, 12 heads, 12 layers, 77 positions). Widths and depth
 * come from tensor shapes; the head count, norm epsilon, activation and eos id from
 * config.json beside the weights when present, else CLIP-L's values (heads = hidden / 64).
 *
 * @param eosTokenId the config's eos id; 2 (HF's default, and CLIP-L's config) means
 *                   "pool at the highest id", the rule HF keeps for such configs
 */
public record ClipTextConfig(int vocab, int hidden, int heads, int intermediate, int layers,
                             int maxPositions, float eps, Activation act, int eosTokenId) {

    static final String PREFIX = "text_model.";
    static final String TOKEN_EMBEDDING = "text_model.embeddings.token_embedding.weight";

    public static ClipTextConfig infer(EncoderWeights w) {
        JsonObject config = w.config("clip_text_model", "clip");
        if (config != null && config.has("text_config")) {
            config = config.getAsJsonObject("text_config");
        }
        int vocab = w.get(TOKEN_EMBEDDING).dim(0);
        int hidden = w.get(TOKEN_EMBEDDING).dim(1);
        int positions = w.get(PREFIX + "embeddings.position_embedding.weight").dim(0);
        int layers = 0;
        while (w.contains(PREFIX + "encoder.layers." + layers + ".self_attn.q_proj.weight")) {
            layers++;
        }
        if (layers == 0) {
            throw new WeightsException(w.origin() + ": no CLIP text layers (text_model.encoder.layers.0...)");
        }
        int intermediate = w.get(PREFIX + "encoder.layers.0.mlp.fc1.weight").dim(0);
        int heads = Configs.intOr(config, "num_attention_heads", Math.max(1, hidden / 64));
        if (hidden % heads != 0) {
            throw new WeightsException(w.origin() + ": hidden width " + hidden + " is not a multiple of " + heads + " heads");
        }
        String act = Configs.stringOr(config, "hidden_act", "quick_gelu");
        Activation activation = switch (act) {
            case "quick_gelu" -> Activation.QUICK_GELU;
            case "gelu_new", "gelu_pytorch_tanh" -> Activation.GELU_TANH;
            default -> throw new WeightsException(w.origin() + ": CLIP hidden_act '" + act
                    + "' is not supported (quick_gelu is CLIP-L's)");
        };
        return new ClipTextConfig(vocab, hidden, heads, intermediate, layers, positions,
                Configs.floatOr(config, "layer_norm_eps", 1e-5f), activation,
                Configs.intOr(config, "eos_token_id", 2));
    }

    public int headDim() {
        return hidden / heads;
    }
}
