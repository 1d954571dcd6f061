package dev.anyrefill.kernels.tornado;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid2D;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * How a linear layer {@code act(x W^T + b)} with BF16 weights runs on the device: which kernel,
 * on what grid. Chosen at run time (system property {@code anyrefill.tornado.matmul}), so a
 * device-specific variant (tensor-core MMA on TornadoVM's PTX backend) can be added beside the
 * portable one without touching the model.
 */
public interface MatmulStrategy {

    /** The name the property selects it by. */
    String name();

    /** Adds the task {@link DeviceOp#TASK} computing out [m, n] from x [m, k] and w [n, k]. */
    void addTask(TaskGraph graph, FloatArray x, ShortArray w, FloatArray pow2, FloatArray bias, FloatArray out,
            int m, int n, int k, int act);

    /** The grid, work-group size included, for an [m, n] output. */
    WorkerGrid grid(int m, int n);

    /** The portable kernel: 16 x 16 output tiles, x and W tiles staged in local memory (OpenCL, PTX). */
    MatmulStrategy LOCAL_TILES = new MatmulStrategy() {
        @Override
        public String name() {
            return "tiled";
        }

        @Override
        public void addTask(TaskGraph graph, FloatArray x, ShortArray w, FloatArray pow2, FloatArray bias,
                FloatArray out, int m, int n, int k, int act) {
            graph.task(DeviceOp.TASK, DeviceKernels::linearBf16, new KernelContext(), x, w, pow2, bias, out, m, n, k, act);
        }

        @Override
        public WorkerGrid grid(int m, int n) {
            int t = DeviceKernels.TILE;
            WorkerGrid2D grid = new WorkerGrid2D(roundUp(n, t), roundUp(m, t));
            grid.setLocalWork(t, t, 1);
            return grid;
        }
    };

    /** The strategy named by {@code anyrefill.tornado.matmul} (default {@code tiled}). */
    static MatmulStrategy fromSystemProperty() {
        String name = System.getProperty("anyrefill.tornado.matmul", LOCAL_TILES.name());
        if (name.equals(LOCAL_TILES.name())) {
            return LOCAL_TILES;
        }
        throw new IllegalArgumentException("anyrefill.tornado.matmul: unknown strategy '" + name
                + "'; available: " + LOCAL_TILES.name());
    }

    /** n rounded up to a multiple of block. */
    static int roundUp(int n, int block) {
        return (n + block - 1) / block * block;
    }
}
