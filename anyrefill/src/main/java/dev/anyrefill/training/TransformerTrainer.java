package dev.anyrefill.training;

import dev.anyrefill.dit.ActivationCheckpointing;
import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.dit.Gradients;
import dev.anyrefill.pipeline.ProgressBar;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.train.AdamW;
import dev.anyrefill.train.LearningRateSchedule;
import dev.anyrefill.train.TrainStep;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The training loop of the transformer (DESIGN.md's training data flow, the paper's recipe), for
 * a task LoRA or for every weight of a small model (the parameters and the gradients' target
 * say which): per
 * step, a batch drawn from the training set by accumulation (one sample at a time through the
 * model), the rectified-flow loss and its gradients, clipping and AdamW at the schedule's
 * learning rate; then the metrics line, and on their steps the validation loss, a sample
 * panel and a checkpoint. Ctrl-C saves a checkpoint after the step in flight; a loss or
 * gradient that is not finite stops the run, naming the step and the last good checkpoint.
 */
public final class TransformerTrainer {
    /** The loop's settings; {@code keep}: what a step's forward keeps for its backward. */
    public record Loop(int steps, int batch, double maxGradNorm, double guidance, int saveEvery, int validateEvery,
                       int sampleEvery, ActivationCheckpointing keep) {
        public Loop {
            if (steps < 1 || batch < 1) {
                throw new IllegalArgumentException("--steps and --batch must be at least 1, got " + steps + " and " + batch);
            }
            if (saveEvery < 0 || validateEvery < 0 || sampleEvery < 0) {
                throw new IllegalArgumentException("--save-every, --validate-every and --sample-every must be >= 0");
            }
        }
    }

    private final FluxModel model;
    private final Map<String, Tensor> params;
    private final Gradients grads;
    private final AdamW adam;
    private final LearningRateSchedule schedule;
    private final TrainingSet data;
    private final Loop loop;
    private final CheckpointFiles checkpoints;
    private final TrainingLog log;
    private final SamplePanels samples;
    private final PrintStream out;

    /**
     * @param params  the trained parameters (a LoRA's A and B, or every weight), updated in place
     * @param grads   where the backward puts their gradients (registered for them)
     * @param samples null for no sample panels
     */
    public TransformerTrainer(FluxModel model, Map<String, Tensor> params, Gradients grads, AdamW adam,
                              LearningRateSchedule schedule, TrainingSet data, Loop loop, CheckpointFiles checkpoints,
                              TrainingLog log, SamplePanels samples, PrintStream out) {
        this.model = model;
        this.params = params;
        this.grads = grads;
        this.adam = adam;
        this.schedule = schedule;
        this.data = data;
        this.loop = loop;
        this.checkpoints = checkpoints;
        this.log = log;
        this.samples = samples;
        this.out = out;
    }

    /** Trains from the optimiser's step count to loop.steps; returns the file of the last checkpoint. */
    public Path run(Path finalFile) {
        Tensor imgIds = data.imgIds();
        Tensor txtIds = data.txtIds();
        int start = adam.steps();
        if (start == 0 && !data.validationPairs().isEmpty()) {
            log.add(new TrainingLog.Line(0, null, null, null, null, validationLoss(imgIds, txtIds)));
            out.printf(Locale.ROOT, "validation loss before training: %.6f%n", log.lines().getLast().valLoss());
        }
        ProgressBar bar = ProgressBar.onStderr("train", start);
        try (StopSignal stop = new StopSignal()) {
            for (int s = start; s < loop.steps(); s++) {
                long t0 = System.nanoTime();
                double lr = schedule.at(s);
                List<TrainStep.Sample> batch = new ArrayList<>();
                for (int j = 0; j < loop.batch(); j++) {
                    batch.add(data.sample((long) s * loop.batch() + j));
                }
                TrainStep.Result r = TrainStep.gradients(model, imgIds, txtIds, loop.guidance(), batch, grads, loop.keep());
                double gradNorm = r.gradNorm(params.keySet());
                update(r, s, lr);
                int done = s + 1;
                Double val = loop.validateEvery() > 0 && done % loop.validateEvery() == 0
                        && !data.validationPairs().isEmpty() ? validationLoss(imgIds, txtIds) : null;
                log.add(new TrainingLog.Line(done, r.loss(), lr, gradNorm, (System.nanoTime() - t0) / 1e9, val));
                bar.show(done, loop.steps(), String.format(Locale.ROOT, "loss %.4f%s", log.recentLoss(20),
                        val == null ? "" : String.format(Locale.ROOT, "  val %.4f", val)));
                if (samples != null && loop.sampleEvery() > 0 && done % loop.sampleEvery() == 0) {
                    out.println("samples after step " + done + ": " + samples.write(done));
                }
                boolean last = done == loop.steps();
                if (!last && (stop.requested() || loop.saveEvery() > 0 && done % loop.saveEvery() == 0)) {
                    save(checkpoints.intermediate(done));
                    if (stop.requested()) {
                        out.println("stopped after step " + done + " of " + loop.steps() + "; resume with --resume "
                                + checkpoints.lastSaved());
                        return checkpoints.lastSaved();
                    }
                }
            }
            return save(finalFile);
        }
    }

    private void update(TrainStep.Result r, int step, double lr) {
        try {
            TrainStep.update(adam, params, r, loop.maxGradNorm(), step + 1, lr);
        } catch (TrainStep.NonFiniteException e) {
            Path last = checkpoints.lastSaved();
            throw new TrainStep.NonFiniteException(e.getMessage() + "; training stopped, "
                    + (last == null ? "no checkpoint was saved yet (lower --lr, or check the data)"
                    : "the last good checkpoint is " + last));
        }
    }

    private Path save(Path file) {
        checkpoints.save(file);
        LossCurve.write(lossCurveOf(log.file()), log.lines());
        out.println("saved " + file + " (step " + adam.steps() + ") and its state " + CheckpointFiles.stateOf(file));
        return file;
    }

    /** The loss-curve PNG beside a metrics file: NAME.metrics.jsonl to NAME.metrics.png. */
    public static Path lossCurveOf(Path metrics) {
        String name = metrics.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return metrics.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".png");
    }

    /** The mean loss of the validation pairs at their fixed noise and times (forward only). */
    private double validationLoss(Tensor imgIds, Tensor txtIds) {
        double sum = 0;
        int n = data.validationPairs().size();
        for (int i = 0; i < n; i++) {
            sum += TrainStep.loss(model, imgIds, txtIds, loop.guidance(), data.validationSample(i));
        }
        return sum / n;
    }
}
