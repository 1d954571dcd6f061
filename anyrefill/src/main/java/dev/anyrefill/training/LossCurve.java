package dev.anyrefill.training;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.Pixels;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Point;
import org.bytedeco.opencv.opencv_core.Scalar;

import java.nio.file.Path;
import java.util.ArrayList;
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
 * The loss-curve PNG of a run: the training loss of every step (light), its running mean
 * (dark) and the validation loss (red dots), against the step, drawn with OpenCV.
 */
final class LossCurve {
    private static final int WIDTH = 800;
    private static final int HEIGHT = 420;
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int TOP = 40;
    private static final int BOTTOM = 40;

    private LossCurve() {
    }

    /** Writes the plot of the log's lines to a PNG. */
    static void write(Path png, List<TrainingLog.Line> lines) {
        List<double[]> loss = new ArrayList<>();
        List<double[]> val = new ArrayList<>();
        for (TrainingLog.Line l : lines) {
            if (l.loss() != null) {
                loss.add(new double[]{l.step(), l.loss()});
            }
            if (l.valLoss() != null) {
                val.add(new double[]{l.step(), l.valLoss()});
            }
        }
        List<double[]> mean = runningMean(loss, Math.max(1, loss.size() / 10));
        double maxStep = 1;
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (List<double[]> series : List.of(loss, val)) {
            for (double[] p : series) {
                maxStep = Math.max(maxStep, p[0]);
                lo = Math.min(lo, p[1]);
                hi = Math.max(hi, p[1]);
            }
        }
        if (!(hi > lo)) {
            lo = Double.isFinite(lo) ? lo - 0.5 : 0;
            hi = lo + 1;
        }
        Axes axes = new Axes(maxStep, lo, hi);
        try (Mat mat = new Mat(HEIGHT, WIDTH, CV_8UC3, new Scalar(255, 255, 255, 0))) {
            Scalar grey = rgb(120, 120, 120);
            line(mat, new Point(LEFT, TOP), new Point(LEFT, HEIGHT - BOTTOM), grey, 1, LINE_AA, 0);
            line(mat, new Point(LEFT, HEIGHT - BOTTOM), new Point(WIDTH - RIGHT, HEIGHT - BOTTOM), grey, 1, LINE_AA, 0);
            text(mat, String.format(Locale.ROOT, "%.4g", hi), 4, TOP + 5);
            text(mat, String.format(Locale.ROOT, "%.4g", lo), 4, HEIGHT - BOTTOM);
            text(mat, "0", LEFT - 4, HEIGHT - BOTTOM + 20);
            text(mat, "step " + (long) maxStep, WIDTH - RIGHT - 90, HEIGHT - BOTTOM + 20);
            text(mat, "loss per step (light), running mean (dark), validation (red)", LEFT, TOP - 15);
            polyline(mat, axes, loss, rgb(160, 190, 230), 1);
            polyline(mat, axes, mean, rgb(20, 60, 160), 2);
            polyline(mat, axes, val, rgb(220, 40, 40), 1);
            for (double[] p : val) {
                circle(mat, axes.at(p), 4, rgb(220, 40, 40), -1, LINE_AA, 0);
            }
            byte[] data = new byte[WIDTH * HEIGHT * 3];
            mat.data().get(data);
            ImageFiles.writePixels(png, new Pixels(HEIGHT, WIDTH, 3, data), Map.of("Software", "anyrefill-jvm"));
        }
    }

    /** Pixel positions of (step, loss). */
    private record Axes(double maxStep, double lo, double hi) {
        Point at(double[] p) {
            int x = LEFT + (int) Math.round((WIDTH - LEFT - RIGHT) * p[0] / maxStep);
            int y = HEIGHT - BOTTOM - (int) Math.round((HEIGHT - TOP - BOTTOM) * (p[1] - lo) / (hi - lo));
            return new Point(x, y);
        }
    }

    static List<double[]> runningMean(List<double[]> points, int window) {
        List<double[]> out = new ArrayList<>();
        double sum = 0;
        for (int i = 0; i < points.size(); i++) {
            sum += points.get(i)[1];
            if (i >= window) {
                sum -= points.get(i - window)[1];
            }
            out.add(new double[]{points.get(i)[0], sum / Math.min(i + 1, window)});
        }
        return out;
    }

    private static void polyline(Mat mat, Axes axes, List<double[]> points, Scalar colour, int thickness) {
        for (int i = 1; i < points.size(); i++) {
            line(mat, axes.at(points.get(i - 1)), axes.at(points.get(i)), colour, thickness, LINE_AA, 0);
        }
    }

    private static void text(Mat mat, String s, int x, int y) {
        putText(mat, s, new Point(x, y), FONT_HERSHEY_SIMPLEX, 0.45, rgb(40, 40, 40), 1, LINE_AA, false);
    }

    /** The Mat holds RGB bytes in that order (as Pixels), so the Scalar is given R, G, B. */
    private static Scalar rgb(int r, int g, int b) {
        return new Scalar(r, g, b, 0);
    }
}
