package dev.anyrefill.kernels.tornado;

import org.junit.jupiter.api.Test;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * TornadoVM answers a kernel it cannot compile with "[Bailout]" and runs the Java code instead.
 * These tests run with tornado.recover.bailout=False so that this is an error: shown here
 * with a kernel no backend can compile (it builds a String).
 */
class BailoutTest {

    static void reinterpret(KernelContext ctx, IntArray bits, FloatArray out) {
        int i = ctx.globalIdx;
        out.set(i, Integer.toString(bits.get(i)).length());
    }

    @Test
    void aKernelThatDoesNotCompileFailsLoudly() {
        IntArray bits = new IntArray(64);
        FloatArray out = new FloatArray(64);
        for (int i = 0; i < 64; i++) {
            bits.set(i, 1000 + i);
        }
        TaskGraph graph = new TaskGraph("bailout")
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, bits)
                .task("k", BailoutTest::reinterpret, new KernelContext(), bits, out)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, out);
        WorkerGrid1D grid = new WorkerGrid1D(64);
        grid.setLocalWork(16, 1, 1);
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(graph.snapshot())) {
            plan.withGridScheduler(new GridScheduler("bailout.k", grid));
            Throwable t = assertThrows(Throwable.class, plan::execute,
                    "a kernel that builds a String ran without an error (a silent bailout?)");
            System.out.println("bailout check: a kernel that does not compile throws " + t);
        } catch (TornadoExecutionPlanException e) {
            throw new AssertionError(e);
        }
    }
}
