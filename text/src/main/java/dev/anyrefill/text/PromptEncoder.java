package dev.anyrefill.text;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.text.clip.ClipTextModel;
import dev.anyrefill.text.t5.T5Encoder;
import dev.anyrefill.text.tokenizer.ClipTokenizer;
import dev.anyrefill.text.tokenizer.T5Tokenizer;
import dev.anyrefill.text.tokenizer.TokenIds;

/**
 * A prompt to FLUX's text conditioning, as diffusers' FluxPipeline computes it: {@code vec},
 * CLIP-L's pooled output of the prompt padded to 77 tokens; {@code txt}, T5-XXL's last hidden
 * state of the prompt padded (with id 0) to 512 tokens; neither encoder gets a mask.
 *
 * <p>Memory: each encoder is memory-mapped only while it runs and unmapped right after, CLIP
 * first, then T5 (9.5 GB in BF16), so none of it stays resident when the transformer runs.
 */
public final class PromptEncoder {
    /** FLUX.1-dev's T5 sequence length (FLUX.1-schnell uses 256). */
    public static final int T5_LENGTH = 512;
    /** CLIP's context length. */
    public static final int CLIP_LENGTH = 77;

    private final TextEncoderPaths paths;
    private final int t5Length;

    /** The text conditioning of one prompt: txt [t5Length, d_model], vec [clip hidden]. */
    public record Embeddings(Tensor txt, Tensor vec) {
    }

    public PromptEncoder(TextEncoderPaths paths) {
        this(paths, T5_LENGTH);
    }

    public PromptEncoder(TextEncoderPaths paths, int t5Length) {
        if (t5Length < 1) {
            throw new IllegalArgumentException("T5 sequence length " + t5Length + " is below 1");
        }
        this.paths = paths;
        this.t5Length = t5Length;
    }

    public Embeddings encode(Kernels k, String prompt) {
        TokenIds clipIds;
        TokenIds t5Ids;
        try (ClipTokenizer clipTokenizer = ClipTokenizer.open(paths.clipTokenizer());
             T5Tokenizer t5Tokenizer = T5Tokenizer.open(paths.t5Tokenizer())) {
            clipIds = clipTokenizer.encode(prompt, CLIP_LENGTH);
            t5Ids = t5Tokenizer.encode(prompt, t5Length);
        }
        Tensor vec;
        try (ClipTextModel clip = ClipTextModel.open(paths.clip())) {
            vec = clip.forward(k, clipIds.ids(), null, false).pooledOutput(); // [hidden]
        }
        Tensor txt;
        try (T5Encoder t5 = T5Encoder.open(paths.t5())) {
            txt = t5.encode(k, t5Ids.ids());                                     // [t5Length, d_model]
        }
        return new Embeddings(txt, vec);
    }
}
