package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Parallel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import static dev.anyrefill.kernels.cpu.MicroKernel.MR;
import static dev.anyrefill.kernels.cpu.MicroKernel.NR;

/**
 * {@code anyrefill tune}: measures the kernels at FLUX's shapes under a few candidate tiles and
 * keeps the fastest for this CPU model ({@link TuningCache}), in four sweeps: the GEMM's
 * blocking (K blocks around one strip block filling L1d, {@link Blocking#deriveKc}, each with the
 * default row tile and the one derived from L2, {@link Blocking#deriveMc}); then, with the GEMM's
 * choice in force, flash attention's query and key tiles, those of its backward, and the
 * convolution's pixel block.
 * Each candidate runs in a JVM of its own ({@link KernelProbe}), because the tiles are fixed
 * when the kernels load.
 *
 * <p>The measure is the geometric mean of GFLOP/s over a sweep's shapes. The candidates are
 * measured in rounds, every candidate once a round in an order rotated from round to round, so
 * that a machine that speeds up or slows down (a neighbour on the host, the clock) touches them
 * all alike; each keeps its best per shape. The default is kept unless a candidate beats it by
 * more than {@link #MARGIN} overall and in every round: on a shared machine two runs of one
 * kernel differ by more than the candidates do, but a candidate measured right beside the
 * default in each round is compared under the same conditions. Every candidate's GEMM,
 * attention and convolution must agree with sums in double to the kernel tests' bound
 * ({@link #CHECK_BOUND}); the tiles change only the order of float additions.
 */
public final class Autotune {
    /** FLUX.1's projection shapes (K and N as they are, fewer rows), M x K x N. */
    public static final List<String> SHAPES = List.of("1024x3072x3072", "1024x3072x12288", "512x12288x3072");
    /** Attention at FLUX's head size over 2560 tokens (fewer heads), and the VAE's 3 x 3 convolution at 128 channels. */
    public static final List<String> ATTENTION_SHAPES = List.of("attention:2560x4x128");
    public static final List<String> CONV_SHAPES = List.of("conv:128x128x128");
    /** Attention's backward at FLUX's head size over 2560 tokens, two heads. */
    public static final List<String> ATTENTION_BACKWARD_SHAPES = List.of("attention-backward:2560x2x128");
    static final double MARGIN = 0.05;
    static final double CHECK_BOUND = 1e-5;

    /** A set of candidates for some of the {@link Tunable}s, the default first, and the shapes that judge them. */
    public record Sweep(String name, List<String> shapes, List<Map<Tunable, Integer>> candidates) {
    }

    /**
     * One candidate's measurements: the values it sets, its best GFLOP/s per shape over the
     * rounds, the geometric mean of each round's, in round order, and the worst check error.
     */
    public record Result(Map<Tunable, Integer> values, List<Double> gflops, List<Double> roundScores, double checkError) {
        public double score() {
            return geometricMean(gflops);
        }

        /** This candidate's numbers with one more round's. */
        Result plus(Result round) {
            List<Double> best = new ArrayList<>();
            for (int i = 0; i < gflops.size(); i++) {
                best.add(Math.max(gflops.get(i), round.gflops().get(i)));
            }
            List<Double> rounds = new ArrayList<>(roundScores);
            rounds.addAll(round.roundScores());
            return new Result(values, List.copyOf(best), List.copyOf(rounds), Math.max(checkError, round.checkError()));
        }

        /** Above the other by more than the margin overall, and above it in every round. */
        boolean beats(Result other) {
            if (score() <= other.score() * (1 + MARGIN)) {
                return false;
            }
            for (int i = 0; i < roundScores.size(); i++) {
                if (roundScores.get(i) <= other.roundScores().get(i)) {
                    return false;
                }
            }
            return true;
        }

        /** {@code gemm.kc=256 gemm.mc=126}. */
        public String label() {
            return Autotune.label(values);
        }
    }

    private Autotune() {
    }

    static String label(Map<Tunable, Integer> values) {
        return values.entrySet().stream().map(e -> e.getKey().key + "=" + e.getValue()).collect(Collectors.joining(" "));
    }

    /** The values as an unmodifiable map in {@link Tunable}'s order (labels and files list them so). */
    static Map<Tunable, Integer> values(Map<Tunable, Integer> values) {
        return Collections.unmodifiableMap(new EnumMap<>(values));
    }

    /** The GEMM's candidate (KC, MC) pairs for a machine with these caches, the default first. */
    static List<Map<Tunable, Integer>> gemmCandidates(long l1d, long l2) {
        List<Map<Tunable, Integer>> out = new ArrayList<>();
        for (int kc : new TreeSet<>(List.of(128, 192, 256, 384, Blocking.deriveKc(l1d, NR)))) {
            for (int mc : new TreeSet<>(List.of(Blocking.DEFAULT_MC, Blocking.deriveMc(l2, kc, Blocking.C_STRIDE)))) {
                out.add(Map.of(Tunable.GEMM_KC, kc, Tunable.GEMM_MC, mc));
            }
        }
        return defaultFirst(out);
    }

