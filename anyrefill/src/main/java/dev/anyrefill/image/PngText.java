package dev.anyrefill.image;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Text metadata of PNG files (which model, LoRAs, seed... made an image). OpenCV's encoder
 * writes no text, so {@link #insert} adds the chunks to encoded PNG bytes right after the
 * header chunk: {@code tEXt} for Latin-1 text, {@code iTXt} (uncompressed UTF-8) otherwise.
 */
public final class PngText {
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    private PngText() {
    }

    /** The PNG with one text chunk per entry inserted after IHDR, in the map's order. */
    public static byte[] insert(byte[] png, Map<String, String> text) {
        checkSignature(png);
        int ihdrLength = ByteBuffer.wrap(png, 8, 4).getInt();
        int afterIhdr = 8 + 12 + ihdrLength; // length, type, data, crc
        ByteArrayOutputStream out = new ByteArrayOutputStream(png.length + 64 * text.size());
        out.write(png, 0, afterIhdr);
        for (Map.Entry<String, String> e : text.entrySet()) {
            writeChunk(out, e.getKey(), e.getValue());
        }
        out.write(png, afterIhdr, png.length - afterIhdr);
        return out.toByteArray();
    }

    /** The tEXt and uncompressed iTXt entries of a PNG, in file order; every chunk's CRC is checked. */
    public static Map<String, String> read(byte[] png) {
        checkSignature(png);
        Map<String, String> text = new LinkedHashMap<>();
        int at = 8;
        while (at + 12 <= png.length) {
            int length = ByteBuffer.wrap(png, at, 4).getInt();
            String type = new String(png, at + 4, 4, StandardCharsets.ISO_8859_1);
            int data = at + 8;
            if (length < 0 || data + length + 4 > png.length) {
                throw new IllegalArgumentException("PNG chunk '" + type + "' runs past the end of the file");
            }
            CRC32 crc = new CRC32();
            crc.update(png, at + 4, length + 4);
            if ((int) crc.getValue() != ByteBuffer.wrap(png, data + length, 4).getInt()) {
                throw new IllegalArgumentException("PNG chunk '" + type + "' has a bad CRC");
            }
            int nul = indexOf(png, data, data + length);
            if (type.equals("tEXt") && nul >= 0) {
                text.put(new String(png, data, nul - data, StandardCharsets.ISO_8859_1),
                        new String(png, nul + 1, data + length - nul - 1, StandardCharsets.ISO_8859_1));
            } else if (type.equals("iTXt") && nul >= 0 && png[nul + 1] == 0) {
                // keyword \0 compression-flag method language \0 translated-keyword \0 text
                int language = indexOf(png, nul + 3, data + length);
                int translated = language < 0 ? -1 : indexOf(png, language + 1, data + length);
                if (translated >= 0) {
                    text.put(new String(png, data, nul - data, StandardCharsets.ISO_8859_1),
                            new String(png, translated + 1, data + length - translated - 1, StandardCharsets.UTF_8));
                }
            } else if (type.equals("IEND")) {
                break;
            }
            at = data + length + 4;
        }
        return text;
    }

    private static void writeChunk(ByteArrayOutputStream out, String keyword, String value) {
        byte[] key = keyword.getBytes(StandardCharsets.ISO_8859_1);
        if (key.length < 1 || key.length > 79 || !StandardCharsets.ISO_8859_1.newEncoder().canEncode(keyword)
                || keyword.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("PNG text keyword must be 1 to 79 Latin-1 characters, got '" + keyword + "'");
        }
        boolean latin1 = StandardCharsets.ISO_8859_1.newEncoder().canEncode(value) && value.indexOf('\0') < 0;
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes((latin1 ? "tEXt" : "iTXt").getBytes(StandardCharsets.ISO_8859_1));
        body.writeBytes(key);
        body.write(0);
        if (latin1) {
            body.writeBytes(value.getBytes(StandardCharsets.ISO_8859_1));
        } else {
            body.write(0); // not compressed
            body.write(0); // compression method
            body.write(0); // no language tag
            body.write(0); // no translated keyword
            body.writeBytes(value.getBytes(StandardCharsets.UTF_8));
        }
        byte[] chunk = body.toByteArray(); // type + data, what the CRC covers
        CRC32 crc = new CRC32();
        crc.update(chunk);
        out.writeBytes(ByteBuffer.allocate(4).putInt(chunk.length - 4).array());
        out.writeBytes(chunk);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    private static int indexOf(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            if (bytes[i] == 0) {
                return i;
            }
        }
        return -1;
    }

    private static void checkSignature(byte[] png) {
        if (png.length < 33) {
            throw new IllegalArgumentException("not a PNG: " + png.length + " bytes");
        }
        for (int i = 0; i < SIGNATURE.length; i++) {
            if (png[i] != SIGNATURE[i]) {
                throw new IllegalArgumentException("not a PNG: bad signature");
            }
        }
    }
}
