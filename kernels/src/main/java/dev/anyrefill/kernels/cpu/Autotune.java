package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Parallel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.function.Consumer;

import static dev.anyrefill.kernels.cpu.MicroKernel.MR;
import static dev.anyrefill.kernels.cpu.MicroKernel.NR;

/**
 * {@code anyrefill tune}: measures the GEMM at FLUX's shapes under a few candidate blockings
 * and keeps the fastest for this CPU model ({@link TuningCache}). The candidates come from the
 * machine: the K blocks around one strip block filling L1d ({@link Blocking#deriveKc}), each
 * with the default row tile and the one derived from L2 ({@link Blocking#deriveMc}). Each runs
 * in a JVM of its own ({@link GemmProbe}), because the blocking is fixed when the kernels load.
 *
 * <p>The measure is the geometric mean of GFLOP/s over the shapes. The default blocking is kept
 * unless a candidate beats it by more than {@link #MARGIN}: on a shared machine two runs of one
 * GEMM differ by more than the candidates do. Every candidate's product must agree with a
 * double-precision sum to the GEMM tests' bound ({@link #CHECK_BOUND}); the blockings differ
 * only in the order of float additions, so the results differ in their last bits, not more.
 */
public final class Autotune {
    /** FLUX.1's projection shapes (K and N as they are, fewer rows), M x K x N. */
    public static final List<String> SHAPES = List.of("1024x3072x3072", "1024x3072x12288", "512x12288x3072");
    static final double MARGIN = 0.10;
    static final double CHECK_BOUND = 1e-5;

    /** One candidate's measurements: GFLOP/s per shape, in {@link #SHAPES}' order, and the check error. */
    public record Result(int kc, int mc, List<Double> gflops, double checkError) {
        public double score() {
            return Math.exp(gflops.stream().mapToDouble(Math::log).average().orElse(Double.NEGATIVE_INFINITY));
        }

        boolean isDefault() {
            return kc == Blocking.DEFAULT_KC && mc == Blocking.DEFAULT_MC;
        }
    }

    private Autotune() {
    }

    /** The candidate (KC, MC) pairs for a machine with these caches, the default first. */
    static List<int[]> candidates(long l1d, long l2) {
        TreeSet<Integer> kcs = new TreeSet<>(List.of(128, 192, 256, 384, Blocking.deriveKc(l1d, NR)));
        List<int[]> out = new ArrayList<>();
        out.add(new int[] {Blocking.DEFAULT_KC, Blocking.DEFAULT_MC});
        for (int kc : kcs) {
            for (int mc : new TreeSet<>(List.of(Blocking.DEFAULT_MC, Blocking.deriveMc(l2, kc, Blocking.C_STRIDE)))) {
                if (kc != Blocking.DEFAULT_KC || mc != Blocking.DEFAULT_MC) {
                    out.add(new int[] {kc, mc});
                }
            }
        }
        return out;
    }

    /** The best result: the default unless another scores more than MARGIN above it. */
    static Result choose(List<Result> results) {
        Result best = results.getFirst();
        for (Result r : results) {
            if (r.score() > best.score()) {
                best = r;
            }
        }
        for (Result r : results) {
            if (r.isDefault() && best.score() <= r.score() * (1 + MARGIN)) {
                return r;
            }
        }
        return best;
    }

    /** Measures every candidate on these shapes, reporting each as it finishes, and returns the results. */
    public static List<Result> measure(List<String> shapes, int passes, Consumer<Result> progress) {
        CpuInfo cpu = CpuInfo.detect();
        List<Result> results = new ArrayList<>();
        for (int[] c : candidates(cpu.l1d(), cpu.l2())) {
            Result r = probe(c[0], c[1], shapes, passes);
            if (!(r.checkError() <= CHECK_BOUND)) {
                throw new IllegalStateException(String.format(Locale.ROOT, "GEMM with KC %d, MC %d: error %.3e against "
                        + "a double-precision sum, above the bound %.0e: a kernel bug", c[0], c[1], r.checkError(), CHECK_BOUND));
            }
            results.add(r);
            progress.accept(r);
        }
        return results;
    }

    /** Runs the whole tuning and writes this CPU's cache file; returns the report written into it. */
    public static String run(List<String> shapes, int passes, Consumer<Result> progress) {
        List<Result> results = measure(shapes, passes, progress);
        Result chosen = choose(results);
        String report = report(shapes, results, chosen);
        TuningCache.write(TuningCache.file(), new TuningCache.Tuned(chosen.kc(), chosen.mc()), report);
        return report;
    }

    static String report(List<String> shapes, List<Result> results, Result chosen) {
        StringBuilder b = new StringBuilder();
        b.append("anyrefill tune, ").append(java.time.Instant.now()).append('\n');
        b.append(CpuInfo.detect().describe()).append(", ").append(Parallel.threads()).append(" threads\n");
        b.append("GFLOP/s per shape (M x K x N, BF16 weights), geometric mean; * = chosen\n");
        b.append(String.format(Locale.ROOT, "%4s %4s  %s  %8s%n", "KC", "MC",
                String.join("  ", shapes.stream().map(s -> String.format(Locale.ROOT, "%16s", s)).toList()), "mean"));
        for (Result r : results) {
            b.append(String.format(Locale.ROOT, "%4d %4d  %s  %8.1f%s%n", r.kc(), r.mc(),
                    String.join("  ", r.gflops().stream().map(g -> String.format(Locale.ROOT, "%16.1f", g)).toList()),
                    r.score(), r == chosen ? " *" : ""));
        }
        b.append(chosen.isDefault() ? "kept the default: no candidate beat it by more than "
                : "chosen: beats the default by more than ").append(Math.round(MARGIN * 100)).append(" %");
        return b.toString();
    }

    /** One candidate in a child JVM of the same Java, class path and threads. */
    static Result probe(int kc, int mc, List<String> shapes, int passes) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                "-Danyrefill.gemm.kc=" + kc, "-Danyrefill.gemm.mc=" + mc, "-Danyrefill.threads=" + Parallel.threads(),
                GemmProbe.class.getName(), Integer.toString(passes)));
        cmd.addAll(shapes);
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException("the GEMM probe with KC " + kc + ", MC " + mc + " failed:\n" + out);
            }
            return parse(kc, mc, shapes, out);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the GEMM probe: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while tuning", e);
        }
    }

    /** Reads GemmProbe's lines; the probe must report the blocking it was asked for. */
    static Result parse(int kc, int mc, List<String> shapes, String out) {
        double check = Double.NaN;
        List<Double> gflops = new ArrayList<>();
        boolean blockingSeen = false;
        for (String line : out.split("\n")) {
            String[] f = line.strip().split(" ");
            if (f[0].equals("blocking")) {
                blockingSeen = Integer.parseInt(f[1]) == kc && Integer.parseInt(f[2]) == mc;
            } else if (f[0].equals("check")) {
                check = Double.parseDouble(f[1]);
            } else if (f.length == 2 && shapes.contains(f[0])) {
                gflops.add(Double.parseDouble(f[1]));
            }
        }
        if (!blockingSeen || gflops.size() != shapes.size()) {
            throw new IllegalStateException("the GEMM probe with KC " + kc + ", MC " + mc + " said:\n" + out);
        }
        return new Result(kc, mc, List.copyOf(gflops), check);
    }
}
