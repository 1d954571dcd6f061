package dev.anyrefill.dit;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Linear#backward} with two runtime LoRAs, one trained on a slice of the output rows (a
 * diffusers to_k on BFL's fused qkv) and one frozen on all of them, against central finite
 * differences of {@link Linear#forward} in every input it has: x, W, b, and the trained A and B.
 * The golden training data has whole-layer LoRAs only; this covers the sliced case.
 * Tolerance 2e-3 relative to the gradient's rms (the layer is linear in each input).
 */
class LinearBackwardTest {
    private final Kernels k = Backends.java();
    private final Random rnd = new Random(3);

    @Test
    void slicedTrainedLoraAndFrozenLoraGradients() {
        int l = 23;
        int in = 30;
        int out = 24;
        Tensor w = randn(out, in);
        Tensor b = randn(out);
        Linear layer = new Linear("layer", w, b);
        LoraAdapter trained = new LoraAdapter(randn(4, in), randn(8, 4), null, 0.75f, 8, "test: trained slice");
        LoraAdapter frozen = new LoraAdapter(randn(3, in), randn(out, 3), null, 0.5f, 0, "test: frozen");
        layer.addAdapter(trained);
        layer.addAdapter(frozen);
        Tensor x = randn(l, in);
        Tensor r = randn(l, out);

        Gradients grads = new Gradients(name -> true);
        grads.train(trained, "layer");
        Tensor dx = layer.backward(k, x, r, grads);

        Function<Tensor, Double> loss = ignored -> dot(layer.forward(k, x), r);
        check("dx", x, dx, loss);
        check("dW", w, grads.get("layer.weight"), loss);
        check("db", b, grads.get("layer.bias"), loss);
        check("dA (slice)", trained.down(), grads.get("layer.lora_A"), loss);
        check("dB (slice)", trained.up(), grads.get("layer.lora_B"), loss);
        assertTrue(grads.all().size() == 4, "a frozen adapter gets no gradient: " + grads.all().keySet());
    }

    /** Central differences of loss in every element of p (perturbed in place), against grad. */
    private static void check(String what, Tensor p, Tensor grad, Function<Tensor, Double> loss) {
        float[] v = p.data();
        float[] g = grad.data();
        double h = 1e-2;
        double sumSq = 0;
        double worst = 0;
        double[] numeric = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            float keep = v[i];
            v[i] = (float) (keep + h);
            double up = loss.apply(p);
            v[i] = (float) (keep - h);
            double down = loss.apply(p);
            v[i] = keep;
            numeric[i] = (up - down) / (2 * h);
            sumSq += numeric[i] * numeric[i];
        }
        double rms = Math.sqrt(sumSq / v.length);
        for (int i = 0; i < v.length; i++) {
            worst = Math.max(worst, Math.abs(numeric[i] - g[i]) / rms);
        }
        System.out.printf("finite differences Linear + LoRA %-12s max|analytic - numeric| / rms = %.2e (tolerance 2e-3)%n",
                what, worst);
        assertTrue(worst < 2e-3, what + ": " + worst);
    }

    private Tensor randn(int... shape) {
        float[] a = new float[Math.toIntExact(Tensor.count(shape))];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return Tensor.wrap(a, shape);
    }

    private static double dot(Tensor a, Tensor b) {
        double s = 0;
        for (int i = 0; i < a.size(); i++) {
            s += (double) a.getFloat(i) * b.getFloat(i);
        }
        return s;
    }
}
