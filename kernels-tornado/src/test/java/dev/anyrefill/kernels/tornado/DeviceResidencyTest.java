package dev.anyrefill.kernels.tornado;

import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.FluxConfig;
import dev.anyrefill.weights.SafetensorsFile;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What stays on the device inside {@link Kernels#scope}s: a whole forward pass of the tiny
 * model sends only its inputs and brings back only the velocity (byte counts computed from the
 * shapes, not measured from a previous run), at the golden tolerance; and the rules that keep
 * deferred results honest (a tensor read after its scope closed, or a host input changed before
 * the device read it, is an error, never a stale value).
 */
class DeviceResidencyTest extends OnTornado {
    @Test
    void aForwardPassSendsItsInputsAndReceivesOnlyTheVelocity() {
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(Golden.tiny("flux-fill.safetensors"));
             SafetensorsFile expected = Golden.expected()) {
            FluxModel model = new FluxModel(ckpt, tornado);
            Tensor img = cpu.concatColumns(expected.get("img_packed").toF32(), expected.get("img_cond").toF32());
            Tensor txt = expected.get("txt").toF32();
            Tensor y = expected.get("vec").toF32();
            Runnable pass = () -> model.forward(img, expected.get("img_ids"), txt, expected.get("txt_ids"),
                    expected.get("forward.t").getFloat(0), y, 30.0, FluxModel.Trace.NONE);
            pass.run(); // compiles the program, sends the weights
            DeviceTraffic.Snapshot before = tornado.traffic().snapshot();
            Tensor velocity = model.forward(img, expected.get("img_ids"), txt, expected.get("txt_ids"),
                    expected.get("forward.t").getFloat(0), y, 30.0, FluxModel.Trace.NONE);
            DeviceTraffic.Snapshot step = tornado.traffic().snapshot().minus(before);
            System.out.println("tornado, second forward pass of the tiny model: " + step);

            assertNull(velocity.deferredValues(), "the outermost scope hands back a heap tensor");
            Golden.assertClose("tornado, resident pass, forward.velocity", velocity, expected.get("forward.velocity"));
            FluxConfig c = model.config();
            int tokens = img.dim(0) + txt.dim(0);
            long pe = (long) tokens * (Arrays.stream(c.axesDim()).sum() / 2) * 4;
            long embeddings = 2 * 256; // sinusoidal embeddings of t and of the guidance, made on the host
            long inputs = 4 * (img.size() + txt.size() + y.size() + pe + embeddings);
            assertEquals(inputs, step.activationBytesToDevice(), "bytes sent: img, txt, y, pe and the two embeddings");
            assertEquals(4 * velocity.size(), step.bytesToHost(), "bytes brought back: the velocity");
            assertEquals(0, step.weightBytes(), "weights went to the device again");
            assertEquals(1, step.runs(), "the pass ran as one compiled program");
        }
    }

    @Test
    void aTensorReadAfterItsScopeClosedIsAnError() {
        Tensor x = randn(9, 70);
        Tensor kept;
        Tensor dropped;
        try (Kernels.Scope outer = tornado.scope()) {
            try (Kernels.Scope inner = tornado.scope()) {
                Tensor a = tornado.scale(x, 2f);
                dropped = tornado.scale(a, 3f);
                kept = inner.keep(tornado.add(a, a));
            }
            assertNotNull(kept.deferredValues(), "inside a scope results stay on the device");
            IllegalStateException e = assertThrows(IllegalStateException.class, dropped::data);
            System.out.println("reading a tensor after its scope closed: " + e.getMessage());
            assertTrue(e.getMessage().contains("scope"), e.getMessage());
            close("kept past its scope", kept, cpu.scale(x, 4f));
            kept = outer.keep(kept);
        }
        assertNull(kept.deferredValues(), "the outermost scope hands back a heap tensor");
        close("kept by the outermost scope", kept, cpu.scale(x, 4f));
    }

    @Test
    void resultsOfAnEarlierRunFeedALaterOne() {
        Tensor x = randn(20, 48);
        try (Kernels.Scope _ = tornado.scope()) {
            Tensor onDevice = tornado.scale(x, 2f);  // run below, never read: stays on the device
            Tensor read = tornado.scale(x, 5f);
            close("read on the host", read, cpu.scale(x, 5f));
            // onDevice now lives in a program that has run; read is a host copy: both feed a new one
            Tensor later = tornado.add(onDevice, read);
            close("an earlier run's results in a later run", later, cpu.scale(x, 7f));
        }
    }

    @Test
    void aHostInputChangedBeforeTheDeviceReadItIsAnError() {
        Tensor h = randn(16, 32);
        try (Kernels.Scope _ = tornado.scope()) {
            tornado.scale(h, 2f);
            h.data()[3] += 1f; // the host changes it while the first use waits to run
            Tensor again = tornado.scale(h, 3f);
            IllegalStateException e = assertThrows(IllegalStateException.class, again::data);
            System.out.println("a host input changed before the run: " + e.getMessage());
            assertTrue(e.getMessage().contains("changed"), e.getMessage());
        }
    }

    @Test
    void outsideAScopeEachOperationRunsAtOnce() {
        Tensor x = randn(5, 64);
        DeviceTraffic.Snapshot before = tornado.traffic().snapshot();
        Tensor y = tornado.activation(x, Activation.SILU);
        DeviceTraffic.Snapshot op = tornado.traffic().snapshot().minus(before);
        assertNull(y.deferredValues(), "a heap tensor outside any scope");
        assertEquals(1, op.runs());
        assertEquals(4 * x.size(), op.activationBytesToDevice());
        assertEquals(4 * y.size(), op.bytesToHost());
        close("activation outside a scope", y, cpu.activation(x, Activation.SILU));
    }
}
