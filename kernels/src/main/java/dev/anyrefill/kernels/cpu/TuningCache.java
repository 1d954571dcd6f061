package dev.anyrefill.kernels.cpu;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeSet;

/**
 * The kernel tiles that {@code anyrefill tune} measured best on this CPU, kept in the user's
 * cache folder so every later run starts with it: one small properties file per CPU model
 * ({@code kernels-<model>-<family>-<bits>bit.properties}), since a choice measured on one part
 * says nothing about another. The folder is {@code -Danyrefill.cache.dir}, else
 * {@code $XDG_CACHE_HOME/anyrefill}, else {@code ~/.cache/anyrefill}.
 *
 * <p>The file holds one {@code key=N} line per {@link Tunable} that was tuned (a file written
 * before the attention and convolution tiles were tuned holds the GEMM's two) and, as comments
 * for a reader, every candidate's measured GFLOP/s. A file that cannot be read, holds an
 * unknown key or a bad value is reported on standard error, naming it, and not used.
 */
public final class TuningCache {
    /** What a tuning run chose, by parameter. */
    public record Tuned(Map<Tunable, Integer> values) {
        static final Tuned NONE = new Tuned(Map.of());

        public Tuned {
            values = Collections.unmodifiableMap(values.isEmpty() ? new EnumMap<>(Tunable.class) : new EnumMap<>(values));
        }
    }

    private TuningCache() {
    }

    /** This CPU's file (it may not exist). */
    public static Path file() {
        return file(folder(), CpuInfo.detect());
    }

    static Path file(Path folder, CpuInfo cpu) {
        String key = (cpu.model() + "-" + cpu.family() + "-" + cpu.vectorBits() + "bit").toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
        return folder.resolve("kernels-" + key + ".properties");
    }

    static Path folder() {
        String dir = System.getProperty("anyrefill.cache.dir");
        if (dir != null) {
            return Path.of(dir);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        return xdg != null && !xdg.isBlank() ? Path.of(xdg, "anyrefill")
                : Path.of(System.getProperty("user.home"), ".cache", "anyrefill");
    }

    /** The tuned blocking in this file, or empty (no file, or a bad one: then said on standard error). */
    public static Optional<Tuned> read(Path file) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(parse(file));
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("anyrefill: ignoring the kernel tuning in " + file + ": " + e.getMessage()
                    + " (run anyrefill tune again, or delete the file)");
            return Optional.empty();
        }
    }

    /** Reads and checks the file; an exception names what is wrong with it. */
    static Tuned parse(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        Map<Tunable, Integer> values = new EnumMap<>(Tunable.class);
        for (String key : new TreeSet<>(p.stringPropertyNames())) {
            Tunable t = Tunable.byKey(key).orElseThrow(() -> new IllegalArgumentException("unknown key " + key));
            String v = p.getProperty(key).strip();
            try {
                values.put(t, t.check(Integer.parseInt(v)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " = " + v + " is not a whole number");
            }
        }
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no tuned values in it");
        }
        return new Tuned(values);
    }

    /** Writes the choice and its report (comment lines) through a temporary file, so a crash leaves the old one. */
    public static void write(Path file, Tuned tuned, String report) {
        StringBuilder text = new StringBuilder();
        for (String line : report.split("\n")) {
            text.append("# ").append(line).append('\n');
        }
        tuned.values().forEach((t, n) -> text.append(t.key).append('=').append(n).append('\n'));
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), file.getFileName().toString(), ".tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the kernel tuning " + file + ": " + e.getMessage(), e);
        }
    }

    /** The file's text, for {@code tune --show}, or empty when there is none. */
    public static Optional<String> text(Path file) {
        try {
            return Files.isRegularFile(file) ? Optional.of(Files.readString(file, StandardCharsets.UTF_8)) : Optional.empty();
        } catch (IOException e) {
            return Optional.of("(unreadable: " + e.getMessage() + ")");
        }
    }
}
