package dev.anyrefill.kernels.cpu;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The blocking the CPU kernels run with on this machine, for benchmark lines and logs: shapes
 * scaled by the preferred vector length (the micro-kernel's MR rows by NR = 3 vectors of
 * columns, flash attention's query and key tiles, the convolution's pixel block) and the GEMM's
 * K block and row tile ({@link Blocking}), with what {@code auto} would derive for those two
 * here. A score is only comparable with the parameters it ran with.
 */
public final class KernelParameters {
    private KernelParameters() {
    }

    /** Name to value, in a fixed order. */
    public static Map<String, Integer> all() {
        Map<String, Integer> p = new LinkedHashMap<>();
        p.put("vector_floats", MicroKernel.VL);
        p.put("gemm_mr", MicroKernel.MR);
        p.put("gemm_nr", MicroKernel.NR);
        p.put("gemm_kc", Gemm.KC);
        p.put("gemm_mc", Gemm.MC);
        CpuInfo cpu = CpuInfo.detect();
        int kcAuto = Blocking.deriveKc(cpu.l1d(), MicroKernel.NR);
        p.put("gemm_kc_auto", kcAuto);
        p.put("gemm_mc_auto", Blocking.deriveMc(cpu.l2(), kcAuto, Blocking.C_STRIDE));
        p.put("gemm_strips_per_tile", Gemm.STRIPS_PER_TILE);
        p.put("attention_bq", FlashAttention.BQ);
        p.put("attention_bk", FlashAttention.BK);
        p.put("conv_pixels", Conv2d.PIXELS);
        return p;
    }

    /** {@code vector_floats=16 gemm_mr=3 ...}, and where KC and MC came from. */
    public static String describe() {
        return all().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "))
                + " (kc: " + Blocking.source("anyrefill.gemm.kc") + ", mc: " + Blocking.source("anyrefill.gemm.mc") + ")";
    }

    /** As a JSON object, with where KC and MC came from ({@code gemm_kc_source}: default, tuned, auto or property). */
    public static String toJson() {
        return all().entrySet().stream().map(e -> String.format(Locale.ROOT, "\"%s\":%d", e.getKey(), e.getValue()))
                .collect(Collectors.joining(",", "{", ",\"gemm_kc_source\":\"" + Blocking.source("anyrefill.gemm.kc")
                        + "\",\"gemm_mc_source\":\"" + Blocking.source("anyrefill.gemm.mc") + "\"}"));
    }
}
