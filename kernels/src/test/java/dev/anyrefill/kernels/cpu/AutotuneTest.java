package dev.anyrefill.kernels.cpu;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tuner's candidates, its choice, and one real probe per end of the candidate range. */
class AutotuneTest {
    @Test
    void candidatesStartWithTheDefaultAndAreValidBlockings() {
        List<int[]> c = Autotune.candidates(48 << 10, 1 << 20);
        assertEquals(Blocking.DEFAULT_KC, c.getFirst()[0]);
        assertEquals(Blocking.DEFAULT_MC, c.getFirst()[1]);
        for (int[] kcMc : c) {
            assertEquals(0, kcMc[0] % 16, "KC " + kcMc[0]);
            assertEquals(0, kcMc[1] % MicroKernel.MR, "MC " + kcMc[1]);
        }
        assertEquals(c.size(), c.stream().map(a -> a[0] + "," + a[1]).distinct().count(), "no candidate twice");
        System.out.println("candidates for 48 KiB L1d, 1 MiB L2: " + c.stream().map(a -> a[0] + "/" + a[1]).toList());
    }

    @Test
    void theDefaultStaysUnlessBeatenByMoreThanTheMargin() {
        Autotune.Result def = new Autotune.Result(Blocking.DEFAULT_KC, Blocking.DEFAULT_MC, List.of(100.0, 100.0), 0);
        Autotune.Result slightlyBetter = new Autotune.Result(128, 126, List.of(108.0, 108.0), 0);
        Autotune.Result better = new Autotune.Result(192, 168, List.of(125.0, 100.0), 0);
        assertSame(def, Autotune.choose(List.of(def, slightlyBetter)), "8 % is noise on these machines");
        assertSame(better, Autotune.choose(List.of(def, slightlyBetter, better)), "geometric mean 111.8 > 110");
        assertEquals(Math.sqrt(125.0 * 100.0), better.score(), 1e-9);
    }

    /** Candidates differ only in the order of float additions: each agrees with a double sum to the GEMM bound. */
    @Test
    void everyBlockingGivesTheProductWithinTheBound() {
        for (int[] kcMc : List.of(new int[] {64, 6 * MicroKernel.MR}, new int[] {512, 96 * MicroKernel.MR})) {
            Autotune.Result r = Autotune.probe(kcMc[0], kcMc[1], List.of("96x640x200"), 1);
            System.out.printf("KC %d, MC %d: check error %.3e (bound %.0e), %.1f GFLOP/s%n", r.kc(), r.mc(),
                    r.checkError(), Autotune.CHECK_BOUND, r.gflops().getFirst());
            assertTrue(r.checkError() <= Autotune.CHECK_BOUND, "error " + r.checkError());
            assertTrue(r.checkError() > 0, "the float result is compared with an exact sum, not with itself");
        }
    }
}
