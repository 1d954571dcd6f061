package dev.anyrefill.cli;

import dev.anyrefill.plot.LinePlot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code anyrefill plot}: a PNG of a few series given on the command line, for the numbers the
 * other commands print (the miniature's PSNR against training pairs, one series per method).
 */
@Command(name = "plot", mixinStandardHelpOptions = true,
        description = "Draw series of (x, y) points into a PNG, e.g. PSNR against training pairs.")
final class PlotCommand implements Callable<Integer> {
    /** Distinct colours for up to eight series, then again. */
    private static final int[] PALETTE = {0x143CA0, 0xDC2828, 0x1E8C3C, 0xE68C14, 0x8C3CB4, 0x14A0A0, 0x646464, 0xB41E78};

    @Option(names = "--series", required = true, paramLabel = "LABEL=X:Y,X:Y,...",
            description = "A series: its label, then its points; repeatable.")
    List<String> series;

    @Option(names = "--title", defaultValue = "", paramLabel = "TEXT", description = "Above the plot.")
    String title;

    @Option(names = "--x-label", defaultValue = "x", paramLabel = "TEXT", description = "Under the x axis (default: ${DEFAULT-VALUE}).")
    String xLabel;

    @Option(names = "--log-x", description = "A logarithmic x axis (training pairs: 10, 50, 200).")
    boolean logX;

    @Option(names = "--out", required = true, paramLabel = "IMAGE", description = "The PNG to write.")
    Path out;

    @Override
    public Integer call() {
        Outputs.requireWritable(out);
        List<LinePlot.Series> parsed = new ArrayList<>();
        for (String spec : series) {
            int eq = spec.indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("--series '" + spec + "': LABEL=X:Y,X:Y,...");
            }
            List<double[]> points = new ArrayList<>();
            for (String point : spec.substring(eq + 1).split(",")) {
                String[] xy = point.split(":");
                try {
                    points.add(new double[]{Double.parseDouble(xy[0].strip()), Double.parseDouble(xy[1].strip())});
                } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
                    throw new IllegalArgumentException("--series '" + spec + "': point '" + point + "' is not X:Y");
                }
            }
            int colour = PALETTE[parsed.size() % PALETTE.length];
            parsed.add(new LinePlot.Series(spec.substring(0, eq), points, colour, 2, true));
        }
        LinePlot.write(out, title, xLabel, logX, parsed);
        System.out.println("wrote " + out + " (" + parsed.size() + " series)");
        return 0;
    }
}
