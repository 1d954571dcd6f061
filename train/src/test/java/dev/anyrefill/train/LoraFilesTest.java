package dev.anyrefill.train;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.lora.LoraFile;
import dev.anyrefill.weights.lora.LoraLayout;
import dev.anyrefill.weights.lora.LoraModule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A written LoRA read back by the project's loader gives each layer the same delta s B A (the
 * PEFT file through its split parts, with the scale in B), and a training state restores
 * parameters and moments exactly.
 */
class LoraFilesTest {
    @TempDir
    Path tmp;

    private static TrainableLora trainedLooking(FluxModel model) {
        TrainableLora lora = TrainableLora.fresh(model, TrainableLora.ANYREFILL_TARGETS, 4, 3.0, 5);
        SplittableRandom rnd = new SplittableRandom(9);
        for (TrainableLora.Module m : lora.modules()) {
            float[] b = m.b().data();
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) rnd.nextGaussian();
            }
        }
        return lora;
    }

    @Test
    void kohyaAndPeftFilesReadBackAsTheSameDeltas() {
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(TrainGolden.file("flux-fill.safetensors"))) {
            TrainableLora lora = trainedLooking(new FluxModel(ckpt, Backends.java()));
            for (LoraWriter.Format format : LoraWriter.Format.values()) {
                Path file = tmp.resolve(format + ".safetensors");
                LoraWriter.write(file, lora, format, DType.F32, Map.of("anyrefill.rank", "4"));
                try (LoraFile read = LoraFile.open(file)) {
                    assertEquals(format == LoraWriter.Format.KOHYA ? LoraLayout.KOHYA : LoraLayout.PEFT, read.layout());
                    double worst = 0;
                    for (TrainableLora.Module m : lora.modules()) {
                        float[] expected = delta(m.b(), m.a(), m.scale());
                        float[] got = new float[expected.length];
                        for (LoraModule part : read.modules()) {
                            if (part.bflModule().equals(m.name())) {
                                float[] d = delta(part.up().toF32(), part.down().toF32(), (float) part.scale(1.0));
                                System.arraycopy(d, 0, got, part.rowOffset() * m.a().dim(1), d.length);
                            }
                        }
                        for (int i = 0; i < got.length; i++) {
                            worst = Math.max(worst, Math.abs(got[i] - expected[i]) / (1 + Math.abs(expected[i])));
                        }
                    }
                    System.out.printf("lora files: %s written and read back, worst delta error %.2e (tolerance 1e-6)%n",
                            format, worst);
                    assertTrue(worst < 1e-6, format + ": " + worst);
                }
            }
        }
    }

    @Test
    void aTrainingStateRestoresParametersAndMoments() {
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(TrainGolden.file("flux-fill.safetensors"))) {
            FluxModel model = new FluxModel(ckpt, Backends.java());
            TrainableLora lora = trainedLooking(model);
            AdamW adam = new AdamW(AdamW.Settings.defaults(1e-3));
            Map<String, Tensor> params = lora.parameters();
            Map<String, Tensor> grads = new java.util.LinkedHashMap<>();
            params.forEach((n, p) -> grads.put(n, Tensor.wrap(p.data().clone(), p.shape())));
            adam.step(params, grads, 1);
            Path file = tmp.resolve("state.safetensors");
            TrainingState.save(file, lora.parameters(), adam, Map.of("anyrefill.task", "deblur"));
            assertEquals("1", TrainingState.metadata(file).get(TrainingState.STEPS));

            TrainableLora other = TrainableLora.fresh(model, TrainableLora.ANYREFILL_TARGETS, 4, 3.0, 99);
            AdamW restored = new AdamW(AdamW.Settings.defaults(1e-3));
            TrainingState.restore(file, other.parameters(), restored);
            assertEquals(1, restored.steps());
            other.parameters().forEach((n, p) -> assertArrayEquals(params.get(n).data(), p.data(), n));
            adam.state().firstMoments().forEach((n, m) -> assertArrayEquals(m, restored.state().firstMoments().get(n), n));
            adam.state().secondMoments().forEach((n, v) -> assertArrayEquals(v, restored.state().secondMoments().get(n), n));

            TrainableLora rank8 = TrainableLora.fresh(model, TrainableLora.ANYREFILL_TARGETS, 8, 8, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> TrainingState.restore(file, rank8.parameters(), new AdamW(AdamW.Settings.defaults(1e-3))));
            assertTrue(e.getMessage().contains("another rank or model"), e.getMessage());
        }
    }

    /** s B A as a flat [out, in] array, computed here by three loops. */
    private static float[] delta(Tensor b, Tensor a, float s) {
        int out = b.dim(0);
        int rank = b.dim(1);
        int in = a.dim(1);
        float[] d = new float[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double sum = 0;
                for (int r = 0; r < rank; r++) {
                    sum += (double) b.data()[o * rank + r] * a.data()[r * in + i];
                }
                d[o * in + i] = (float) (s * sum);
            }
        }
        return d;
    }
}
