package dev.anyrefill.training;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The training pairs of a folder, in one of two forms.
 *
 * <ul>
 *   <li>Named files: {@code NAME.ref.EXT} (the left image), {@code NAME.target.EXT} (the right
 *       image, what the model learns to paint), optionally {@code NAME.mask.EXT} (Ref-inpainting's
 *       mask of the target, 255 = repaint) and {@code NAME.txt} (the caption, UTF-8); EXT is any
 *       image format OpenCV reads.</li>
 *   <li>A {@code pairs.jsonl} manifest, one JSON object per line: {@code reference}, {@code target}
 *       (paths relative to the folder), {@code prompt}, and optionally {@code mask} and {@code name}.</li>
 * </ul>
 * Pairs are returned sorted by name, so a run does not depend on the order of the directory.
 */
public final class PairsFolder {
    /** The manifest's file name. */
    public static final String MANIFEST = "pairs.jsonl";

    /** One pair: caption null where the folder has none. */
    public record Pair(String name, Path reference, Path target, Path mask, String caption) {
    }

    private static final List<String> ROLES = List.of("ref", "target", "mask");

    private PairsFolder() {
    }

    /** Reads the pairs; {@code captionsRequired} makes a missing caption an error. */
    public static List<Pair> read(Path dir, boolean captionsRequired) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + ": --pairs must be a folder of pairs");
        }
        List<Pair> pairs = Files.exists(dir.resolve(MANIFEST)) ? manifest(dir.resolve(MANIFEST)) : namedFiles(dir);
        if (pairs.isEmpty()) {
            throw new IllegalArgumentException(dir + ": no training pairs (expected NAME.ref.png with NAME.target.png, "
                    + "or a " + MANIFEST + ")");
        }
        for (Pair p : pairs) {
            if (captionsRequired && p.caption() == null) {
                throw new IllegalArgumentException(dir.resolve(p.name() + ".txt") + ": pair " + p.name()
                        + " has no caption, and the captions are encoded with the text encoders");
            }
        }
        return pairs;
    }

    private static List<Pair> namedFiles(Path dir) {
        Map<String, Map<String, Path>> byName = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String file = f.getFileName().toString();
                String[] parts = file.split("\\.");
                if (parts.length >= 3 && ROLES.contains(parts[parts.length - 2].toLowerCase(Locale.ROOT))) {
                    String name = file.substring(0, file.length() - parts[parts.length - 1].length()
                            - parts[parts.length - 2].length() - 2);
                    Path previous = byName.computeIfAbsent(name, n -> new TreeMap<>())
                            .put(parts[parts.length - 2].toLowerCase(Locale.ROOT), f);
                    if (previous != null) {
                        throw new IllegalArgumentException(f + ": pair " + name + " already has " + previous);
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(dir + ": cannot list the pairs folder: " + e.getMessage(), e);
        }
        List<Pair> pairs = new ArrayList<>();
        byName.forEach((name, roles) -> {
            Path ref = roles.get("ref");
            Path target = roles.get("target");
            if (ref == null || target == null) {
                Path present = ref != null ? ref : target != null ? target : roles.get("mask");
                throw new IllegalArgumentException(present + ": pair " + name + " has no "
                        + (ref == null ? name + ".ref.* (the reference)" : name + ".target.* (the target)"));
            }
            Path txt = dir.resolve(name + ".txt");
            pairs.add(new Pair(name, ref, target, roles.get("mask"), Files.exists(txt) ? utf8(txt) : null));
        });
        return pairs;
    }

    private static List<Pair> manifest(Path file) {
        List<Pair> pairs = new ArrayList<>();
        String[] lines = utf8(file).split("\n", -1);
        Path dir = file.getParent();
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = file + " line " + (i + 1);
            JsonObject o;
            try {
                JsonElement e = JsonParser.parseString(line);
                if (!e.isJsonObject()) {
                    throw new IllegalArgumentException(where + ": not a JSON object");
                }
                o = e.getAsJsonObject();
            } catch (JsonParseException e) {
                throw new IllegalArgumentException(where + ": not valid JSON (" + e.getMessage() + ")");
            }
            Path ref = existing(dir, o, "reference", where);
            Path target = existing(dir, o, "target", where);
            Path mask = o.has("mask") ? existing(dir, o, "mask", where) : null;
            String name = o.has("name") ? o.get("name").getAsString() : stem(target);
            String prompt = o.has("prompt") ? o.get("prompt").getAsString() : null;
            pairs.add(new Pair(name, ref, target, mask, prompt));
        }
        pairs.sort((a, b) -> a.name().compareTo(b.name()));
        for (int i = 1; i < pairs.size(); i++) {
            if (pairs.get(i).name().equals(pairs.get(i - 1).name())) {
                throw new IllegalArgumentException(file + ": two pairs are named " + pairs.get(i).name()
                        + " (give each a distinct \"name\")");
            }
        }
        return pairs;
    }

    private static Path existing(Path dir, JsonObject o, String key, String where) {
        if (!o.has(key) || !o.get(key).isJsonPrimitive()) {
            throw new IllegalArgumentException(where + ": no \"" + key + "\" path");
        }
        Path p = dir.resolve(o.get(key).getAsString());
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException(where + ": \"" + key + "\" " + p + " does not exist");
        }
        return p;
    }

    private static String stem(Path p) {
        String f = p.getFileName().toString();
        int dot = f.indexOf('.');
        return dot > 0 ? f.substring(0, dot) : f;
    }

    /** A text file's content, strictly UTF-8 (a caption in another encoding is an error, not mojibake). */
    static String utf8(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString().strip();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": is not UTF-8 text");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
