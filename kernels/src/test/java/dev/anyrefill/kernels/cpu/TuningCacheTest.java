package dev.anyrefill.kernels.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-CPU tuning file: its name, a round trip, and bad files refused with the reason. */
class TuningCacheTest {
    @Test
    void oneFilePerCpuModelFamilyAndVectorWidth() {
        CpuInfo zen5 = new CpuInfo("AMD EPYC", "family 26 model 2", List.of("avx512f"), 512, 2, 48 << 10, 1 << 20, 32 << 20);
        assertEquals(Path.of("c", "kernels-amd-epyc-family-26-model-2-512bit.properties"),
                TuningCache.file(Path.of("c"), zen5));
    }

    @Test
    void whatIsWrittenIsReadBackAndTheOldFileSurvivesUntilTheRename(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("sub").resolve("kernels-x.properties");
        TuningCache.Tuned first = new TuningCache.Tuned(Autotune.values(Map.of(Tunable.GEMM_KC, 192, Tunable.GEMM_MC, 168,
                Tunable.ATTENTION_KEYS, 96 * MicroKernel.MR)));
        TuningCache.write(file, first, "KC MC\n192 168 *");
        assertEquals(Optional.of(first), TuningCache.read(file));
        assertTrue(Files.readString(file).startsWith("# KC MC\n# 192 168 *\n"), "the report is kept as comments");
        assertTrue(Files.readString(file).endsWith("gemm.kc=192\ngemm.mc=168\nattention.keys=" + 96 * MicroKernel.MR + "\n"));
        TuningCache.Tuned second = new TuningCache.Tuned(Autotune.values(Map.of(Tunable.GEMM_KC, 256, Tunable.GEMM_MC, 126)));
        TuningCache.write(file, second, "again");
        assertEquals(Optional.of(second), TuningCache.read(file));
        try (var files = Files.list(file.getParent())) {
            assertEquals(1, files.count(), "no temporary file left beside it");
        }
    }

    @Test
    void aBadFileIsRefusedWithTheReasonAndNotUsed(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("kernels-x.properties");
        Files.writeString(file, "gemm.kc=100\ngemm.mc=126\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TuningCache.parse(file));
        assertEquals("gemm.kc = 100 is not a multiple of 16 from 16 to 4096 (the GEMM's K block)", e.getMessage());
        Files.writeString(file, "gemm.kc=256\ngemm.kb=126\n");
        assertEquals("unknown key gemm.kb", assertThrows(IllegalArgumentException.class, () -> TuningCache.parse(file)).getMessage());
        Files.writeString(file, "# only a comment\n");
        assertEquals("no tuned values in it", assertThrows(IllegalArgumentException.class, () -> TuningCache.parse(file)).getMessage());
        Files.writeString(file, "gemm.kc=2x\n");
        assertEquals("gemm.kc = 2x is not a whole number", assertThrows(IllegalArgumentException.class, () -> TuningCache.parse(file)).getMessage());
        assertEquals(Optional.empty(), TuningCache.read(file), "reported on standard error, then the defaults");
        assertEquals(Optional.empty(), TuningCache.read(dir.resolve("absent.properties")));
    }
}
