package dev.anyrefill.training;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.ImageOps;
import dev.anyrefill.image.Pixels;
import dev.anyrefill.pipeline.ProgressBar;
import dev.anyrefill.sampler.TorchRandom;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.train.AdamW;
import dev.anyrefill.train.LearningRateSchedule;
import dev.anyrefill.train.TrainStep;
import dev.anyrefill.vae.AutoEncoder;
import dev.anyrefill.vae.AutoEncoderTraining;
import dev.anyrefill.vae.ParameterGradients;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntFunction;

/**
 * The AutoEncoder's training loop: per step a batch of random crops (a random image of the
 * epoch's shuffle, a random position, a random horizontal flip, the reparameterisation's eps;
 * all from a seed of (run seed, sample number), so a resumed run draws the same), the
 * reconstruction + KL loss by accumulation, clipping, AdamW; then the metrics line, and on
 * their steps the held-out reconstruction error (centre crops, the latent's mean: no
 * sampling), a panel of inputs | reconstructions and a checkpoint.
 */
public final class AutoEncoderTrainer {
    /** The loop's settings. */
    public record Loop(int steps, int batch, int size, double klWeight, double maxGradNorm, int saveEvery,
                       int validateEvery, int sampleEvery) {
    }

    private final AutoEncoder ae;
    private final Map<String, Tensor> params;
    private final AdamW adam;
    private final LearningRateSchedule schedule;
    private final List<Pixels> train;
    private final List<Pixels> validation;
    private final Loop loop;
    private final long seed;
    private final IntFunction<Path> checkpoint;
    private final Saver saver;
    private final TrainingLog log;
    private final Path panels;
    private final PrintStream out;
    private Path lastSaved;

    /** Writes a checkpoint (the AutoEncoder and its state) as the given file. */
    @FunctionalInterface
    public interface Saver {
        void save(Path file);
    }

    /**
     * @param checkpoint the file of the checkpoint after a step; saver writes one
     * @param panels     the folder of reconstruction panels, or null for none
     */
    public AutoEncoderTrainer(AutoEncoder ae, Map<String, Tensor> params, AdamW adam, LearningRateSchedule schedule,
                              List<Pixels> train, List<Pixels> validation, Loop loop, long seed,
                              IntFunction<Path> checkpoint, Saver saver, TrainingLog log, Path panels, PrintStream out) {
        this.ae = ae;
        this.params = params;
        this.adam = adam;
        this.schedule = schedule;
        this.train = train;
        this.validation = validation;
        this.loop = loop;
        this.seed = seed;
        this.checkpoint = checkpoint;
        this.saver = saver;
        this.log = log;
        this.panels = panels;
        this.out = out;
    }

    /** Trains from the optimiser's step count to loop.steps; returns the last checkpoint written. */
    public Path run(Path finalFile) {
        ParameterGradients grads = new ParameterGradients();
        int start = adam.steps();
        if (start == 0 && !validation.isEmpty()) {
            double mse = validationError();
            log.add(new TrainingLog.Line(0, null, null, null, null, mse));
            out.printf(Locale.ROOT, "held-out reconstruction before training: MSE %.6f, PSNR %.2f dB%n", mse, psnr(mse));
        }
        ProgressBar bar = ProgressBar.onStderr("vae train", start);
        try (StopSignal stop = new StopSignal()) {
            for (int s = start; s < loop.steps(); s++) {
                long t0 = System.nanoTime();
                double lr = schedule.at(s);
                List<AutoEncoderTraining.Sample> batch = new ArrayList<>();
                for (int j = 0; j < loop.batch(); j++) {
                    batch.add(sample((long) s * loop.batch() + j));
                }
                AutoEncoderTraining.Result r = AutoEncoderTraining.step(ae, batch, loop.klWeight(), grads);
                Map<String, Tensor> g = grads.all();
                double norm = TrainStep.gradNorm(g, params.keySet());
                try {
                    TrainStep.update(adam, params, r.loss(), g, loop.maxGradNorm(), s + 1, lr);
                } catch (TrainStep.NonFiniteException e) {
                    throw new TrainStep.NonFiniteException(e.getMessage() + "; training stopped, " + (lastSaved == null
                            ? "no checkpoint was saved yet (lower --lr, or check the images)"
                            : "the last good checkpoint is " + lastSaved));
                }
                int done = s + 1;
                Double val = loop.validateEvery() > 0 && done % loop.validateEvery() == 0 && !validation.isEmpty()
                        ? validationError() : null;
                log.add(new TrainingLog.Line(done, r.loss(), lr, norm, (System.nanoTime() - t0) / 1e9, val));
                bar.show(done, loop.steps(), String.format(Locale.ROOT, "loss %.5f%s", log.recentLoss(20),
                        val == null ? "" : String.format(Locale.ROOT, "  held-out PSNR %.2f dB", psnr(val))));
                if (panels != null && loop.sampleEvery() > 0 && done % loop.sampleEvery() == 0) {
                    out.println("reconstructions after step " + done + ": " + writePanel(done));
                }
                boolean last = done == loop.steps();
                if (!last && (stop.requested() || loop.saveEvery() > 0 && done % loop.saveEvery() == 0)) {
                    Path file = save(checkpoint.apply(done));
                    if (stop.requested()) {
                        out.println("stopped after step " + done + " of " + loop.steps() + "; resume with --resume " + file);
                        return file;
                    }
                }
            }
            return save(finalFile);
        }
    }

