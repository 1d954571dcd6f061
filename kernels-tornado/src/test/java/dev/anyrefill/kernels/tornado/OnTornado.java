package dev.anyrefill.kernels.tornado;

import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Compare;
import dev.anyrefill.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the tornado tests share: one backend per test class (its programs compiled once), the
 * Java backend to compare with, seeded inputs, and the comparison.
 */
abstract class OnTornado {
    /** Float32 sums in another order: relative error max|got-ref|/rms(ref) stays far below this. */
    static final double TOLERANCE = 1e-5;

    static TornadoKernels tornado;
    static final Kernels cpu = new JavaKernels();
    final Random random = new Random(7);

    @BeforeAll
    static void start() {
        tornado = new TornadoKernels();
    }

    @AfterAll
    static void stop() {
        tornado.close();
    }

    Tensor randn(int... shape) {
        return KernelBench.randn(random, shape);
    }

    static void close(String what, Tensor got, Tensor ref) {
        close(what, got, ref, TOLERANCE);
    }

    static void close(String what, Tensor got, Tensor ref, double tolerance) {
        assertEquals(Arrays.toString(ref.shape()), Arrays.toString(got.shape()), what + " shape");
        double err = Compare.relativeError(got, ref);
        System.out.printf("tornado vs java %-44s max|got-ref|/rms(ref) = %.2e (tolerance %.0e)%n", what, err, tolerance);
        assertTrue(err < tolerance, what + ": relative error " + err);
    }
}
