package dev.anyrefill.train;

import dev.anyrefill.dit.ActivationCheckpointing;
import dev.anyrefill.dit.Gradients;
import dev.anyrefill.tensor.Compare;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One training step of the golden model (2 double + 2 single blocks, a rank-4 kohya LoRA with
 * alpha, a batch of 2 LPG canvases) against BFL's code on PyTorch autograd in float64: the
 * loss, the velocity, the gradient of every LoRA A and B and of every base parameter, and three
 * AdamW steps. Measure: max|java - ref| / rms(ref) per tensor, below 1e-3 (train/README.md).
 */
class TrainStepGoldenTest {
    @ParameterizedTest
    @EnumSource(value = ActivationCheckpointing.class, names = {"BLOCKS", "NONE"})
    void lossVelocityAndEveryGradientMatchAutograd(ActivationCheckpointing keep) {
        try (TrainGolden g = new TrainGolden()) {
            Gradients grads = new Gradients(name -> true);
            g.lora.register(grads);
            TrainStep.Result r = TrainStep.gradients(g.model, g.batches.get("img_ids"), g.batches.get("txt_ids"),
                    g.guidance(), g.batch(0), grads, keep);
            System.out.println("activation checkpointing: " + keep.cliName());

            double refLoss = g.expected.get("step.0.loss").getFloat(0);
            double lossError = Math.abs(r.loss() - refLoss) / Math.abs(refLoss);
            System.out.printf("golden train step.0.loss %.8f vs %.8f, relative error %.3e (tolerance %.0e)%n",
                    r.loss(), refLoss, lossError, Golden.TOLERANCE);
            assertTrue(lossError < Golden.TOLERANCE, "loss " + r.loss() + " vs " + refLoss);

            Tensor velocity = g.model.kernels().concatRows(r.velocities().toArray(Tensor[]::new))
                    .reshape(g.expected.get("step.0.velocity").shape());
            Golden.assertClose("train step.0.velocity", velocity, g.expected.get("step.0.velocity"));

            int compared = 0;
            double worst = 0;
            String worstName = null;
            for (String name : g.expected.names()) {
                if (!name.startsWith("grad.")) {
                    continue;
                }
                String param = name.substring("grad.".length());
                Tensor got = r.grads().get(param);
                assertNotNull(got, "no gradient for " + param);
                Tensor ref = g.expected.get(name);
                assertTrue(java.util.Arrays.equals(got.shape(), ref.shape()), param + ": shape");
                double err = Compare.relativeError(got, ref);
                assertTrue(err < Golden.TOLERANCE, param + ": relative error " + err);
                if (err > worst) {
                    worst = err;
                    worstName = param;
                }
                compared++;
            }
            System.out.printf("golden train: %d gradients (LoRA A, B and every base parameter), worst %.3e (%s), "
                    + "tolerance %.0e each%n", compared, worst, worstName, Golden.TOLERANCE);
            assertEquals(compared, r.grads().size(), "gradients the reference does not have: " + r.grads().keySet());
        }
    }

    /** Recomputing a block's inside in its backward is the same arithmetic on the same inputs: the same bits. */
    @Test
    void keepingEveryActivationGivesTheCheckpointedGradientsBitForBit() {
        try (TrainGolden g = new TrainGolden()) {
            Map<String, Tensor> byMode = new java.util.TreeMap<>();
            for (ActivationCheckpointing keep : new ActivationCheckpointing[]{ActivationCheckpointing.BLOCKS,
                    ActivationCheckpointing.NONE}) {
                Gradients grads = new Gradients(name -> true);
                g.lora.register(grads);
                TrainStep.Result r = TrainStep.gradients(g.model, g.batches.get("img_ids"), g.batches.get("txt_ids"),
                        g.guidance(), g.batch(0), grads, keep);
                r.grads().forEach((name, t) -> byMode.put(keep.cliName() + " " + name, Tensor.wrap(t.data().clone(), t.shape())));
            }
            int compared = 0;
            for (String key : byMode.keySet()) {
                if (key.startsWith("blocks ")) {
                    String name = key.substring("blocks ".length());
                    Tensor none = byMode.get("none " + name);
                    assertNotNull(none, "no gradient of " + name + " without checkpointing");
                    assertTrue(java.util.Arrays.equals(byMode.get(key).data(), none.data()), name + " differs");
                    compared++;
                }
            }
            System.out.println("activation checkpointing none and blocks: " + compared + " gradients, identical bits");
            assertTrue(compared > 10, "the LoRA's and the base parameters' gradients: " + compared);
        }
    }

