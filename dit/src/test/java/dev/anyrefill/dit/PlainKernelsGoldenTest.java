package dev.anyrefill.dit;

import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.testing.GoldenFile;
import dev.anyrefill.weights.FluxCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The plain kernels (obvious loops, {@code -Danyrefill.kernels.plain=true}) run the whole
 * transformer to BFL's velocity, and the fast kernels agree with them: the slow path a reader
 * starts from is a real second opinion, not a sketch.
 */
class PlainKernelsGoldenTest {
    @RegisterExtension
    static final GoldenFile expected = GoldenFile.expected();

    @Test
    void thePlainKernelsGiveTheReferenceVelocityAndAgreeWithTheFastOnes() {
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(Golden.tiny("flux-fill.safetensors"))) {
            Tensor plain = FluxGolden.forward(new FluxModel(ckpt, new JavaKernels(true)), expected, FluxModel.Trace.NONE);
            Tensor fast = FluxGolden.forward(new FluxModel(ckpt, new JavaKernels(false)), expected, FluxModel.Trace.NONE);
            Golden.assertClose("plain kernels: forward.velocity", plain, expected.get("forward.velocity"));
            // both F32, summed in different orders (plain in double): far tighter than either against float64
            Golden.assertClose("fast against plain kernels: forward.velocity", fast, plain, 1e-5);
        }
    }
}
