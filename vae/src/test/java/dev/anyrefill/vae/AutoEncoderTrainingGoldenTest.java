package dev.anyrefill.vae;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.weights.SafetensorsFile;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One training step of the AutoEncoder against BFL's code on PyTorch autograd in float64
 * (testdata/golden/vae-train): the loss and its terms, the moments, the reconstructions and
 * the gradient of every parameter, each below 1e-3 in max |java - ref| / rms(ref).
 */
class AutoEncoderTrainingGoldenTest {
    private static Path file(String name) {
        return Golden.dir().resolve("vae-train").resolve(name);
    }

    @Test
    void lossMomentsReconstructionsAndEveryGradientMatchAutograd() {
        try (SafetensorsFile weights = SafetensorsFile.open(file("ae.safetensors"));
             SafetensorsFile batch = SafetensorsFile.open(file("batch.safetensors"));
             SafetensorsFile expected = SafetensorsFile.open(file("expected.safetensors"))) {
            AutoEncoder ae = new AutoEncoder(weights, Backends.java());
            Tensor x = batch.get("x").toF32();     // [2, 3, 32, 48]
            Tensor eps = batch.get("eps").toF32(); // [2, 16, 4, 6]
            double klWeight = batch.get("kl_weight").toF32().data()[0];
            List<AutoEncoderTraining.Sample> samples = new ArrayList<>();
            for (int b = 0; b < x.dim(0); b++) {
                samples.add(new AutoEncoderTraining.Sample(x.sliceRows(b, b + 1).reshape(3, 32, 48),
                        eps.sliceRows(b, b + 1).reshape(16, 4, 6)));
            }
            ParameterGradients grads = new ParameterGradients();
            AutoEncoderTraining.Result r = AutoEncoderTraining.step(ae, samples, klWeight, grads);

            Golden.assertClose("vae-train loss", scalar(r.loss()), expected.get("loss").toF32());
            Golden.assertClose("vae-train rec", scalar(r.rec()), expected.get("rec").toF32());
            Golden.assertClose("vae-train kl", scalar(r.kl()), expected.get("kl").toF32());
            Golden.assertClose("vae-train moments", stack(r.moments()), expected.get("moments").toF32());
            Golden.assertClose("vae-train x_rec", stack(r.reconstructions()), expected.get("x_rec").toF32());
            Map<String, Tensor> got = grads.all();
            Set<String> names = weights.names();
            assertEquals(names.size(), got.size(), "a gradient for every parameter");
            double worst = 0;
            for (String name : names) {
                worst = Math.max(worst, Golden.assertClose("vae-train grad." + name, got.get(name),
                        expected.get("grad." + name).toF32()));
            }
            System.out.printf("golden vae-train: %d gradients, worst %.3e (tolerance 1e-3)%n", names.size(), worst);
        }
    }

    private static Tensor scalar(double v) {
        return Tensor.wrap(new float[]{(float) v}, 1);
    }

    /** Per-sample tensors [C, H, W] as one [B, C, H, W]. */
    private static Tensor stack(List<Tensor> parts) {
        Tensor first = parts.getFirst();
        float[] out = new float[Math.toIntExact(first.size() * parts.size())];
        for (int i = 0; i < parts.size(); i++) {
            System.arraycopy(parts.get(i).data(), 0, out, Math.toIntExact(i * first.size()), (int) first.size());
        }
        int[] shape = new int[first.rank() + 1];
        shape[0] = parts.size();
        System.arraycopy(first.shape(), 0, shape, 1, first.rank());
        return Tensor.wrap(out, shape);
    }
}