    @Test
    void threeAdamWStepsMatchTorch() {
        try (TrainGolden g = new TrainGolden()) {
            Map<String, String> meta = g.batches.metadata();
            AdamW adam = new AdamW(new AdamW.Settings(Double.parseDouble(meta.get("lr")),
                    Double.parseDouble(meta.get("beta1")), Double.parseDouble(meta.get("beta2")),
                    Double.parseDouble(meta.get("eps")), Double.parseDouble(meta.get("weight_decay"))));
            Map<String, Tensor> params = g.lora.parameters();
            Map<String, Tensor> init = new java.util.LinkedHashMap<>();
            params.forEach((n, t) -> init.put(n, Tensor.wrap(t.data().clone(), t.shape())));
            Map<String, Tensor> firstGrads = null;
            int steps = Integer.parseInt(meta.get("steps"));
            for (int s = 0; s < steps; s++) {
                Gradients grads = Gradients.loraOnly();
                g.lora.register(grads);
                TrainStep.Result r = TrainStep.gradients(g.model, g.batches.get("img_ids"), g.batches.get("txt_ids"),
                        g.guidance(), g.batch(s), grads, ActivationCheckpointing.AUTO);
                double ref = g.expected.get("step." + s + ".loss").getFloat(0);
                double lossError = Math.abs(r.loss() - ref) / Math.abs(ref);
                System.out.printf("golden train step.%d.loss %.8f vs %.8f, relative error %.3e (tolerance %.0e)%n",
                        s, r.loss(), ref, lossError, Golden.TOLERANCE);
                assertTrue(lossError < Golden.TOLERANCE, "step " + s + " loss");
                if (s == 0) {
                    firstGrads = copy(r.grads());
                }
                TrainStep.update(adam, params, r, 0, s);
            }
            double worst = 0;
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                Tensor update = minus(e.getValue(), init.get(e.getKey()));
                Tensor refUpdate = minus(g.expected.get("final." + e.getKey()).toF32(), init.get(e.getKey()));
                double err = updateError(update, refUpdate, firstGrads.get(e.getKey()));
                assertTrue(err < Golden.TOLERANCE, e.getKey() + ": AdamW update off by " + err);
                worst = Math.max(worst, err);
            }
            System.out.printf("golden train: AdamW update (final - init) of %d LoRA tensors after %d steps, worst %.3e "
                    + "(tolerance %.0e)%n", params.size(), steps, worst, Golden.TOLERANCE);
        }
    }

    /**
     * max |got - ref| / rms(ref) over the elements whose step-0 gradient is at least 1e-4 of its
     * tensor's rms (README: below that, Adam's first step is lr * g / (|g| + eps), whose sign
     * float32 rounding can flip).
     */
    private static double updateError(Tensor got, Tensor ref, Tensor grad0) {
        float[] a = got.data();
        float[] b = ref.data();
        float[] g = grad0.data();
        double gRms = rms(g);
        double refRms = rms(b);
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            if (Math.abs(g[i]) >= 1e-4 * gRms) {
                worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1e-6, refRms));
            }
        }
        return worst;
    }

    private static double rms(float[] x) {
        double s = 0;
        for (float v : x) {
            s += (double) v * v;
        }
        return Math.sqrt(s / x.length);
    }

    private static Tensor minus(Tensor a, Tensor b) {
        float[] x = a.data();
        float[] y = b.data();
        float[] d = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i] - y[i];
        }
        return Tensor.wrap(d, a.shape());
    }

    private static Map<String, Tensor> copy(Map<String, Tensor> m) {
        Map<String, Tensor> c = new java.util.LinkedHashMap<>();
        m.forEach((n, t) -> c.put(n, Tensor.wrap(t.data().clone(), t.shape())));
        return c;
    }
}
