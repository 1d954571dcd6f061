package dev.anyrefill.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/** The image files of a folder (by extension, sorted by name): photos to prepare, images to train on. */
public final class ImageFolder {
    /** The extensions read as images. */
    public static final List<String> EXTENSIONS = List.of("png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff");

    private ImageFolder() {
    }

    public static List<Path> list(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + ": not a folder of images");
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> EXTENSIONS.contains(extension(p))).sorted().toList();
        } catch (IOException e) {
            throw new IllegalArgumentException(dir + ": cannot list: " + e.getMessage(), e);
        }
    }

    /** The file name's extension, lower case ("" for none). */
    public static String extension(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }
}