    /** Attention's candidates: one, two or four strips of queries by 32, 64 or 128 groups of keys, the default first. */
    static List<Map<Tunable, Integer>> attentionCandidates() {
        return defaultFirst(grid(Tunable.ATTENTION_QUERIES, List.of(NR, 2 * NR, 4 * NR),
                Tunable.ATTENTION_KEYS, List.of(32 * MR, 64 * MR, 128 * MR)));
    }

    /** Attention backward's candidates: 33, 66 or 132 queries by about 48, 96 or 192 keys (whole strips), the default first. */
    static List<Map<Tunable, Integer>> attentionBackwardCandidates() {
        List<Integer> keys = List.of(48, 96, 192).stream().map(n -> Math.max(1, n / NR) * NR).toList();
        return defaultFirst(grid(Tunable.ATTENTION_BACKWARD_QUERIES, List.of(11 * MR, 22 * MR, 44 * MR),
                Tunable.ATTENTION_BACKWARD_KEYS, keys));
    }

    /** The convolution's candidates: blocks of 2, 4 or 8 strips of pixels, the default first. */
    static List<Map<Tunable, Integer>> convCandidates() {
        return defaultFirst(List.of(2 * NR, 4 * NR, 8 * NR).stream()
                .map(n -> Map.of(Tunable.CONV_PIXELS, n)).toList());
    }

    /** Every pair of a value of {@code a} and one of {@code b}. */
    private static List<Map<Tunable, Integer>> grid(Tunable a, List<Integer> as, Tunable b, List<Integer> bs) {
        List<Map<Tunable, Integer>> out = new ArrayList<>();
        for (int x : as) {
            for (int y : bs) {
                out.add(Map.of(a, x, b, y));
            }
        }
        return out;
    }

    /**
     * The defaults of the parameters these candidates set ({@link Blocking#defaultValue}), then
     * the candidates, each once and in {@link Tunable}'s order.
     */
    private static List<Map<Tunable, Integer>> defaultFirst(List<Map<Tunable, Integer>> candidates) {
        Map<Tunable, Integer> defaults = new EnumMap<>(Tunable.class);
        candidates.getFirst().keySet().forEach(t -> defaults.put(t, Blocking.defaultValue(t)));
        LinkedHashSet<Map<Tunable, Integer>> out = new LinkedHashSet<>();
        out.add(values(defaults));
        candidates.forEach(c -> out.add(values(c)));
        return List.copyOf(out);
    }

    /** The best scoring result that {@linkplain Result#beats beats} the default (the first), else the default. */
    static Result choose(List<Result> results) {
        Result def = results.getFirst();
        Result best = def;
        for (Result r : results) {
            if (r.beats(def) && r.score() > best.score()) {
                best = r;
            }
        }
        return best;
    }

    /**
     * Measures a sweep's candidates, each with {@code fixed} in force as well, in {@code rounds}
     * rounds of {@code passes} timed passes a probe, reporting each probe as it finishes;
     * returns one result per candidate, in the sweep's order.
     */
    static List<Result> measure(Sweep sweep, Map<Tunable, Integer> fixed, int rounds, int passes, Consumer<Result> progress) {
        List<Map<Tunable, Integer>> candidates = sweep.candidates();
        Result[] results = new Result[candidates.size()];
        for (int round = 0; round < rounds; round++) {
            for (int j = 0; j < candidates.size(); j++) {
                int i = (j + round) % candidates.size();
                Result r = probe(candidates.get(i), fixed, sweep.shapes(), passes);
                if (!(r.checkError() <= CHECK_BOUND)) {
                    throw new IllegalStateException(String.format(Locale.ROOT, "kernels with %s: error %.3e against "
                            + "sums in double, above the bound %.0e: a kernel bug", r.label(), r.checkError(), CHECK_BOUND));
                }
                results[i] = results[i] == null ? r : results[i].plus(r);
                progress.accept(r);
            }
        }
        return List.of(results);
    }

    /** The four sweeps for this machine, in the order they run: the GEMM, attention, its backward, the convolution. */
    public static List<Sweep> sweeps(List<String> gemmShapes, List<String> attentionShapes,
                                     List<String> attentionBackwardShapes, List<String> convShapes) {
        CpuInfo cpu = CpuInfo.detect();
        return List.of(new Sweep("GEMM (M x K x N, BF16 weights)", gemmShapes, gemmCandidates(cpu.l1d(), cpu.l2())),
                new Sweep("attention (tokens x heads x head size)", attentionShapes, attentionCandidates()),
                new Sweep("attention backward (tokens x heads x head size)", attentionBackwardShapes,
                        attentionBackwardCandidates()),
                new Sweep("3 x 3 convolution (channels x height x width)", convShapes, convCandidates()));
    }

