package dev.anyrefill.text;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.Checkpoints;
import dev.anyrefill.weights.TensorSource;
import dev.anyrefill.weights.WeightsException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A text encoder's tensors under Hugging Face's names, whatever file they come in: a diffusers
 * folder (one file, or shards with an index), or a single file that may carry a prefix before
 * the HF names (ComfyUI's combined checkpoints). The prefix is found from one anchor tensor.
 * Also carries the {@code config.json} beside the weights, when there is one.
 */
public final class EncoderWeights implements TensorSource {
    private final TensorSource source;
    private final String prefix;
    private final JsonObject config;

    private EncoderWeights(TensorSource source, String prefix, JsonObject config) {
        this.source = source;
        this.prefix = prefix;
        this.config = config;
    }

    /**
     * Opens a file or folder and finds the tensor named {@code anchor} (possibly behind a
     * prefix); {@code what} names the model in the error when it is absent.
     */
    public static EncoderWeights open(Path path, String anchor, String what) {
        TensorSource source = Checkpoints.open(path);
        try {
            return of(source, anchor, what, readConfig(path));
        } catch (RuntimeException e) {
            source.close();
            throw e;
        }
    }

    /** Wraps an open source with the config.json beside its origin, if any (closing the result closes it). */
    public static EncoderWeights of(TensorSource source, String anchor, String what) {
        JsonObject config;
        try {
            config = readConfig(Path.of(source.origin()));
        } catch (java.nio.file.InvalidPathException e) {
            config = null;
        }
        return of(source, anchor, what, config);
    }

    /** Wraps an open source (closing the result closes it). */
    public static EncoderWeights of(TensorSource source, String anchor, String what, JsonObject config) {
        String prefix = null;
        for (String name : source.names()) {
            if (name.endsWith(anchor)) {
                prefix = name.substring(0, name.length() - anchor.length());
                if (prefix.isEmpty() || prefix.endsWith(".")) {
                    break;
                }
                prefix = null;
            }
        }
        if (prefix == null) {
            throw new WeightsException(source.origin() + ": not a " + what + " (no tensor '" + anchor + "')");
        }
        for (String name : source.names()) {
            // "Scaled FP8" files store weight / scale; reading them as plain FP8 would be silently wrong.
            if (name.endsWith(".scale_weight") || name.equals(prefix + "scaled_fp8")) {
                throw new WeightsException(source.origin() + ": tensor '" + name + "' marks a scaled-FP8 checkpoint,"
                        + " which is not supported; use the FP16, BF16 or plain FP8 file");
            }
        }
        return new EncoderWeights(source, prefix, config);
    }

    /** config.json inside a folder, or beside a file; null when there is none. */
    static JsonObject readConfig(Path weights) {
        Path dir = Files.isDirectory(weights) ? weights : weights.toAbsolutePath().getParent();
        Path file = dir == null ? null : dir.resolve("config.json");
        if (file == null || !Files.isRegularFile(file)) {
            return null;
        }
        try {
            return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw new WeightsException(file + ": not a JSON config (" + e.getMessage() + ")", e);
        }
    }

    /** The config.json beside the weights if its {@code model_type} is one of these; else null. */
    public JsonObject config(String... modelTypes) {
        if (config == null || !config.has("model_type")) {
            return null;
        }
        String type = config.get("model_type").getAsString();
        for (String t : modelTypes) {
            if (t.equals(type)) {
                return config;
            }
        }
        return null;
    }

    @Override
    public Set<String> names() {
        Set<String> names = new LinkedHashSet<>();
        for (String n : source.names()) {
            if (n.startsWith(prefix)) {
                names.add(n.substring(prefix.length()));
            }
        }
        return names;
    }

    @Override
    public boolean contains(String name) {
        return source.contains(prefix + name);
    }

    @Override
    public Tensor get(String name) {
        if (!contains(name)) {
            throw new WeightsException(source.origin() + ": no tensor '" + prefix + name + "'");
        }
        return source.get(prefix + name);
    }

    @Override
    public String origin() {
        return source.origin();
    }

    /**
     * Checks that every id indexes the embedding table of a {@code vocab}-row vocabulary; the
     * error names the model ({@code what}, e.g. "T5") and these weights.
     */
    public void checkTokenIds(String what, int[] ids, int vocab) {
        for (int id : ids) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException(what + ": token id " + id + " outside the vocabulary of "
                        + vocab + " (" + origin() + ")");
            }
        }
    }

    /** Unmaps the files: the encoder's memory goes back to the system. */
    @Override
    public void close() {
        source.close();
    }
}
