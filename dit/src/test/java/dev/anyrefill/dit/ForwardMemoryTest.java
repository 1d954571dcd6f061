package dev.anyrefill.dit;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.SafetensorsFile;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import com.sun.management.ThreadMXBean;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Measures the memory of one forward pass of the tiny model (the figures README states) and
 * checks the design rule behind them: weights are read in their stored type, never widened as
 * a whole, so a pass allocates far less than an F32 copy of the weights would take.
 */
class ForwardMemoryTest {
    @Test
    void oneForwardAllocatesLessThanAnF32CopyOfTheWeights() {
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(Golden.tiny("flux-fill.safetensors"));
             SafetensorsFile expected = Golden.expected()) {
            FluxModel model = new FluxModel(ckpt, Backends.java());
            long weightBytes = 0;
            long params = 0;
            for (String name : ckpt.names()) {
                Tensor t = ckpt.get(name);
                weightBytes += t.size() * t.dtype().bytes();
                params += t.size();
            }
            Tensor img = model.kernels().concatColumns(expected.get("img_packed").toF32(), expected.get("img_cond").toF32());
            Tensor txt = expected.get("txt").toF32();
            Tensor vec = expected.get("vec").toF32();
            Runnable forward = () -> model.forward(img, expected.get("img_ids"), txt, expected.get("txt_ids"),
                    0.8125, vec, 30.0, FluxModel.Trace.NONE);
            forward.run(); // warm up: class loading and JIT are not the model's memory

            // The least of three passes: a single one can be charged with one-off allocations
            // that are not the model's (a pool worker started, other threads of the test JVM).
            ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
            long allocated = Long.MAX_VALUE;
            long liveBefore = 0;
            long peakHeap = 0;
            for (int pass = 0; pass < 3; pass++) {
                System.gc();
                long live = heapUsed();
                resetPeaks();
                long allocatedBefore = allocatedByAllThreads(threads);
                forward.run();
                long passAllocated = allocatedByAllThreads(threads) - allocatedBefore;
                if (passAllocated < allocated) {
                    allocated = passAllocated;
                    liveBefore = live;
                    peakHeap = heapPeak();
                }
            }

            System.out.printf("tiny forward: %,d parameters, weights %,d bytes (stored type, mapped), "
                            + "allocated during one forward %,d bytes (all threads), heap in use before %,d, "
                            + "peak heap during the forward %,d bytes%n",
                    params, weightBytes, allocated, liveBefore, peakHeap);
            long f32Weights = params * 4;
            assertTrue(allocated < f32Weights, "one forward allocated " + allocated
                    + " bytes, more than an F32 copy of the weights (" + f32Weights + ")");
        }
    }

    private static long allocatedByAllThreads(ThreadMXBean threads) {
        long sum = 0;
        for (long a : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
            sum += Math.max(0, a);
        }
        return sum;
    }

    private static long heapUsed() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                sum += p.getUsage().getUsed();
            }
        }
        return sum;
    }

    private static void resetPeaks() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                p.resetPeakUsage();
            }
        }
    }

    private static long heapPeak() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }
}
