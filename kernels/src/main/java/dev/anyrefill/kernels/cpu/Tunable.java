package dev.anyrefill.kernels.cpu;

import java.util.Arrays;
import java.util.Optional;

import static dev.anyrefill.kernels.cpu.MicroKernel.MR;
import static dev.anyrefill.kernels.cpu.MicroKernel.NR;

/**
 * The kernels' load-time parameters that {@code anyrefill tune} measures and keeps per CPU
 * model. Each is a system property ({@code -Danyrefill.gemm.kc=N}), a key of the tuning file
 * ({@code gemm.kc=N}) and a whole number of its unit: the micro-kernel works in groups of
 * {@code MR} rows and strips of {@code NR} columns, so tiles are made of them.
 */
enum Tunable {
    GEMM_KC("gemm.kc", 16, "the GEMM's K block"),
    GEMM_MC("gemm.mc", MR, "the GEMM's rows per tile"),
    ATTENTION_QUERIES("attention.queries", NR, "flash attention's queries per task"),
    ATTENTION_KEYS("attention.keys", MR, "flash attention's keys per tile"),
    ATTENTION_BACKWARD_QUERIES("attention.backward.queries", MR, "attention backward's queries per tile"),
    ATTENTION_BACKWARD_KEYS("attention.backward.keys", NR, "attention backward's keys per tile"),
    CONV_PIXELS("conv.pixels", NR, "the convolution's output pixels per task");

    static final int MAX = 4096;

    final String key;
    final int unit;
    final String meaning;

    Tunable(String key, int unit, String meaning) {
        this.key = key;
        this.unit = unit;
        this.meaning = meaning;
    }

    /** The system property that sets it: {@code anyrefill.} and the key. */
    String property() {
        return "anyrefill." + key;
    }

    static Optional<Tunable> byKey(String key) {
        return Arrays.stream(values()).filter(t -> t.key.equals(key)).findFirst();
    }

    /** n if it is a whole number of units from one unit to {@link #MAX}; otherwise an exception saying so. */
    int check(int n) {
        if (n < unit || n > MAX || n % unit != 0) {
            throw new IllegalArgumentException(key + " = " + n + " is not a multiple of " + unit + " from " + unit
                    + " to " + MAX + " (" + meaning + ")");
        }
        return n;
    }
}
