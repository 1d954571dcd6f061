package dev.anyrefill.train;

import dev.anyrefill.tensor.Tensor;

/**
 * The rectified-flow objective FLUX is trained with (AnyRefill's eq. 3): the noisy latent
 * {@code z_t = (1 - t) x0 + t noise} (t = 1 is pure noise, as in sampling), and the model's
 * velocity is regressed onto {@code noise - x0}, the direction from data to noise, by mean
 * squared error over every token and channel of the canvas.
 */
public final class RectifiedFlow {
    private RectifiedFlow() {
    }

    /** z_t = (1 - t) x0 + t noise, same shape as x0. */
    public static Tensor noisy(Tensor x0, Tensor noise, double t) {
        float[] a = x0.data();
        float[] n = noise.data();
        requireSameSize("noise", noise, x0);
        float[] z = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            z[i] = (float) ((1 - t) * a[i] + t * n[i]);
        }
        return Tensor.wrap(z, x0.shape());
    }

    /** One sample's loss and the gradient of the batch loss with respect to its velocity. */
    public record Loss(double value, Tensor dVelocity) {
    }

    /**
     * The sample's mean squared error {@code mean((v - (noise - x0))^2)}, and d(batch loss)/dv
     * for a batch of {@code batchSize} samples whose loss is the mean of theirs:
     * {@code 2 (v - target) / (batchSize * v.size)}.
     */
    public static Loss loss(Tensor velocity, Tensor x0, Tensor noise, int batchSize) {
        return loss(velocity, x0, noise, null, batchSize);
    }

    /**
     * The loss over a region of the canvas: token i of the packed [N, C] latent counts with
     * weight w[i] (0 or 1 for a region), and the mean is over the weighted elements,
     * {@code sum_i w_i sum_c diff^2 / (C sum_i w_i)}. Null weights: every token, as above.
     */
    public static Loss loss(Tensor velocity, Tensor x0, Tensor noise, float[] tokenWeights, int batchSize) {
        requireSameSize("velocity", velocity, x0);
        requireSameSize("noise", noise, x0);
        float[] v = velocity.data();
        float[] a = x0.data();
        float[] n = noise.data();
        int channels = velocity.dim(velocity.rank() - 1);
        int tokens = v.length / channels;
        if (tokenWeights != null && tokenWeights.length != tokens) {
            throw new IllegalArgumentException("loss weights for " + tokenWeights.length + " tokens, the velocity has "
                    + tokens);
        }
        double weightSum = 0;
        for (int i = 0; i < tokens; i++) {
            weightSum += tokenWeights == null ? 1 : tokenWeights[i];
        }
        if (!(weightSum > 0)) {
            throw new IllegalArgumentException("the loss region covers no token");
        }
        double elements = weightSum * channels;
        float[] d = new float[v.length];
        double sum = 0;
        double factor = 2.0 / (batchSize * elements);
        for (int i = 0; i < tokens; i++) {
            double w = tokenWeights == null ? 1 : tokenWeights[i];
            for (int c = i * channels; c < (i + 1) * channels; c++) {
                double diff = (double) v[c] - ((double) n[c] - a[c]);
                sum += w * diff * diff;
                d[c] = (float) (factor * w * diff);
            }
        }
        return new Loss(sum / elements, Tensor.wrap(d, velocity.shape()));
    }

    private static void requireSameSize(String what, Tensor t, Tensor x0) {
        if (t.size() != x0.size()) {
            throw new IllegalArgumentException(what + " " + t + " does not match x0 " + x0);
        }
    }
}
