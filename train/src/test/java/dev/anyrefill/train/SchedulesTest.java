package dev.anyrefill.train;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Timestep sampling and the learning-rate schedule against their formulas, computed independently here. */
class SchedulesTest {
    private static final int DRAWS = 200_000;

    @Test
    void shiftIsFluxsTimeShiftWithMuLogS() {
        TimestepSampler s = new TimestepSampler(TimestepSampler.Kind.UNIFORM, 1, 0, 3.0);
        double mu = Math.log(3.0);
        for (double t = 0.05; t < 1; t += 0.1) {
            double flux = Math.exp(mu) / (Math.exp(mu) + (1 / t - 1)); // BFL's time_shift(mu, 1, t)
            assertEquals(flux, s.shifted(t), 1e-12, "t = " + t);
        }
    }

    @Test
    void sigmoidSamplingHasTheMomentsOfSigmoidOfANormal() {
        // t = sigmoid(z), z ~ N(0, 1): symmetric around 0.5; P(t < sigmoid(1)) = Phi(1) = 0.8413
        TimestepSampler s = new TimestepSampler(TimestepSampler.Kind.SIGMOID, 1, 0, 1);
        SplittableRandom rnd = new SplittableRandom(1);
        double sum = 0;
        int below = 0;
        double cut = 1 / (1 + Math.exp(-1));
        for (int i = 0; i < DRAWS; i++) {
            double t = s.sample(rnd);
            assertTrue(t > 0 && t < 1);
            sum += t;
            below += t < cut ? 1 : 0;
        }
        double mean = sum / DRAWS;
        double p = (double) below / DRAWS;
        System.out.printf("timesteps: sigmoid mean %.4f (0.5), P(t < sigmoid(1)) %.4f (0.8413), tolerance 0.005%n", mean, p);
        assertEquals(0.5, mean, 0.005);
        assertEquals(0.8413, p, 0.005);
    }

    @Test
    void logitNormalMeanMovesTheMedian() {
        // the median of sigmoid(m + s z) is sigmoid(m)
        TimestepSampler s = new TimestepSampler(TimestepSampler.Kind.LOGIT_NORMAL, 0.5, 1.0, 1);
        SplittableRandom rnd = new SplittableRandom(2);
        int below = 0;
        for (int i = 0; i < DRAWS; i++) {
            below += s.sample(rnd) < 1 / (1 + Math.exp(-1.0)) ? 1 : 0;
        }
        assertEquals(0.5, (double) below / DRAWS, 0.005);
    }

    @Test
    void warmupThenCosine() {
        LearningRateSchedule lr = new LearningRateSchedule(1e-3, LearningRateSchedule.Shape.COSINE, 4, 14);
        assertEquals(1e-3 / 5, lr.at(0), 1e-15, "warm-up: (step + 1) / (warmup + 1) of the peak");
        assertEquals(4e-3 / 5, lr.at(3), 1e-15);
        assertEquals(1e-3, lr.at(4), 1e-15, "the peak after the warm-up");
        assertEquals(1e-3 * 0.5 * (1 + Math.cos(Math.PI * 5 / 10)), lr.at(9), 1e-15, "half way down the cosine");
        assertEquals(0, lr.at(14), 1e-15);
        LearningRateSchedule constant = new LearningRateSchedule(2e-4, LearningRateSchedule.Shape.CONSTANT, 0, 10);
        assertEquals(2e-4, constant.at(7), 0);
        assertThrows(IllegalArgumentException.class, () -> new TimestepSampler(TimestepSampler.Kind.SIGMOID, 1, 0, 0));
    }

    @Test
    void weightedLossCoversOnlyTheWeightedTokens() {
        // 3 tokens of 2 channels; weights (1, 0, 1): the mean over tokens 0 and 2 only
        dev.anyrefill.tensor.Tensor v = dev.anyrefill.tensor.Tensor.wrap(new float[]{1, 2, 3, 4, 5, 6}, 3, 2);
        dev.anyrefill.tensor.Tensor zero = dev.anyrefill.tensor.Tensor.zeros(3, 2);
        RectifiedFlow.Loss l = RectifiedFlow.loss(v, zero, zero, new float[]{1, 0, 1}, 1);
        assertEquals((1 + 4 + 25 + 36) / 4.0, l.value(), 1e-12);
        assertEquals(2 * 5 / 4.0, l.dVelocity().data()[4], 1e-6);
        assertEquals(0, l.dVelocity().data()[2], 0);
        assertEquals(RectifiedFlow.loss(v, zero, zero, 1).value(),
                RectifiedFlow.loss(v, zero, zero, new float[]{1, 1, 1}, 1).value(), 0, "all-ones weights = no weights");
    }
}
