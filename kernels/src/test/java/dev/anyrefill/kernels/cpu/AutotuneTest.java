package dev.anyrefill.kernels.cpu;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tuner's candidates, its choice, and real probes at the ends of the candidate ranges. */
class AutotuneTest {
    @Test
    void candidatesStartWithTheDefaultAndAreValidTiles() {
        List<List<Map<Tunable, Integer>>> sweeps = List.of(Autotune.gemmCandidates(48 << 10, 1 << 20),
                Autotune.attentionCandidates(), Autotune.attentionBackwardCandidates(), Autotune.convCandidates());
        for (List<Map<Tunable, Integer>> c : sweeps) {
            c.getFirst().forEach((t, n) -> assertEquals(Blocking.defaultValue(t), n, t.key + ": the default first"));
            for (Map<Tunable, Integer> values : c) {
                values.forEach((t, n) -> assertEquals(n, t.check(n), t.key));
            }
            assertEquals(c.size(), c.stream().distinct().count(), "no candidate twice");
            System.out.println("candidates (48 KiB L1d, 1 MiB L2): " + c.stream().map(Autotune::label).toList());
        }
    }

    /** Two rounds of one GEMM candidate: its GFLOP/s per shape from the rounds given, each round's score its geometric mean. */
    private static Autotune.Result measured(int kc, int mc, double[] round1, double[] round2) {
        return round(kc, mc, round1).plus(round(kc, mc, round2));
    }

    private static Autotune.Result round(int kc, int mc, double[] gflops) {
        List<Double> g = Arrays.stream(gflops).boxed().toList();
        return new Autotune.Result(Autotune.values(Map.of(Tunable.GEMM_KC, kc, Tunable.GEMM_MC, mc)), g,
                List.of(Autotune.geometricMean(g)), 0);
    }

    @Test
    void roundsKeepTheBestPerShapeAndEachRoundsScore() {
        Autotune.Result r = measured(128, 126, new double[] {100, 200}, new double[] {150, 180});
        assertEquals(List.of(150.0, 200.0), r.gflops());
        assertEquals(Math.sqrt(150.0 * 200.0), r.score(), 1e-9);
        assertEquals(Math.sqrt(100.0 * 200.0), r.roundScores().get(0), 1e-9);
        assertEquals(Math.sqrt(150.0 * 180.0), r.roundScores().get(1), 1e-9);
        assertEquals("gemm.kc=128 gemm.mc=126", r.label());
    }

    @Test
    void theDefaultStaysUnlessBeatenByTheMarginAndInEveryRound() {
        Autotune.Result def = measured(Blocking.DEFAULT_KC, Blocking.DEFAULT_MC, new double[] {100, 100}, new double[] {90, 90});
        Autotune.Result slightlyBetter = measured(128, 126, new double[] {104, 104}, new double[] {95, 95});
        Autotune.Result luckyOnce = measured(384, 126, new double[] {130, 130}, new double[] {85, 85});
        Autotune.Result better = measured(192, 168, new double[] {125, 100}, new double[] {112, 112});
        assertSame(def, Autotune.choose(List.of(def, slightlyBetter)), "4 % is noise on these machines");
        assertSame(def, Autotune.choose(List.of(def, luckyOnce)), "30 % in one round, slower in the other");
        assertSame(better, Autotune.choose(List.of(def, slightlyBetter, luckyOnce, better)),
                "geometric mean of 125 and 112 > 105, and ahead in both rounds");
    }

    /** Tiles differ only in the order of float additions: each agrees with sums in double to the kernels' bound. */
    @Test
    void everyTileGivesResultsWithinTheBound() {
        List<Map<Tunable, Integer>> ends = List.of(
                Autotune.values(Map.of(Tunable.GEMM_KC, 64, Tunable.GEMM_MC, 6 * MicroKernel.MR, Tunable.ATTENTION_QUERIES,
                        MicroKernel.NR, Tunable.ATTENTION_KEYS, 32 * MicroKernel.MR, Tunable.CONV_PIXELS, 2 * MicroKernel.NR,
                        Tunable.ATTENTION_BACKWARD_QUERIES, 11 * MicroKernel.MR, Tunable.ATTENTION_BACKWARD_KEYS, MicroKernel.NR)),
                Autotune.values(Map.of(Tunable.GEMM_KC, 512, Tunable.GEMM_MC, 96 * MicroKernel.MR, Tunable.ATTENTION_QUERIES,
                        4 * MicroKernel.NR, Tunable.ATTENTION_KEYS, 128 * MicroKernel.MR, Tunable.CONV_PIXELS, 8 * MicroKernel.NR,
                        Tunable.ATTENTION_BACKWARD_QUERIES, 44 * MicroKernel.MR, Tunable.ATTENTION_BACKWARD_KEYS,
                        4 * MicroKernel.NR)));
        for (Map<Tunable, Integer> values : ends) {
            Autotune.Result r = Autotune.probe(values, Map.of(), List.of("96x640x200", "attention:200x2x64",
                    "attention-backward:200x2x64", "conv:16x20x20"), 1);
            System.out.printf("%s: check error %.3e (bound %.0e), %s GFLOP/s%n", r.label(), r.checkError(),
                    Autotune.CHECK_BOUND, r.gflops());
            assertTrue(r.checkError() <= Autotune.CHECK_BOUND, "error " + r.checkError());
            assertTrue(r.checkError() > 0, "the float results are compared with exact sums, not with themselves");
        }
    }
}
