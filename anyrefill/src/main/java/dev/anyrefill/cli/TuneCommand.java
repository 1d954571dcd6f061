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
 * {@code anyrefill tune}: measures the kernels' candidate tiles on this machine and keeps the
 * fastest for its CPU model, which every later run then uses ({@link Autotune}); {@code --show}
 * prints what is in force and why. Run it on a quiet machine: what it measures is what it keeps.
 */
@Command(name = "tune", mixinStandardHelpOptions = true,
        description = "Measure the kernels' candidate tiles (GEMM, attention and its backward, convolution) on this CPU and keep "
                + "the fastest for later runs, "
                + "or (--show) print the kernels' parameters and where they came from.")
final class TuneCommand implements Callable<Integer> {
    @Option(names = "--show", description = "Only print the parameters in force, their source and the last tuning's report.")
    boolean show;

    @Option(names = "--shapes", split = ",", paramLabel = "MxKxN",
            description = "GEMM shapes to measure (default: FLUX's projections with fewer rows, ${DEFAULT-VALUE}).")
    List<String> shapes = Autotune.SHAPES;

    @Option(names = "--attention-shapes", split = ",", paramLabel = "attention:TxHxD",
            description = "Self-attention shapes, tokens x heads x head size (default: ${DEFAULT-VALUE}).")
    List<String> attentionShapes = Autotune.ATTENTION_SHAPES;

    @Option(names = "--attention-backward-shapes", split = ",", paramLabel = "attention-backward:TxHxD",
            description = "Attention backward shapes, tokens x heads x head size (default: ${DEFAULT-VALUE}).")
    List<String> attentionBackwardShapes = Autotune.ATTENTION_BACKWARD_SHAPES;

    @Option(names = "--conv-shapes", split = ",", paramLabel = "conv:CxHxW",
            description = "3 x 3 convolutions, channels x height x width (default: ${DEFAULT-VALUE}).")
    List<String> convShapes = Autotune.CONV_SHAPES;

    @Option(names = "--rounds", defaultValue = "3", paramLabel = "N",
            description = "Rounds over all candidates, each in a rotated order; a candidate replaces the default "
                    + "only if it wins every round (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--passes", defaultValue = "1", paramLabel = "N",
            description = "Timed passes per shape and round after one warm-up, the best kept (default: ${DEFAULT-VALUE}).")
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
        checkShapes("--shapes", "", "MxKxN", shapes);
        checkShapes("--attention-shapes", "attention:", "attention:TxHxD", attentionShapes);
        checkShapes("--attention-backward-shapes", "attention-backward:", "attention-backward:TxHxD",
                attentionBackwardShapes);
        checkShapes("--conv-shapes", "conv:", "conv:CxHxW", convShapes);
        if (passes < 1 || rounds < 1) {
            throw new IllegalArgumentException("--passes and --rounds must be at least 1, got " + passes + " and " + rounds);
        }
        System.out.println("cpu: " + CpuInfo.detect().describe());
        System.out.println("measuring the GEMM at " + String.join(", ", shapes) + " under each candidate blocking, "
                + "then attention's (both ways) and the convolution's tiles, " + rounds + " rounds ...");
        String report = Autotune.run(Autotune.sweeps(shapes, attentionShapes, attentionBackwardShapes, convShapes), rounds, passes, r -> System.out.println(String.format(Locale.ROOT,
                "  %-40s %8.1f GFLOP/s (geometric mean of this round)", r.label(), r.score())));
        System.out.println(report);
        System.out.println("wrote " + file + " (later runs use it; -Danyrefill.gemm.kc and the other properties it names override it)");
        return 0;
    }

    private static void checkShapes(String option, String prefix, String form, List<String> given) {
        for (String s : given) {
            if (!s.matches(prefix + "[1-9][0-9]*x[1-9][0-9]*x[1-9][0-9]*")) {
                throw new IllegalArgumentException(option + ": '" + s + "' is not " + form);
            }
        }
    }
}
