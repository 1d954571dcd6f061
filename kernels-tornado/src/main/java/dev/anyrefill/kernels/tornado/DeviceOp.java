package dev.anyrefill.kernels.tornado;

import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One compiled device operation at fixed shapes: a TornadoVM task graph with one kernel, its
 * resident buffers (weights, tables: sent on the first execution only), its per-call inputs
 * (copied from the caller's arrays and sent every execution) and one output (brought back
 * every execution).
 */
final class DeviceOp implements AutoCloseable {
    private static final AtomicInteger IDS = new AtomicInteger();
    static final String TASK = "k";

    private final TornadoExecutionPlan plan;
    private final FloatArray[] inputs;
    private final FloatArray output;
    private final DeviceTraffic traffic;
    private final long residentBytes;
    private boolean uploaded;

    /**
     * @param kind     a name for the graph ("linear", "attention"...), made unique here
     * @param resident buffers sent once and kept on the device
     * @param addTask  adds the one task, named {@link #TASK}, to the graph
     * @param grid     the work-item grid, with its work-group size set
     */
    DeviceOp(String kind, DeviceTraffic traffic, TornadoNativeArray[] resident, FloatArray[] inputs,
            FloatArray output, Consumer<TaskGraph> addTask, WorkerGrid grid) {
        this.inputs = inputs;
        this.output = output;
        this.traffic = traffic;
        String name = kind + IDS.incrementAndGet();
        TaskGraph graph = new TaskGraph(name);
        long bytes = 0;
        if (resident.length > 0) {
            graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, (Object[]) resident);
            for (TornadoNativeArray r : resident) {
                bytes += r.getNumBytesOfSegment();
            }
        }
        this.residentBytes = bytes;
        graph.transferToDevice(DataTransferMode.EVERY_EXECUTION, (Object[]) inputs);
        addTask.accept(graph);
        graph.transferToHost(DataTransferMode.EVERY_EXECUTION, output);
        this.plan = new TornadoExecutionPlan(graph.snapshot());
        plan.withGridScheduler(new GridScheduler(name + "." + TASK, grid));
    }

    /** Copies {@code values[i]} into input i, runs the kernel, returns a copy of the output. */
    synchronized float[] run(float[]... values) {
        long in = 0;
        for (int i = 0; i < inputs.length; i++) {
            MemorySegment dst = inputs[i].getSegment();
            if (values[i].length != inputs[i].getSize()) {
                throw new IllegalArgumentException("device input " + i + " holds " + inputs[i].getSize()
                        + " floats, given " + values[i].length);
            }
            MemorySegment.copy(values[i], 0, dst, ValueLayout.JAVA_FLOAT, 0, values[i].length);
            in += 4L * values[i].length;
        }
        plan.execute();
        if (!uploaded) {
            traffic.weights(residentBytes);
            uploaded = true;
        }
        float[] result = new float[output.getSize()];
        MemorySegment.copy(output.getSegment(), ValueLayout.JAVA_FLOAT, 0, result, 0, result.length);
        traffic.launch(in, 4L * result.length);
        return result;
    }

    @Override
    public void close() {
        plan.freeDeviceMemory();
        try {
            plan.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing a TornadoVM plan", e);
        }
    }
}
