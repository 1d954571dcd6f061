package dev.anyrefill.cli;

import dev.anyrefill.kernels.cpu.Autotune;
import dev.anyrefill.kernels.cpu.CpuInfo;
import dev.anyrefill.kernels.cpu.KernelParameters;
import dev.anyrefill.kernels.cpu.TuningCache;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code anyrefill tune}: measures the GEMM's candidate blockings on this machine and keeps the
 * fastest for its CPU model, which every later run then uses ({@link Autotune}); {@code --show}
 * prints what is in force and why. Run it on a quiet machine: what it measures is what it keeps.
 */
@Command(name = "tune", mixinStandardHelpOptions = true,
        description = "Measure the GEMM's blocking candidates on this CPU and keep the fastest for later runs, "
                + "or (--show) print the kernels' parameters and where they came from.")
final class TuneCommand implements Callable<Integer> {
    @Option(names = "--show", description = "Only print the parameters in force, their source and the last tuning's report.")
    boolean show;

    @Option(names = "--shapes", split = ",", paramLabel = "MxKxN",
            description = "GEMM shapes to measure (default: FLUX's projections with fewer rows, ${DEFAULT-VALUE}).")
    List<String> shapes = Autotune.SHAPES;

    @Option(names = "--passes", defaultValue = "3", paramLabel = "N",
            description = "Timed passes per shape after one warm-up, the best kept (default: ${DEFAULT-VALUE}).")
    int passes;

    @Override
    public Integer call() {
        Path file = TuningCache.file();
        if (show) {
            System.out.println("cpu: " + CpuInfo.detect().describe());
            System.out.println("kernels: " + KernelParameters.describe());
            System.out.println("tuning file: " + file);
            System.out.println(TuningCache.text(file).orElse("(none: anyrefill tune has not run on this CPU model)"));
            return 0;
        }
        for (String s : shapes) {
            if (!s.matches("[1-9][0-9]*x[1-9][0-9]*x[1-9][0-9]*")) {
                throw new IllegalArgumentException("--shapes: '" + s + "' is not MxKxN");
            }
        }
        if (passes < 1) {
            throw new IllegalArgumentException("--passes must be at least 1, got " + passes);
        }
        System.out.println("cpu: " + CpuInfo.detect().describe());
        System.out.println("measuring the GEMM at " + String.join(", ", shapes) + " under each candidate blocking ...");
        String report = Autotune.run(shapes, passes, r -> System.out.println(String.format(Locale.ROOT,
                "  KC %4d  MC %4d  %8.1f GFLOP/s (geometric mean)", r.kc(), r.mc(), r.score())));
        System.out.println(report);
        System.out.println("wrote " + file + " (later runs use it; -Danyrefill.gemm.kc and -Danyrefill.gemm.mc override it)");
        return 0;
    }
}
