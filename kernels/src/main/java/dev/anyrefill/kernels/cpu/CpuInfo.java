package dev.anyrefill.kernels.cpu;

import jdk.incubator.vector.FloatVector;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What the JVM can see of the machine the kernels run on, printed beside every benchmark
 * number (a score means little without its CPU): the model name and family, the instruction
 * sets that matter to these kernels, the vector width the Vector API prefers, the cores and
 * the cache sizes of one core. Read from {@code /proc/cpuinfo} and
 * {@code /sys/devices/system/cpu/cpu0/cache} where they exist (Linux); elsewhere the fields are
 * "unknown" or 0.
 *
 * @param l1d data cache per core, bytes (0 if unknown)
 * @param l2  L2 per core, bytes
 * @param l3  the L3 instance core 0 shares, bytes
 */
public record CpuInfo(String model, String family, List<String> flags, int vectorBits, int cores, long l1d, long l2,
                      long l3) {
    /** The instruction-set flags that decide how the kernels run (x86 and Arm names). */
    private static final Set<String> FLAGS = Set.of("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw",
            "avx512vl", "avx512_bf16", "avx512_fp16", "amx_bf16", "asimd", "sve", "sve2", "bf16", "fphp");
    private static final Path CPUINFO = Path.of("/proc/cpuinfo");
    private static final Path CACHES = Path.of("/sys/devices/system/cpu/cpu0/cache");

    /** This machine: read once, the first time it is asked for (it does not change while we run). */
    public static CpuInfo detect() {
        return Detected.THIS;
    }

    /** Holds the one reading of the system files. */
    private static final class Detected {
        static final CpuInfo THIS = read();
    }

    private static CpuInfo read() {
        List<String> lines = read(CPUINFO);
        String model = field(lines, "model name", field(lines, "Hardware", System.getProperty("os.arch")));
        String family = "family " + field(lines, "cpu family", "?") + " model " + field(lines, "model", "?");
        if (family.equals("family ? model ?")) {
            family = "implementer " + field(lines, "CPU implementer", "?") + " part " + field(lines, "CPU part", "?");
        }
        List<String> flags = new ArrayList<>();
        for (String f : field(lines, "flags", field(lines, "Features", "")).split("\\s+")) {
            if (FLAGS.contains(f)) {
                flags.add(f);
            }
        }
        return new CpuInfo(model, family, List.copyOf(flags), FloatVector.SPECIES_PREFERRED.vectorBitSize(),
                Runtime.getRuntime().availableProcessors(), cache(1, "Data"), cache(2, "Unified"), cache(3, "Unified"));
    }

    /** One line for logs: {@code AMD EPYC (family 25 model 17), 2 cores, 512-bit vectors, L1d 32 KiB, ...}. */
    public String describe() {
        return String.format(Locale.ROOT, "%s (%s), %d cores, %d-bit vectors, L1d %s, L2 %s, L3 %s, %s", model, family,
                cores, vectorBits, size(l1d), size(l2), size(l3), flags.isEmpty() ? "no flags read" : String.join(" ", flags));
    }

    /** As a JSON object, for benchmark lines. */
    public String toJson() {
        return String.format(Locale.ROOT, "{\"model\":\"%s\",\"family\":\"%s\",\"flags\":\"%s\",\"vector_bits\":%d,"
                        + "\"cores\":%d,\"l1d\":%d,\"l2\":%d,\"l3\":%d}", model.replace("\"", "'"), family,
                String.join(" ", flags), vectorBits, cores, l1d, l2, l3);
    }

    private static String size(long bytes) {
        return bytes == 0 ? "unknown" : bytes >= 1 << 20 ? (bytes >> 20) + " MiB" : (bytes >> 10) + " KiB";
    }

    private static List<String> read(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException | SecurityException e) {
            return List.of();
        }
    }

    /** The first "key : value" line's value for key, else otherwise. */
    private static String field(List<String> lines, String key, String otherwise) {
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().equals(key)) {
                return line.substring(colon + 1).strip();
            }
        }
        return otherwise;
    }

    /** Size in bytes of core 0's cache of this level and type, 0 when the system does not say. */
    private static long cache(int level, String type) {
        for (int i = 0; i < 8; i++) {
            Path dir = CACHES.resolve("index" + i);
            List<String> lvl = read(dir.resolve("level"));
            List<String> typ = read(dir.resolve("type"));
            List<String> size = read(dir.resolve("size"));
            if (!lvl.isEmpty() && !typ.isEmpty() && !size.isEmpty() && lvl.getFirst().strip().equals(Integer.toString(level))
                    && typ.getFirst().strip().equals(type)) {
                return parseSize(size.getFirst().strip());
            }
        }
        return 0;
    }

    /** "32K", "1024K", "32M" to bytes. */
    static long parseSize(String text) {
        char unit = Character.toUpperCase(text.charAt(text.length() - 1));
        long scale = switch (unit) {
            case 'K' -> 1L << 10;
            case 'M' -> 1L << 20;
            case 'G' -> 1L << 30;
            default -> 1;
        };
        String digits = Character.isDigit(unit) ? text : text.substring(0, text.length() - 1);
        return Long.parseLong(digits) * scale;
    }
}
