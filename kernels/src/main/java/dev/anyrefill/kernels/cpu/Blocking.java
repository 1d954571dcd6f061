package dev.anyrefill.kernels.cpu;

import java.util.Arrays;
import java.util.function.IntSupplier;

import static dev.anyrefill.kernels.cpu.MicroKernel.MR;
import static dev.anyrefill.kernels.cpu.MicroKernel.NR;

/**
 * The kernels' tiles, fixed when they load (constants, so the JIT folds them). Each value is
 * the first of these that exists:
 * <ol>
 *   <li>its system property ({@link Tunable}: {@code -Danyrefill.gemm.kc=N|auto}, so a
 *       benchmark can compare choices, JMH: {@code -jvmArgsAppend -Danyrefill.gemm.kc=auto});</li>
 *   <li>what {@code anyrefill tune} measured best on this CPU model ({@link TuningCache});</li>
 *   <li>the defaults: for the GEMM the values tuned on AVX2 machines, KC 256 and MC 126, which
 *       also won on the AVX-512 parts measured so far (docs/performance.md); attention's (both
 *       ways) and the convolution's tiles in strips and groups of the micro-kernel.</li>
 * </ol>
 * {@code auto} derives the GEMM's blocking from this machine's caches ({@link CpuInfo}):
 * <ul>
 *   <li>KC: one packed strip block, KC x NR floats, takes three quarters of L1d (the rows of x
 *       stream past it). KC 256 is this for AVX2 (NR 24) and a 32 KiB L1d; with AVX-512 (NR 48)
 *       a 256-deep block is 48 KiB and no longer fits, and auto gives 128;</li>
 *   <li>MC: the tile's block of x (MC x KC) and its result buffer (MC x C_STRIDE) take 65 % of
 *       L2, as MC 126 does with a 512 KiB L2 and AVX2.</li>
 * </ul>
 * For the other tiles {@code auto} is the default: no derivation beat it where it was measured.
 * Results change with the tiles only in the order of float additions (KC splits the sums over
 * K, the key tiles the softmax's running sums), within the kernels' tests' bounds.
 */
final class Blocking {
    static final int DEFAULT_KC = 256;
    static final int DEFAULT_MC = 42 * MR;
    static final int DEFAULT_ATTENTION_QUERIES = 2 * NR;
    static final int DEFAULT_ATTENTION_KEYS = 64 * MR;
    static final int DEFAULT_CONV_PIXELS = 4 * NR;
    static final int DEFAULT_ATTENTION_BACKWARD_QUERIES = 22 * MR;
    static final int DEFAULT_ATTENTION_BACKWARD_KEYS = Math.max(1, 96 / NR) * NR;
    /** Strips per tile: the tile's result buffer has a row stride of one strip more. */
    static final int STRIPS_PER_TILE = 16;
    static final int C_STRIDE = (STRIPS_PER_TILE + 1) * NR;

    /** This CPU's tuning, if {@code anyrefill tune} has run here (not read when properties set everything). */
    private static final TuningCache.Tuned TUNED = Arrays.stream(Tunable.values()).allMatch(t -> System.getProperty(t.property()) != null)
            ? TuningCache.Tuned.NONE : TuningCache.read(TuningCache.file()).orElse(TuningCache.Tuned.NONE);

    static final int KC = value(Tunable.GEMM_KC, () -> deriveKc(CpuInfo.detect().l1d(), NR));
    static final int MC = value(Tunable.GEMM_MC, () -> deriveMc(CpuInfo.detect().l2(), KC, C_STRIDE));
    static final int ATTENTION_QUERIES = value(Tunable.ATTENTION_QUERIES, null);
    static final int ATTENTION_KEYS = value(Tunable.ATTENTION_KEYS, null);
    static final int CONV_PIXELS = value(Tunable.CONV_PIXELS, null);
    static final int ATTENTION_BACKWARD_QUERIES = value(Tunable.ATTENTION_BACKWARD_QUERIES, null);
    static final int ATTENTION_BACKWARD_KEYS = value(Tunable.ATTENTION_BACKWARD_KEYS, null);

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

    /** A parameter's value when neither a property nor a tuning sets it. */
    static int defaultValue(Tunable t) {
        return switch (t) {
            case GEMM_KC -> DEFAULT_KC;
            case GEMM_MC -> DEFAULT_MC;
            case ATTENTION_QUERIES -> DEFAULT_ATTENTION_QUERIES;
            case ATTENTION_KEYS -> DEFAULT_ATTENTION_KEYS;
            case ATTENTION_BACKWARD_QUERIES -> DEFAULT_ATTENTION_BACKWARD_QUERIES;
            case ATTENTION_BACKWARD_KEYS -> DEFAULT_ATTENTION_BACKWARD_KEYS;
            case CONV_PIXELS -> DEFAULT_CONV_PIXELS;
        };
    }

    /** Where a value came from, for benchmark lines: "default", "tuned", "auto" or "property". */
    static String source(Tunable t) {
        String v = System.getProperty(t.property());
        return v == null ? (TUNED.values().containsKey(t) ? "tuned" : "default") : v.equals("auto") ? "auto" : "property";
    }

    /** The property's value, else the tuned one, else the default; {@code auto} is {@code derived}, or the default where null. */
    private static int value(Tunable t, IntSupplier derived) {
        String v = System.getProperty(t.property());
        if (v == null) {
            return TUNED.values().getOrDefault(t, defaultValue(t));
        }
        if (v.equals("auto")) {
            return derived == null ? defaultValue(t) : derived.getAsInt();
        }
        try {
            return t.check(Integer.parseInt(v));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-D" + t.property() + "=" + v + ": auto, or a multiple of " + t.unit
                    + " from " + t.unit + " to " + Tunable.MAX + " (" + t.meaning + ")", e);
        }
    }
}
