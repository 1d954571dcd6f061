package dev.anyrefill.text;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where FLUX's two text encoders and their tokenizers are. The default is a diffusers FLUX
 * repository (FLUX.1-dev, FLUX.1-Fill-dev): {@code text_encoder/} (CLIP-L),
 * {@code text_encoder_2/} (T5-XXL, sharded with an index), {@code tokenizer/} (vocab.json,
 * merges.txt) and {@code tokenizer_2/} (spiece.model). A folder of loose single files
 * (ComfyUI's {@code clip_l.safetensors}, {@code t5xxl_fp16.safetensors}...) works for the
 * weights; any of the four can be given on its own.
 */
public record TextEncoderPaths(Path t5, Path clip, Path t5Tokenizer, Path clipTokenizer) {

    /**
     * Resolves the four paths: each explicit one wins, the rest come from {@code dir} (may be
     * null when all four are explicit). Fails naming every path that is missing.
     */
    public static TextEncoderPaths resolve(Path dir, Path t5, Path clip, Path t5Tokenizer, Path clipTokenizer) {
        TextEncoderPaths p = new TextEncoderPaths(
                t5 != null ? t5 : dir == null ? null : weightsIn(dir, "text_encoder_2", "t5xxl"),
                clip != null ? clip : dir == null ? null : weightsIn(dir, "text_encoder", "clip_l"),
                t5Tokenizer != null ? t5Tokenizer : dir == null ? null : dir.resolve("tokenizer_2"),
                clipTokenizer != null ? clipTokenizer : dir == null ? null : dir.resolve("tokenizer"));
        StringBuilder missing = new StringBuilder();
        check(missing, "T5 encoder (--t5)", p.t5);
        check(missing, "CLIP text model (--clip)", p.clip);
        check(missing, "T5 tokenizer (--t5-tokenizer)", p.t5Tokenizer);
        check(missing, "CLIP tokenizer (--clip-tokenizer)", p.clipTokenizer);
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("text encoders not found: " + missing
                    + (dir == null ? "" : " (looked in " + dir + ", a diffusers FLUX repo layout:"
                    + " text_encoder/, text_encoder_2/, tokenizer/, tokenizer_2/)"));
        }
        return p;
    }

    /** The diffusers sub-folder if present, else the first single file named {@code stem*.safetensors}. */
    private static Path weightsIn(Path dir, String diffusersFolder, String stem) {
        Path folder = dir.resolve(diffusersFolder);
        if (Files.isDirectory(folder) || !Files.isDirectory(dir)) {
            return folder;
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> loose = files.filter(f -> {
                String n = f.getFileName().toString();
                return n.startsWith(stem) && n.endsWith(".safetensors");
            }).sorted().toList();
            return loose.isEmpty() ? folder : loose.getFirst();
        } catch (IOException e) {
            throw new IllegalArgumentException(dir + ": cannot list: " + e.getMessage(), e);
        }
    }

    private static void check(StringBuilder missing, String what, Path path) {
        if (path == null || !Files.exists(path)) {
            if (!missing.isEmpty()) {
                missing.append("; ");
            }
            missing.append(what).append(path == null ? " not given" : " at " + path);
        }
    }
}
