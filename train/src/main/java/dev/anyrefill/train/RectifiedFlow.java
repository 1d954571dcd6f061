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
        requireSameSize("velocity", velocity, x0);
        requireSameSize("noise", noise, x0);
        float[] v = velocity.data();
        float[] a = x0.data();
        float[] n = noise.data();
        float[] d = new float[v.length];
        double sum = 0;
        double factor = 2.0 / ((double) batchSize * v.length);
        for (int i = 0; i < v.length; i++) {
            double diff = (double) v[i] - ((double) n[i] - a[i]);
            sum += diff * diff;
            d[i] = (float) (factor * diff);
        }
        return new Loss(sum / v.length, Tensor.wrap(d, velocity.shape()));
    }

    private static void requireSameSize(String what, Tensor t, Tensor x0) {
        if (t.size() != x0.size()) {
            throw new IllegalArgumentException(what + " " + t + " does not match x0 " + x0);
        }
    }
}
