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

    /** The multiple the rows of x (and of the output) are padded to. */
    int rowMultiple();

    /** The multiple the output columns (rows of W) are padded to. */
    int columnMultiple();

    /** The multiple the inner dimension k is padded to. */
    int depthMultiple();

    /**
     * Adds the task {@code name} computing out [mp, np] from x [mp, kp] and w [np, kp] (padded
     * sizes, padding zero).
     */
    void addTask(TaskGraph graph, String name, FloatArray x, ShortArray w, FloatArray bias, FloatArray out, int mp,
            int np, int kp, int act);

    /** The grid, work-group size included, for a padded [mp, np] output. */
    WorkerGrid grid(int mp, int np);

    /**
     * The portable kernel: 64 x 64 output tiles per work-group of 16 x 16, 4 x 4 outputs per
     * work-item in registers, x and W (widened once per tile) staged through local memory.
     */
    MatmulStrategy LOCAL_TILES = new MatmulStrategy() {
        @Override
        public String name() {
            return "tiled";
        }

        @Override
        public int rowMultiple() {
            return DeviceKernels.TILE;
        }

        @Override
        public int columnMultiple() {
            return DeviceKernels.TILE;
        }

        @Override
        public int depthMultiple() {
            return DeviceKernels.TILE_K;
        }

        @Override
        public void addTask(TaskGraph graph, String name, FloatArray x, ShortArray w, FloatArray bias, FloatArray out,
                int mp, int np, int kp, int act) {
            graph.task(name, DeviceKernels::linearBf16, new KernelContext(), x, w, bias, out, np, kp, act);
        }

        @Override
        public WorkerGrid grid(int mp, int np) {
            WorkerGrid2D grid = new WorkerGrid2D(np / 4, mp / 4);
            grid.setLocalWork(16, 16, 1);
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
