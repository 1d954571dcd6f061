package dev.anyrefill.kernels.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The derivation of the GEMM's blocking from cache sizes, on the machines it was reasoned for. */
class BlockingTest {
    @Test
    void kcFillsThreeQuartersOfL1dWithOneStripBlock() {
        assertEquals(256, Blocking.deriveKc(32 << 10, 24), "AVX2 (NR 24), 32 KiB L1d: the tuned default");
        assertEquals(128, Blocking.deriveKc(32 << 10, 48), "AVX-512 (NR 48), 32 KiB L1d: a 256-deep block is 48 KiB");
        assertEquals(192, Blocking.deriveKc(48 << 10, 48), "AVX-512 with Intel's 48 KiB L1d");
        assertEquals(Blocking.DEFAULT_KC, Blocking.deriveKc(0, 24), "unknown caches: the default");
    }

    @Test
    void mcFills65PercentOfL2WithTheTilesBlockAndResult() {
        int cStrideAvx2 = 17 * 24;
        assertEquals(126, Blocking.deriveMc(512 << 10, 256, cStrideAvx2), "AVX2, 512 KiB L2: the tuned 126");
        assertEquals(Blocking.DEFAULT_MC, Blocking.deriveMc(0, 256, cStrideAvx2), "unknown caches: the default");
        int mc = Blocking.deriveMc(1 << 20, 128, 17 * 48);
        System.out.println("MC for AVX-512 with a 1 MiB L2 and KC 128: " + mc);
        assertEquals(0, mc % MicroKernel.MR, "whole groups of MR rows");
    }

    /** The build runs the GEMM tests a second time with -Danyrefill.gemm.kc=80 -Danyrefill.gemm.mc=60 (kernels/pom.xml). */
    @Test
    void theActiveBlockingIsTheOneAskedFor() {
        String kc = System.getProperty("anyrefill.gemm.kc");
        String mc = System.getProperty("anyrefill.gemm.mc");
        System.out.println("active blocking: KC " + Gemm.KC + ", MC " + Gemm.MC + " (asked: " + kc + ", " + mc + ")");
        assertEquals(kc == null ? Blocking.DEFAULT_KC : Integer.parseInt(kc), Gemm.KC);
        assertEquals(mc == null ? Blocking.DEFAULT_MC : Integer.parseInt(mc), Gemm.MC);
    }
}
