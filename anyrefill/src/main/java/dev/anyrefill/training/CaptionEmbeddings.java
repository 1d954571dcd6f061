package dev.anyrefill.training;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.text.PromptEncoder;
import dev.anyrefill.text.TextEncoderPaths;
import dev.anyrefill.weights.FluxConfig;
import dev.anyrefill.weights.SafetensorsFile;
import dev.anyrefill.weights.SafetensorsWriter;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * The text conditioning of each caption: txt [L, context] (T5) and vec [vec dim] (CLIP
 * pooled). Either one shared embedding for every pair ({@code --prompt-embeddings}), or each
 * caption encoded by the JVM T5 and CLIP once, before training, and cached on disk (the
 * encoders are then unmapped while the transformer trains). Caption dropout uses the empty
 * prompt's embedding: encoded like any caption, or given as a file beside a shared one.
 */
public final class CaptionEmbeddings {
    /** One caption's conditioning. */
    public record Embedding(Tensor txt, Tensor vec) {
    }

    private final Embedding shared;
    private final Embedding sharedEmpty;
    private final Map<String, Path> files = new LinkedHashMap<>();

    private CaptionEmbeddings(Embedding shared, Embedding sharedEmpty) {
        this.shared = shared;
        this.sharedEmpty = sharedEmpty;
    }

    /** One embedding for every caption; {@code emptyFile} (or null) the empty prompt's, for caption dropout. */
    public static CaptionEmbeddings shared(Path file, Path emptyFile, FluxConfig config) {
        return new CaptionEmbeddings(read(file, config), emptyFile == null ? null : read(emptyFile, config));
    }

    /**
     * Each distinct caption (and the empty one) encoded, or found in {@code cacheDir} from an
     * earlier run with the same encoders.
     */
    public static CaptionEmbeddings encoded(TextEncoderPaths paths, Kernels kernels, Collection<String> captions,
                                            Path cacheDir, FluxConfig config, PrintStream log) {
        CaptionEmbeddings e = new CaptionEmbeddings(null, null);
        String encoders = ContentHash.weights(paths.t5()) + ContentHash.weights(paths.clip());
        PromptEncoder encoder = new PromptEncoder(paths);
        LinkedHashSet<String> all = new LinkedHashSet<>(captions);
        all.add("");
        for (String caption : all) {
            Path file = cacheDir.resolve("text-" + new ContentHash("text-v1").text(encoders).text(caption).hex()
                    + ".safetensors");
            if (!Files.exists(file)) {
                PromptEncoder.Embeddings emb = encoder.encode(kernels, caption);
                SafetensorsWriter.write(file, Map.of("txt", emb.txt(), "vec", emb.vec()), Map.of("caption", caption),
                        DType.F32);
                log.println("encoded the caption \"" + caption + "\" into " + file.getFileName());
            }
            read(file, config); // the shapes fit this transformer
            e.files.put(caption, file);
        }
        return e;
    }

    /** Whether the empty prompt's embedding is known (caption dropout needs it). */
    public boolean hasEmpty() {
        return shared == null || sharedEmpty != null;
    }

    /** The caption's conditioning; with {@code dropped}, the empty prompt's. */
    public Embedding get(String caption, boolean dropped) {
        if (shared != null) {
            if (dropped && sharedEmpty == null) {
                throw new IllegalStateException("caption dropout without the empty prompt's embedding");
            }
            return dropped ? sharedEmpty : shared;
        }
        String key = dropped ? "" : caption;
        Path file = files.get(key);
        if (file == null) {
            throw new IllegalStateException("the caption \"" + key + "\" was not encoded before training");
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return new Embedding(f.get("txt").toF32(), f.get("vec").toF32().reshape(-1));
        }
    }

    private static Embedding read(Path file, FluxConfig c) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String name : new String[]{"txt", "vec"}) {
                if (!f.contains(name)) {
                    throw new IllegalArgumentException(file + ": no tensor '" + name + "' (a prompt embedding has txt "
                            + "[L, " + c.contextInDim() + "] and vec [" + c.vecInDim() + "])");
                }
            }
            Tensor txt = f.get("txt").toF32();
            Tensor vec = f.get("vec").toF32();
            if (txt.rank() != 2 || txt.dim(1) != c.contextInDim()) {
                throw new IllegalArgumentException(file + ": tensor 'txt' is " + Arrays.toString(txt.shape())
                        + ", this model takes [L, " + c.contextInDim() + "]");
            }
            if (vec.size() != c.vecInDim()) {
                throw new IllegalArgumentException(file + ": tensor 'vec' is " + Arrays.toString(vec.shape())
                        + ", this model takes [" + c.vecInDim() + "]");
            }
            return new Embedding(txt, vec.reshape(c.vecInDim()));
        }
    }
}