    private Path save(Path file) {
        saver.save(file);
        lastSaved = file;
        LossCurve.write(TransformerTrainer.lossCurveOf(log.file()), log.lines());
        out.println("saved " + file + " (step " + adam.steps() + ")");
        return file;
    }

    /** Training sample number g: a random crop of a random image, maybe mirrored, and its eps. */
    AutoEncoderTraining.Sample sample(long g) {
        int n = train.size();
        int[] order = TrainingSet.shuffle(n, Seeds.of(seed, "vae epoch", g / n));
        Pixels image = train.get(order[(int) (g % n)]);
        SplittableRandom rnd = new SplittableRandom(Seeds.of(seed, "vae sample", g));
        int y = rnd.nextInt(image.height() - loop.size() + 1);
        int x = rnd.nextInt(image.width() - loop.size() + 1);
        Pixels crop = ImageOps.crop(image, y, x, loop.size(), loop.size());
        if (rnd.nextBoolean()) {
            crop = mirrored(crop);
        }
        int f = ae.params().downscale();
        Tensor eps = TorchRandom.randn(rnd.nextLong() & Long.MAX_VALUE, ae.params().zChannels(), loop.size() / f,
                loop.size() / f);
        return new AutoEncoderTraining.Sample(ImageFiles.toTensor(crop), eps);
    }

    /** The mean squared error of the held-out images' centre crops, reconstructed from the latent mean. */
    double validationError() {
        double sum = 0;
        for (Pixels p : validation) {
            Tensor x = ImageFiles.toTensor(centre(p));
            sum += AutoEncoderTraining.meanSquaredError(ae.decode(ae.encode(x)), x);
        }
        return sum / validation.size();
    }

    /** PSNR in dB of an MSE of images in [-1, 1] (peak to peak 2). */
    public static double psnr(double mse) {
        return 10 * Math.log10(4 / mse);
    }

    private Path writePanel(int step) {
        List<Pixels> shown = validation.isEmpty() ? train : validation;
        List<Tensor> rows = new ArrayList<>();
        for (Pixels p : shown.subList(0, Math.min(4, shown.size()))) {
            Tensor x = ImageFiles.toTensor(centre(p));
            rows.add(SamplePanels.beside(List.of(x, ae.decode(ae.encode(x)))));
        }
        Path file = panels.resolve(String.format("step%06d.png", step));
        ImageFiles.writeImage(file, SamplePanels.below(rows), Map.of("Software", "anyrefill-jvm"));
        return file;
    }

    private Pixels centre(Pixels p) {
        return ImageOps.cropCentre(p, loop.size(), loop.size());
    }

    private static Pixels mirrored(Pixels p) {
        int c = p.channels();
        byte[] out = new byte[p.data().length];
        for (int y = 0; y < p.height(); y++) {
            for (int x = 0; x < p.width(); x++) {
                System.arraycopy(p.data(), (y * p.width() + x) * c, out, (y * p.width() + p.width() - 1 - x) * c, c);
            }
        }
        return new Pixels(p.height(), p.width(), c, out);
    }
}
