package dev.anyrefill.train;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.tensor.Compare;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.FluxCheckpoint;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A fresh LoRA: AnyRefill's ten targets per block pair, initialised as kohya and PEFT do (A
 * uniform in +-1/sqrt(in), B zero, so the model's output is unchanged), the same values for the
 * same seed; a pattern selects other targets.
 */
class TrainableLoraTest {
    @Test
    void freshLoraTargetsAnyRefillsLinearsAndLeavesTheModelUnchanged() {
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(TrainGolden.file("flux-fill.safetensors"))) {
            FluxModel model = new FluxModel(ckpt, Backends.java());
            TrainableLora lora = TrainableLora.fresh(model, TrainableLora.ANYREFILL_TARGETS, 4, 2.0, 11);
            // golden model: 2 double blocks x 8 + 2 single blocks x 2
            assertEquals(20, lora.modules().size());
            for (TrainableLora.Module m : lora.modules()) {
                assertTrue(m.name().matches(".*(qkv|proj|mlp\\.0|mlp\\.2|linear1|linear2)"), m.name());
                double bound = 1 / Math.sqrt(m.a().dim(1));
                for (float a : m.a().data()) {
                    assertTrue(Math.abs(a) <= bound, m.name() + ": A outside +-1/sqrt(in)");
                }
                for (float b : m.b().data()) {
                    assertEquals(0f, b, m.name() + ": B starts at zero");
                }
                assertEquals(0.5f, m.scale(), "alpha / rank");
            }
            TrainableLora again = TrainableLora.fresh(model, TrainableLora.ANYREFILL_TARGETS, 4, 2.0, 11);
            assertArrayEquals(lora.modules().getFirst().a().data(), again.modules().getFirst().a().data(), "seeded");

            Tensor img = Tensor.zeros(32, 384);
            Tensor ids = Tensor.zeros(32, 3);
            Tensor txt = Tensor.zeros(6, 32);
            Tensor txtIds = Tensor.zeros(6, 3);
            Tensor y = Tensor.zeros(16);
            for (int i = 0; i < 32 * 384; i++) {
                img.data()[i] = (float) Math.sin(i * 0.37);
            }
            Tensor before = model.forward(img, ids, txt, txtIds, 0.5, y, 1.0, FluxModel.Trace.NONE);
            lora.attach(model);
            Tensor after = model.forward(img, ids, txt, txtIds, 0.5, y, 1.0, FluxModel.Trace.NONE);
            assertEquals(0.0, Compare.relativeError(after, before), 1e-7, "B = 0: the model is unchanged");
        }
    }

    @Test
    void aPatternSelectsTheTargets() {
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(TrainGolden.file("flux-fill.safetensors"))) {
            FluxModel model = new FluxModel(ckpt, Backends.java());
            TrainableLora lora = TrainableLora.fresh(model, Pattern.compile("single_blocks\\.\\d+\\.linear2"), 8, 8, 1);
            assertEquals(List.of("single_blocks.0.linear2", "single_blocks.1.linear2"),
                    lora.modules().stream().map(TrainableLora.Module::name).toList());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> TrainableLora.fresh(model, Pattern.compile("nothing"), 4, 4, 1));
            assertTrue(e.getMessage().contains("matches no linear layer"), e.getMessage());
        }
    }
}
