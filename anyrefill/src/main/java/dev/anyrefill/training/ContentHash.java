package dev.anyrefill.training;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A SHA-256 over the things a cached result or a checkpoint depends on: file contents, texts,
 * and the fingerprint of a weights file (its safetensors header: names, shapes, dtypes and
 * offsets, which tell two checkpoints apart without reading gigabytes).
 */
public final class ContentHash {
    private final MessageDigest digest;

    ContentHash(String purpose) {
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
        text(purpose);
    }

    /** The whole content of a file; null counts as "no file". */
    ContentHash file(Path file) {
        if (file == null) {
            return text("no file");
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                digest.update(buf, 0, n);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage(), e);
        }
        return text("|");
    }

    /** A text, length-prefixed so that ("ab", "c") and ("a", "bc") differ. */
    ContentHash text(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        digest.update(ByteBuffer.allocate(4).putInt(b.length).array());
        digest.update(b);
        return this;
    }

    /** The first 16 bytes of the digest in hex (a file name). */
    String hex() {
        return HexFormat.of().formatHex(digest.digest(), 0, 16);
    }

    /**
     * The fingerprint of a weights file, index or folder: the SHA-256 of each safetensors
     * header (and of each JSON index) it holds, in name order.
     */
    public static String weights(Path path) {
        ContentHash h = new ContentHash("weights");
        List<Path> files;
        if (Files.isDirectory(path)) {
            try (Stream<Path> s = Files.walk(path, 2)) {
                files = s.filter(Files::isRegularFile).filter(p -> {
                    String n = p.getFileName().toString();
                    return n.endsWith(".safetensors") || n.endsWith(".json");
                }).sorted().toList();
            } catch (IOException e) {
                throw new IllegalArgumentException(path + ": cannot list: " + e.getMessage(), e);
            }
        } else {
            files = List.of(path);
        }
        for (Path f : files) {
            h.text(path.relativize(f).toString());
            if (f.getFileName().toString().endsWith(".safetensors")) {
                h.header(f);
            } else {
                h.file(f);
            }
        }
        return HexFormat.of().formatHex(h.digest.digest());
    }

    private void header(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] len = in.readNBytes(8);
            long n = len.length == 8 ? ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong() : -1;
            if (n < 0 || n > 100_000_000) {
                throw new IllegalArgumentException(file + ": not a safetensors file (header length " + n + ")");
            }
            digest.update(in.readNBytes((int) n));
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
