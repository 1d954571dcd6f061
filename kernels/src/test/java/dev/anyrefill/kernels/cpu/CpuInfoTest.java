package dev.anyrefill.kernels.cpu;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What benchmark lines say about the machine and the kernels' blocking. */
class CpuInfoTest {
    @Test
    void cacheSizesAsTheKernelWritesThem() {
        assertEquals(32 * 1024, CpuInfo.parseSize("32K"));
        assertEquals(32L << 20, CpuInfo.parseSize("32M"));
        assertEquals(512, CpuInfo.parseSize("512"));
    }

    @Test
    void theCachesOfCoreZeroFormAHierarchy() {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/sys/devices/system/cpu/cpu0/cache/index0")),
                "no /sys/devices/system/cpu/cpu0/cache here (not Linux): the cache sizes are unknown, nothing to check");
        CpuInfo cpu = CpuInfo.detect();
        System.out.println("cpu: " + cpu.describe());
        assertTrue(cpu.l1d() > 0 && cpu.l1d() < cpu.l2() && cpu.l2() <= cpu.l3(), cpu.describe());
        assertTrue(cpu.toJson().startsWith("{\"model\":") && cpu.toJson().endsWith("}"), cpu.toJson());
    }

    @Test
    void theParametersKeepTheKernelsInvariants() {
        Map<String, Integer> p = KernelParameters.all();
        System.out.println("kernels: " + KernelParameters.describe());
        assertEquals(3 * p.get("vector_floats"), p.get("gemm_nr"), "NR is three vectors");
        assertEquals(0, p.get("gemm_mc") % p.get("gemm_mr"), "a row tile is whole groups of MR rows");
        assertEquals(0, p.get("attention_bk") % p.get("gemm_mr"), "a key tile is whole groups of MR keys");
        assertEquals(0, p.get("attention_bq") % p.get("gemm_nr"), "a query block is whole strips of NR queries");
        assertEquals(0, p.get("conv_pixels") % p.get("gemm_nr"), "a pixel block is whole strips of NR pixels");
        String json = KernelParameters.toJson();
        assertTrue(json.contains("\"gemm_kc\":" + p.get("gemm_kc") + ","), json);
        for (Tunable t : Tunable.values()) {
            String expected = System.getProperty(t.property()) == null ? "default" : "property"; // the build never tunes
            assertTrue(json.contains("\"" + t.key.replace('.', '_') + "_source\":\"" + expected + "\""), t.key + ": " + json);
        }
    }
}
