package dev.anyrefill.kernels.cpu;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

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
        p.put("attention_backward_bq", FlashAttentionBackward.BQ);
        p.put("attention_backward_bk", FlashAttentionBackward.BK);
        p.put("conv_pixels", Conv2d.PIXELS);
        return p;
    }

    /** Where each tuned parameter came from, {@code gemm_kc_source} to default, tuned, auto or property. */
    static Map<String, String> sources() {
        Map<String, String> s = new LinkedHashMap<>();
        for (Tunable t : Tunable.values()) {
            s.put(t.key.replace('.', '_') + "_source", Blocking.source(t));
        }
        return s;
    }

    /** {@code vector_floats=16 gemm_mr=3 ...}, and where the tuned ones came from. */
    public static String describe() {
        return all().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "))
                + " (" + sources().entrySet().stream().map(e -> e.getKey().replace("_source", "") + ": " + e.getValue())
                .collect(Collectors.joining(", ")) + ")";
    }

    /** As a JSON object, with where the tuned ones came from ({@code gemm_kc_source}: default, tuned, auto or property). */
    public static String toJson() {
        return Stream.concat(all().entrySet().stream().map(e -> String.format(Locale.ROOT, "\"%s\":%d", e.getKey(), e.getValue())),
                        sources().entrySet().stream().map(e -> "\"" + e.getKey() + "\":\"" + e.getValue() + "\""))
                .collect(Collectors.joining(",", "{", "}"));
    }
}
