package dev.anyrefill.training;

import dev.anyrefill.plot.LinePlot;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The loss-curve PNG of a run: the training loss of every step (light), its running mean
 * (dark) and the validation loss (red dots), against the step ({@link LinePlot}).
 */
final class LossCurve {
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
        LinePlot.write(png, "loss per step (light), running mean (dark), validation (red)", "step", false, List.of(
                new LinePlot.Series("", loss, 0xA0BEE6, 1, false),
                new LinePlot.Series("", mean, 0x143CA0, 2, false),
                new LinePlot.Series("", val, 0xDC2828, 1, true)));
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
}