    /**
     * Runs the sweeps in order, each with the earlier ones' choices in force, writes this CPU's
     * cache file and returns the report written into it.
     */
    public static String run(List<Sweep> sweeps, int rounds, int passes, Consumer<Result> progress) {
        CpuInfo cpu = CpuInfo.detect();
        Map<Tunable, Integer> chosen = new EnumMap<>(Tunable.class);
        StringBuilder report = new StringBuilder();
        report.append("anyrefill tune, ").append(java.time.Instant.now()).append('\n');
        report.append(cpu.describe()).append(", ").append(Parallel.threads()).append(" threads, ").append(rounds)
                .append(" rounds of ").append(passes).append(" timed passes\n");
        for (Sweep sweep : sweeps) {
            List<Result> results = measure(sweep, chosen, rounds, passes, progress);
            Result best = choose(results);
            chosen.putAll(best.values());
            report.append(report(sweep, results, best));
        }
        TuningCache.write(TuningCache.file(), new TuningCache.Tuned(chosen), report.toString().strip());
        return report.toString().strip();
    }

    static String report(Sweep sweep, List<Result> results, Result chosen) {
        StringBuilder b = new StringBuilder();
        b.append(sweep.name()).append(": best GFLOP/s per shape, their geometric mean, each round's; * = chosen\n");
        int width = results.stream().mapToInt(r -> r.label().length()).max().orElse(0);
        b.append(String.format(Locale.ROOT, "%-" + width + "s  %s  %8s  %s%n", "", String.join("  ", sweep.shapes().stream()
                .map(s -> String.format(Locale.ROOT, "%20s", s)).toList()), "mean", "rounds"));
        for (Result r : results) {
            b.append(String.format(Locale.ROOT, "%-" + width + "s  %s  %8.1f  %s%s%n", r.label(),
                    String.join("  ", r.gflops().stream().map(g -> String.format(Locale.ROOT, "%20.1f", g)).toList()),
                    r.score(), String.join(" ", r.roundScores().stream().map(g -> String.format(Locale.ROOT, "%.1f", g)).toList()),
                    r == chosen ? " *" : ""));
        }
        b.append(chosen == results.getFirst() ? "kept the default: no candidate beat it by more than "
                : "chosen: beats the default by more than ").append(Math.round(MARGIN * 100))
                .append(" % and in every round\n");
        return b.toString();
    }

    /** One candidate, with {@code fixed} as well, in a child JVM of the same Java, class path and threads. */
    static Result probe(Map<Tunable, Integer> candidate, Map<Tunable, Integer> fixed, List<String> shapes, int passes) {
        Map<Tunable, Integer> all = new EnumMap<>(Tunable.class);
        all.putAll(fixed);
        all.putAll(candidate);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                "-Danyrefill.threads=" + Parallel.threads()));
        all.forEach((t, n) -> cmd.add("-D" + t.property() + "=" + n));
        cmd.add(KernelProbe.class.getName());
        cmd.add(Integer.toString(passes));
        cmd.addAll(shapes);
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException("the kernel probe with " + label(candidate) + " failed:\n" + out);
            }
            return parse(candidate, all, shapes, out);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the kernel probe: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while tuning", e);
        }
    }

    /** Reads KernelProbe's lines; the probe must report every value it was asked for. */
    static Result parse(Map<Tunable, Integer> candidate, Map<Tunable, Integer> asked, List<String> shapes, String out) {
        double check = Double.NaN;
        List<Double> gflops = new ArrayList<>();
        boolean parametersSeen = false;
        for (String line : out.split("\n")) {
            String[] f = line.strip().split(" ");
            if (f[0].equals("parameters")) {
                List<String> got = List.of(f).subList(1, f.length);
                parametersSeen = asked.entrySet().stream().allMatch(e -> got.contains(e.getKey().key + "=" + e.getValue()));
            } else if (f[0].equals("check")) {
                check = Double.parseDouble(f[1]);
            } else if (f.length == 2 && shapes.contains(f[0])) {
                gflops.add(Double.parseDouble(f[1]));
            }
        }
        if (!parametersSeen || gflops.size() != shapes.size()) {
            throw new IllegalStateException("the kernel probe with " + label(asked) + " said:\n" + out);
        }
        return new Result(candidate, List.copyOf(gflops), List.of(geometricMean(gflops)), check);
    }

    static double geometricMean(List<Double> values) {
        return Math.exp(values.stream().mapToDouble(Math::log).average().orElse(Double.NEGATIVE_INFINITY));
    }
}
