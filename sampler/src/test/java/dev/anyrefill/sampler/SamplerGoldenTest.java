package dev.anyrefill.sampler;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.testing.GoldenFile;
import dev.anyrefill.weights.FluxCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Schedule, position ids, noise, packing and the Euler loop against BFL's reference (testdata/golden/tiny). */
class SamplerGoldenTest {
    @RegisterExtension
    static final GoldenFile expected = GoldenFile.expected();

    @Test
    void schedules() {
        int checked = 0;
        for (String name : expected.names()) {
            if (name.startsWith("schedule.")) {
                String[] parts = name.split("\\.");
                double[] t = Schedule.schedule(Integer.parseInt(parts[1]), Integer.parseInt(parts[2]), true);
                Golden.assertClose(name, toTensor(t), expected.get(name));
                checked++;
            }
        }
        assertEquals(20, checked, "schedule.*.* tensors in the golden file");
        Golden.assertClose("denoise.timesteps", toTensor(Schedule.schedule(4, 32, true)),
                expected.get("denoise.timesteps"));
    }

    @Test
    void positionIdsOverTheWholeCanvas() {
        Golden.assertClose("img_ids", PositionIds.image(4, 8), expected.get("img_ids"));
        Golden.assertClose("txt_ids", PositionIds.text(8), expected.get("txt_ids"));
    }

    @Test
    void torchCompatibleNoise() {
        Tensor noise = TorchRandom.randn(42, 16, 8, 16);
        Golden.assertClose("noise (torch.randn float64 seed 42)", noise, expected.get("noise"));
        Golden.assertClose("img_packed", Packing.pack(noise), expected.get("img_packed"));
    }

    /** PyTorch's widely printed torch.manual_seed(42); torch.randn(16) (float32), to 4 decimals. */
    @Test
    void torchCompatibleFloat32Noise() {
        float[] printed = {1.9269f, 1.4873f, 0.9007f, -2.1055f, 0.6784f, -1.2345f, -0.0431f, -1.6047f,
                -0.7521f, 1.6487f, -0.3925f, -1.4036f, -0.7279f, -0.5594f, -0.7688f, 0.7624f};
        Tensor got = TorchRandom.randnFloat32(42, 16);
        double worst = 0;
        for (int i = 0; i < printed.length; i++) {
            worst = Math.max(worst, Math.abs(got.getFloat(i) - printed[i]));
        }
        System.out.printf("torch.randn(16) seed 42 float32: max |got - printed| = %.2e (tolerance 5.1e-05, the printed rounding)%n", worst);
        org.junit.jupiter.api.Assertions.assertTrue(worst <= 5.1e-5, "differs from torch's printed values by " + worst);
    }

    @ParameterizedTest
    @ValueSource(strings = {"flux-fill.safetensors", "flux-fill-diffusers.safetensors"})
    void denoiseMatchesReference(String file) {
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(Golden.tiny(file))) {
            Tensor packed = GoldenDenoise.denoise(new FluxModel(ckpt, Backends.java()), expected);
            Golden.assertClose(file + " denoise.packed", packed, expected.get("denoise.packed"));
            Golden.assertClose(file + " denoise.latent", Packing.unpack(packed, 8, 16), expected.get("denoise.latent"));
        }
    }

    private static Tensor toTensor(double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return Tensor.wrap(f, f.length);
    }
}
