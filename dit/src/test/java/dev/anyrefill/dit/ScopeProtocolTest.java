package dev.anyrefill.dit;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.kernels.ScopeCheckingKernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.testing.GoldenFile;
import dev.anyrefill.weights.FluxCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Kernels scope protocol is checked on the Java backend too: a block's result that its
 * scope does not keep reads NaN after the scope closes (as it would read freed device memory on
 * the tornado backend), and the model tests run under that check.
 */
class ScopeProtocolTest {
    @RegisterExtension
    static final GoldenFile expected = GoldenFile.expected();

    @Test
    void theTestsRunUnderTheCheck() {
        assertInstanceOf(ScopeCheckingKernels.class, Backends.java(),
                "the build sets -D" + ScopeCheckingKernels.PROPERTY + "=true for every test");
    }

    @Test
    void aBlockResultThatIsNotKeptIsPoisonedAndOneThatIsKeptIsRight() {
        Kernels k = new ScopeCheckingKernels(new JavaKernels());
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(Golden.tiny("flux-fill.safetensors"))) {
            FluxModel model = new FluxModel(ckpt, k);
            Tensor forgotten;
            Tensor kept;
            try (Kernels.Scope pass = k.scope()) {
                Tensor x = k.scale(expected.get("trace.single_blocks.0").toF32(), 1f); // made inside the pass
                Tensor vec = expected.get("forward.vec").toF32();
                Tensor pe = expected.get("forward.pe").toF32();
                try (Kernels.Scope block = k.scope()) {
                    forgotten = model.singleBlocks.get(1).forward(k, x, vec, pe); // no block.keep()
                }
                try (Kernels.Scope block = k.scopeFreeing("single_blocks.1", x)) {
                    kept = block.keep(model.singleBlocks.get(1).forward(k, x, vec, pe));
                }
                assertTrue(Float.isNaN(x.getFloat(0)), "the block's input, freed with its scope, reads NaN");
                kept = pass.keep(kept);
            }
            assertTrue(allNaN(forgotten), "a result its scope did not keep reads NaN after the scope closed");
            Golden.assertClose("single_blocks.1, kept", kept, expected.get("trace.single_blocks.1"));
        }
    }

    private static boolean allNaN(Tensor t) {
        for (float v : t.data()) {
            if (!Float.isNaN(v)) {
                return false;
            }
        }
        return true;
    }
}
