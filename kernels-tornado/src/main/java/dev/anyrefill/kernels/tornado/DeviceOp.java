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
    private final Rows[] inputRows;
    private final FloatArray output;
    private final Rows outputRows;
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
        this(kind, traffic, resident, inputs, dense(inputs), output, Rows.dense(output.getSize()), addTask, grid);
    }

    /**
     * As above, with the callers' arrays placed into the device buffers row by row: a buffer
     * may be wider (padding columns) and longer (padding rows) than the data; padding stays 0.
     */
    DeviceOp(String kind, DeviceTraffic traffic, TornadoNativeArray[] resident, FloatArray[] inputs, Rows[] inputRows,
            FloatArray output, Rows outputRows, Consumer<TaskGraph> addTask, WorkerGrid grid) {
        this.inputs = inputs;
        this.inputRows = inputRows;
        this.output = output;
        this.outputRows = outputRows;
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
            Rows r = inputRows[i];
            if (values[i].length != r.rows * r.cols) {
                throw new IllegalArgumentException("device input " + i + " takes " + r.rows * r.cols
                        + " floats, given " + values[i].length);
            }
            MemorySegment dst = inputs[i].getSegment();
            if (r.cols == r.pitch) {
                MemorySegment.copy(values[i], 0, dst, ValueLayout.JAVA_FLOAT, 0, values[i].length);
            } else {
                for (int row = 0; row < r.rows; row++) {
                    MemorySegment.copy(values[i], row * r.cols, dst, ValueLayout.JAVA_FLOAT, 4L * row * r.pitch, r.cols);
                }
            }
            in += inputs[i].getNumBytesOfSegment();
        }
        plan.execute();
        if (!uploaded) {
            traffic.weights(residentBytes);
            uploaded = true;
        }
        Rows r = outputRows;
        float[] result = new float[r.rows * r.cols];
        if (r.cols == r.pitch) {
            MemorySegment.copy(output.getSegment(), ValueLayout.JAVA_FLOAT, 0, result, 0, result.length);
        } else {
            for (int row = 0; row < r.rows; row++) {
                MemorySegment.copy(output.getSegment(), ValueLayout.JAVA_FLOAT, 4L * row * r.pitch, result, row * r.cols, r.cols);
            }
        }
        traffic.launch(in, output.getNumBytesOfSegment());
        return result;
    }

    /** A [rows, cols] array placed in a device buffer whose rows are pitch floats apart. */
    record Rows(int rows, int cols, int pitch) {
        static Rows dense(int n) {
            return new Rows(1, n, n);
        }
    }

    private static Rows[] dense(FloatArray[] buffers) {
        Rows[] rows = new Rows[buffers.length];
        for (int i = 0; i < buffers.length; i++) {
            rows[i] = Rows.dense(buffers[i].getSize());
        }
        return rows;
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
