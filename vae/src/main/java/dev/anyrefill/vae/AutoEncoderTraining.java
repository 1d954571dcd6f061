package dev.anyrefill.vae;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The AutoEncoder's training objective (BFL's AutoEncoder with the DiagonalGaussian sampling),
 * forward and backward, sample by sample:
 * <pre>
 *   moments      = encoder(x)                       [2 z, h, w]
 *   mean, logvar = the two halves of the channels
 *   z            = mean + exp(logvar / 2) eps        (the reparameterisation; eps ~ N(0, 1))
 *   x_rec        = decoder(z)                       (encode's scale and shift cancel decode's)
 *   rec          = mean((x_rec - x)^2)
 *   kl           = mean(0.5 (mean^2 + exp(logvar) - 1 - logvar))
 *   loss         = rec + klWeight kl                 (each term the mean over the batch)
 * </pre>
 */
public final class AutoEncoderTraining {
    /** One image and its reparameterisation draw. */
    public record Sample(Tensor x,      // [3, H, W] in [-1, 1]
                         Tensor eps) {  // [z, H/8, W/8]
    }

    /** What a batch computed; the gradients are summed into the caller's {@link ParameterGradients}. */
    public record Result(double loss, double rec, double kl,
                         List<Tensor> moments,          // per sample [2 z, h, w]
                         List<Tensor> reconstructions) { // per sample [3, H, W]
    }

    private AutoEncoderTraining() {
    }

    /** Forward and backward of the batch; grads are cleared first. */
    public static Result step(AutoEncoder ae, List<Sample> batch, double klWeight, ParameterGradients grads) {
        if (ae.encoder() == null || ae.decoder() == null) {
            throw new IllegalArgumentException("training needs both the encoder and the decoder of the AutoEncoder");
        }
        grads.clear();
        Kernels k = ae.kernels();
        int zc = ae.params().zChannels();
        double rec = 0;
        double kl = 0;
        List<Tensor> moments = new ArrayList<>();
        List<Tensor> recs = new ArrayList<>();
        for (Sample s : batch) {
            Deque<Tensor> encoderSaved = new ArrayDeque<>();
            Tensor m = ae.encoder().forwardForTraining(k, s.x(), encoderSaved);   // [2 z, h, w]
            Gaussian g = Gaussian.of(m, zc, s.eps());
            Deque<Tensor> decoderSaved = new ArrayDeque<>();
            Tensor xRec = ae.decoder().forwardForTraining(k, g.z(), decoderSaved); // [3, H, W]
            double sampleRec = meanSquaredError(xRec, s.x());
            rec += sampleRec / batch.size();
            kl += g.kl() / batch.size();
            moments.add(m);
            recs.add(xRec);

            Tensor dRec = reconstructionGradient(xRec, s.x(), batch.size());
            Tensor dz = ae.decoder().backward(k, decoderSaved, dRec, grads);
            ae.encoder().backward(k, encoderSaved, g.momentsGradient(dz, klWeight / batch.size()), grads);
        }
        return new Result(rec + klWeight * kl, rec, kl, moments, recs);
    }

    /** mean((a - b)^2) in double. */
    public static double meanSquaredError(Tensor a, Tensor b) {
        float[] x = a.data();
        float[] y = b.data();
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            double d = (double) x[i] - y[i];
            s += d * d;
        }
        return s / x.length;
    }

    /** d(batch rec)/d x_rec = 2 (x_rec - x) / (B N). */
    private static Tensor reconstructionGradient(Tensor xRec, Tensor x, int batchSize) {
        float[] r = xRec.data();
        float[] t = x.data();
        float[] d = new float[r.length];
        double f = 2.0 / ((double) batchSize * r.length);
        for (int i = 0; i < r.length; i++) {
            d[i] = (float) (f * ((double) r[i] - t[i]));
        }
        return Tensor.wrap(d, xRec.shape());
    }

    /** The DiagonalGaussian of one sample: its draw z, its KL term, and the backward into the moments. */
    private record Gaussian(float[] mean, float[] logvar, float[] eps, Tensor z, int[] shape) {
        static Gaussian of(Tensor moments, int zc, Tensor eps) {
            int n = Math.toIntExact(moments.size() / 2);
            int[] shape = {zc, moments.dim(1), moments.dim(2)};
            if (eps.size() != n) {
                throw new IllegalArgumentException("eps " + eps + " does not match the latent [" + zc + ", "
                        + moments.dim(1) + ", " + moments.dim(2) + "]");
            }
            float[] m = java.util.Arrays.copyOfRange(moments.data(), 0, n);
            float[] lv = java.util.Arrays.copyOfRange(moments.data(), n, 2 * n);
            float[] e = eps.data();
            float[] z = new float[n];
            for (int i = 0; i < n; i++) {
                z[i] = (float) (m[i] + Math.exp(0.5 * lv[i]) * e[i]);
            }
            return new Gaussian(m, lv, e, Tensor.wrap(z, shape), shape);
        }

        double kl() {
            double s = 0;
            for (int i = 0; i < mean.length; i++) {
                s += 0.5 * ((double) mean[i] * mean[i] + Math.exp(logvar[i]) - 1 - logvar[i]);
            }
            return s / mean.length;
        }

        /**
         * d loss / d moments from d loss / dz and the KL's own gradient, klScale = klWeight / B:
         * d mean = dz + klScale mean / N; d logvar = dz eps exp(logvar / 2) / 2 + klScale (exp(logvar) - 1) / (2 N).
         */
        Tensor momentsGradient(Tensor dz, double klScale) {
            int n = mean.length;
            float[] g = dz.data();
            float[] d = new float[2 * n];
            for (int i = 0; i < n; i++) {
                double std = Math.exp(0.5 * logvar[i]);
                d[i] = (float) (g[i] + klScale * mean[i] / n);
                d[n + i] = (float) (g[i] * eps[i] * 0.5 * std + klScale * 0.5 * (std * std - 1) / n);
            }
            return Tensor.wrap(d, 2 * shape[0], shape[1], shape[2]);
        }
    }
}
