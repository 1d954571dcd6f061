package dev.anyrefill.training;

import dev.anyrefill.sampler.PositionIds;
import dev.anyrefill.sampler.TorchRandom;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.train.TimestepSampler;
import dev.anyrefill.train.TrainStep;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The encoded pairs and how a step draws from them. Sample number g of the run (step s,
 * micro-batch j: g = s * batch + j) takes the training pair at position g mod n of epoch g / n's
 * shuffle, and from a seed of (run seed, g) its time, caption dropout, mask and noise; so the
 * draws depend on g alone and a resumed run repeats them exactly. Validation samples have
 * noise and times fixed per pair, the same at every evaluation.
 */
public final class TrainingSet {
    /** A pair ready to train on: its latents and its caption. */
    public record Encoded(PairsFolder.Pair pair, LatentCache.Entry latents) {
    }

    /** How samples are drawn. */
    public record Draw(TimestepSampler timesteps, double captionDropout, Region lossRegion, long seed) {
    }

    /** Which tokens the loss covers. */
    public enum Region { CANVAS, TARGET }

    private final List<Encoded> train;
    private final List<Encoded> validation;
    private final CaptionEmbeddings captions;
    private final Draw draw;
    private final int rows;
    private final int cols;
    private final float[] lossWeights;

    public TrainingSet(List<Encoded> train, List<Encoded> validation, CaptionEmbeddings captions, Draw draw,
                       boolean swap) {
        if (train.isEmpty()) {
            throw new IllegalArgumentException("no training pairs are left after the validation split");
        }
        this.train = List.copyOf(train);
        this.validation = List.copyOf(validation);
        this.captions = captions;
        this.draw = draw;
        LatentCache.Entry first = train.getFirst().latents();
        for (Encoded e : concat(train, validation)) {
            if (e.latents().height() != first.height() || e.latents().halfWidth() != first.halfWidth()) {
                throw new IllegalArgumentException(e.pair().target() + ": pair " + e.pair().name() + " is "
                        + e.latents().halfWidth() + "x" + e.latents().height() + ", pair " + train.getFirst().pair().name()
                        + " is " + first.halfWidth() + "x" + first.height() + "; give --size HxW to bring pairs to one size");
            }
        }
        this.rows = first.height() / 16;
        this.cols = 2 * first.halfWidth() / 16;
        this.lossWeights = draw.lossRegion() == Region.CANVAS ? null : targetTokens(swap);
    }

    /** Image tokens per canvas. */
    public int tokens() {
        return rows * cols;
    }

    /** [N, 3] position ids of the canvas's tokens. */
    public Tensor imgIds() {
        return PositionIds.image(rows, cols);
    }

    /** [L, 3] position ids of the text tokens (every caption's embedding has the same length). */
    public Tensor txtIds() {
        return PositionIds.text(captions.get(train.getFirst().pair().caption(), false).txt().dim(0));
    }

    public List<Encoded> trainPairs() {
        return train;
    }

    public List<Encoded> validationPairs() {
        return validation;
    }

    /** Training sample number g of the run. */
    public TrainStep.Sample sample(long g) {
        int n = train.size();
        int[] order = shuffle(n, Seeds.of(draw.seed(), "epoch", g / n));
        Encoded e = train.get(order[(int) (g % n)]);
        SplittableRandom rnd = new SplittableRandom(Seeds.of(draw.seed(), "sample", g));
        double t = draw.timesteps().sample(rnd);
        boolean dropped = draw.captionDropout() > 0 && rnd.nextDouble() < draw.captionDropout();
        int mask = rnd.nextInt(e.latents().masks());
        return sample(e, captions.get(e.pair().caption(), dropped), mask, rnd.nextLong(), t);
    }

    /** Validation pair i's sample: the same noise, time and mask at every evaluation. */
    public TrainStep.Sample validationSample(int i) {
        Encoded e = validation.get(i);
        SplittableRandom rnd = new SplittableRandom(Seeds.of(draw.seed(), "validation", i));
        double t = draw.timesteps().sample(rnd);
        return sample(e, captions.get(e.pair().caption(), false), 0, rnd.nextLong(), t);
    }

    private TrainStep.Sample sample(Encoded e, CaptionEmbeddings.Embedding text, int mask, long noiseSeed, double t) {
        Tensor x0 = e.latents().x0();                             // [N, 64]
        Tensor noise = TorchRandom.randn(noiseSeed & Long.MAX_VALUE, x0.shape()); // [N, 64]
        return new TrainStep.Sample(x0, e.latents().imgCond(mask), text.txt(), text.vec(), noise, t, lossWeights);
    }

    /** Weight 1 on the target half's tokens (the right columns, or the left when swapped), 0 elsewhere. */
    private float[] targetTokens(boolean swap) {
        float[] w = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                boolean right = c >= cols / 2;
                w[r * cols + c] = right != swap ? 1 : 0;
            }
        }
        return w;
    }

    /** How many of n items a validation split holds out: the fraction rounded, at least one when asked for any. */
    public static int heldOut(int n, double fraction) {
        int held = (int) Math.round(fraction * n);
        return fraction > 0 && held == 0 && n > 1 ? 1 : held;
    }

    /** A Fisher-Yates permutation of 0..n-1 from a seed. */
    public static int[] shuffle(int n, long seed) {
        int[] order = new int[n];
        Arrays.setAll(order, i -> i);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        return order;
    }

    private static List<Encoded> concat(List<Encoded> a, List<Encoded> b) {
        List<Encoded> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
