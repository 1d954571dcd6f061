package dev.anyrefill.kernels.cpu;

import java.util.Optional;

import static dev.anyrefill.kernels.cpu.MicroKernel.MR;
import static dev.anyrefill.kernels.cpu.MicroKernel.NR;

/**
 * The GEMM's cache blocking, fixed when the kernels load (constants, so the JIT folds them):
 * the K block {@code KC} and the rows per tile {@code MC}, the first of these that exists:
 * <ol>
 *   <li>{@code -Danyrefill.gemm.kc=N|auto} and {@code -Danyrefill.gemm.mc=N|auto}, so a
 *       benchmark can compare choices (JMH: {@code -jvmArgsAppend -Danyrefill.gemm.kc=auto});</li>
 *   <li>what {@code anyrefill tune} measured best on this CPU model ({@link TuningCache});</li>
 *   <li>the values tuned on AVX2 machines, KC 256 and MC 126, which also won on the AVX-512
 *       parts measured so far (docs/performance.md).</li>
 * </ol>
 * {@code auto} derives them from this machine's caches ({@link CpuInfo}):
 * <ul>
 *   <li>KC: one packed strip block, KC x NR floats, takes three quarters of L1d (the rows of x
 *       stream past it). KC 256 is this for AVX2 (NR 24) and a 32 KiB L1d; with AVX-512 (NR 48)
 *       a 256-deep block is 48 KiB and no longer fits, and auto gives 128;</li>
 *   <li>MC: the tile's block of x (MC x KC) and its result buffer (MC x C_STRIDE) take 65 % of
 *       L2, as MC 126 does with a 512 KiB L2 and AVX2.</li>
 * </ul>
 * Results change with the blocking only in the order of float additions (KC splits the sums
 * over K), within the GEMM tests' bound.
 */
final class Blocking {
    static final int DEFAULT_KC = 256;
    static final int DEFAULT_MC = 42 * MR;
    /** Strips per tile: the tile's result buffer has a row stride of one strip more. */
    static final int STRIPS_PER_TILE = 16;
    static final int C_STRIDE = (STRIPS_PER_TILE + 1) * NR;

    /** This CPU's tuning, if {@code anyrefill tune} has run here (read only when no property sets both). */
    private static final Optional<TuningCache.Tuned> TUNED = System.getProperty("anyrefill.gemm.kc") != null
            && System.getProperty("anyrefill.gemm.mc") != null ? Optional.empty() : TuningCache.read(TuningCache.file());

    static final int KC = choose("anyrefill.gemm.kc", TUNED.map(TuningCache.Tuned::kc).orElse(DEFAULT_KC),
            () -> deriveKc(CpuInfo.detect().l1d(), NR), 16);
    static final int MC = choose("anyrefill.gemm.mc", TUNED.map(TuningCache.Tuned::mc).orElse(DEFAULT_MC),
            () -> deriveMc(CpuInfo.detect().l2(), KC, C_STRIDE), MR);

    private Blocking() {
    }

    /** The largest multiple of 16 with KC x NR floats in three quarters of L1d, from 64 to 512; 256 if unknown. */
    static int deriveKc(long l1d, int nr) {
        if (l1d <= 0) {
            return DEFAULT_KC;
        }
        long kc = (long) (0.75 * l1d / (nr * (long) Float.BYTES)) / 16 * 16;
        return (int) Math.clamp(kc, 64, 512);
    }

    /** The share of L2 for a tile's x block and result buffer: MC 126 with AVX2 and 512 KiB, the tuned value. */
    private static final double L2_SHARE = 0.65;

    /** The largest multiple of MR with MC x (KC + C_STRIDE) floats in L2_SHARE of L2, from 6 MR to 96 MR; 126 if unknown. */
    static int deriveMc(long l2, int kc, int cStride) {
        if (l2 <= 0) {
            return DEFAULT_MC;
        }
        long mc = (long) (L2_SHARE * l2 / ((kc + cStride) * (long) Float.BYTES)) / MR * MR;
        return (int) Math.clamp(mc, 6L * MR, 96L * MR);
    }

    /** Where a value came from, for benchmark lines: "default", "tuned", "auto" or "property". */
    static String source(String property) {
        String v = System.getProperty(property);
        return v == null ? (TUNED.isPresent() ? "tuned" : "default") : v.equals("auto") ? "auto" : "property";
    }

    private static int choose(String property, int fallback, java.util.function.IntSupplier derived, int multiple) {
        String v = System.getProperty(property);
        if (v == null) {
            return fallback;
        }
        if (v.equals("auto")) {
            return derived.getAsInt();
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= multiple && n <= 4096 && n % multiple == 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-D" + property + "=" + v + ": auto, or a multiple of " + multiple
                + " from " + multiple + " to 4096");
    }
}
