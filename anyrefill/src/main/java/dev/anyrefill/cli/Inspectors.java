package dev.anyrefill.cli;

import dev.anyrefill.text.EncoderWeights;
import dev.anyrefill.text.clip.ClipTextConfig;
import dev.anyrefill.text.t5.T5Config;
import dev.anyrefill.weights.TensorSource;
import dev.anyrefill.weights.WeightsException;

import java.io.PrintStream;

/**
 * Descriptions of the non-transformer files {@code inspect} understands. Each kind of file
 * (VAE, LoRA, text encoder) adds its recogniser here.
 */
final class Inspectors {
    private Inspectors() {
    }

    static void describe(TensorSource source, PrintStream out) {
        if (describeTextEncoder(source, out)) {
            return;
        }
        out.println("  model: not recognised (no FLUX transformer tensors)");
    }

    /** T5 encoder or CLIP text model (HF names, any prefix); config from shapes only. */
    private static boolean describeTextEncoder(TensorSource source, PrintStream out) {
        try {
            EncoderWeights t5 = EncoderWeights.of(source, "encoder.block.0.layer.0.SelfAttention.q.weight", "T5 encoder");
            out.println("  model: T5 encoder (FLUX's text_encoder_2)");
            out.println("  config: " + T5Config.infer(t5));
            return true;
        } catch (WeightsException notT5) {
            // try the next kind
        }
        try {
            EncoderWeights clip = EncoderWeights.of(source, "text_model.embeddings.token_embedding.weight", "CLIP text model");
            out.println("  model: CLIP text model (FLUX's text_encoder)");
            out.println("  config: " + ClipTextConfig.infer(clip) + (clip.config("clip_text_model", "clip") == null ? " (no config.json: heads, eps, activation are CLIP-L's)" : ""));
            return true;
        } catch (WeightsException notClip) {
            return false;
        }
    }
}
