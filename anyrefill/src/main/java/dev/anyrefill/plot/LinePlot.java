package dev.anyrefill.plot;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.Pixels;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Point;
import org.bytedeco.opencv.opencv_core.Scalar;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_imgproc.FONT_HERSHEY_SIMPLEX;
import static org.bytedeco.opencv.global.opencv_imgproc.LINE_AA;
import static org.bytedeco.opencv.global.opencv_imgproc.circle;
import static org.bytedeco.opencv.global.opencv_imgproc.line;
import static org.bytedeco.opencv.global.opencv_imgproc.putText;

/**
 * A PNG of a few series of (x, y) points, drawn with OpenCV: a training run's loss curve, or a
 * metric against the number of training pairs (log x). The y axis spans the points; the x axis
 * starts at 0 (linear) or at the smallest x (log), and a log axis marks each x that a point has.
 */
public final class LinePlot {
    private static final int WIDTH = 800;
    private static final int HEIGHT = 420;
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int TOP = 40;
    private static final int BOTTOM = 40;
    /** A plot with named series keeps this column right of its x axis for their legend. */
    private static final int LEGEND_WIDTH = 230;
    private static final int LEGEND_GAP = 20;
    private static final int LEGEND_ROW = 18;

    /**
     * One series: its points, colour, line width (0: none), and whether each point gets a dot.
     *
     * @param rgb 0xRRGGBB
     */
    public record Series(String label, List<double[]> points, int rgb, int thickness, boolean dots) {
    }

    private LinePlot() {
    }

    /** Writes the plot; {@code title} goes above it, {@code xLabel} under the right end of the x axis. */
    public static void write(Path png, String title, String xLabel, boolean logX, List<Series> series) {
        double xLo = Double.POSITIVE_INFINITY;
        double xHi = Double.NEGATIVE_INFINITY;
        double yLo = Double.POSITIVE_INFINITY;
        double yHi = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (double[] p : s.points()) {
                if (logX && !(p[0] > 0)) {
                    throw new IllegalArgumentException("a log x axis needs positive x, got " + p[0] + " in " + s.label());
                }
                xLo = Math.min(xLo, p[0]);
                xHi = Math.max(xHi, p[0]);
                yLo = Math.min(yLo, p[1]);
                yHi = Math.max(yHi, p[1]);
            }
        }
        if (!logX) {
            xLo = 0;
        }
        if (!(xHi > xLo)) {
            xHi = xLo + 1;
        }
        if (!(yHi > yLo)) {
            yLo = Double.isFinite(yLo) ? yLo - 0.5 : 0;
            yHi = yLo + 1;
        }
        List<Series> named = series.stream().filter(s -> !s.label().isEmpty()).toList();
        // the x axis ends left of the legend's column, so no line runs under a label
        int xEnd = WIDTH - RIGHT - (named.isEmpty() ? 0 : LEGEND_WIDTH);
        Axes axes = new Axes(logX, xLo, xHi, yLo, yHi, xEnd);
        try (Mat mat = new Mat(HEIGHT, WIDTH, CV_8UC3, new Scalar(255, 255, 255, 0))) {
            Scalar grey = rgb(0x787878);
            line(mat, new Point(LEFT, TOP), new Point(LEFT, HEIGHT - BOTTOM), grey, 1, LINE_AA, 0);
            line(mat, new Point(LEFT, HEIGHT - BOTTOM), new Point(xEnd, HEIGHT - BOTTOM), grey, 1, LINE_AA, 0);
            text(mat, label(yHi), 4, TOP + 5, 0x282828);
            text(mat, label(yLo), 4, HEIGHT - BOTTOM, 0x282828);
            text(mat, xLabel, xEnd - 8 * xLabel.length(), HEIGHT - BOTTOM + 32, 0x282828);
            text(mat, title, LEFT, TOP - 15, 0x282828);
            if (logX) {
                for (Series s : series) {
                    for (double[] p : s.points()) {
                        text(mat, label(p[0]), axes.at(p).x() - 8, HEIGHT - BOTTOM + 16, 0x282828);
                    }
                }
            } else {
                text(mat, "0", LEFT - 4, HEIGHT - BOTTOM + 16, 0x282828);
                text(mat, label(xHi), xEnd - 60, HEIGHT - BOTTOM + 16, 0x282828);
            }
            for (Series s : series) {
                List<double[]> pts = s.points();
                for (int i = 1; i < pts.size() && s.thickness() > 0; i++) {
                    line(mat, axes.at(pts.get(i - 1)), axes.at(pts.get(i)), rgb(s.rgb()), s.thickness(), LINE_AA, 0);
                }
                if (s.dots()) {
                    for (double[] p : pts) {
                        circle(mat, axes.at(p), 4, rgb(s.rgb()), -1, LINE_AA, 0);
                    }
                }
            }
            int legendY = TOP + LEGEND_ROW;
            for (Series s : named) {
                text(mat, s.label(), xEnd + LEGEND_GAP, legendY, s.rgb());
                legendY += LEGEND_ROW;
            }
            byte[] data = new byte[WIDTH * HEIGHT * 3];
            mat.data().get(data);
            ImageFiles.writePixels(png, new Pixels(HEIGHT, WIDTH, 3, data), Map.of("Software", "anyrefill-jvm"));
        }
    }

    /** Pixel positions of (x, y). */
    private record Axes(boolean logX, double xLo, double xHi, double yLo, double yHi, int xEnd) {
        Point at(double[] p) {
            double fx = logX ? Math.log(p[0] / xLo) / Math.log(xHi / xLo) : (p[0] - xLo) / (xHi - xLo);
            int x = LEFT + (int) Math.round((xEnd - LEFT) * fx);
            int y = HEIGHT - BOTTOM - (int) Math.round((HEIGHT - TOP - BOTTOM) * (p[1] - yLo) / (yHi - yLo));
            return new Point(x, y);
        }
    }

    /** 200 as "200", 0.2506 as "0.2506". */
    private static String label(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e12 ? Long.toString((long) v) : String.format(Locale.ROOT, "%.4g", v);
    }

    private static void text(Mat mat, String s, int x, int y, int rgb) {
        putText(mat, s, new Point(x, y), FONT_HERSHEY_SIMPLEX, 0.45, rgb(rgb), 1, LINE_AA, false);
    }

    /** The Mat holds RGB bytes in that order (as Pixels), so the Scalar is given R, G, B. */
    private static Scalar rgb(int rgb) {
        return new Scalar((rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255, 0);
    }
}
