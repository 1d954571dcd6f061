package dev.anyrefill.kernels.tornado;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid2D;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * How a linear layer {@code act(x W^T + b)} with BF16 weights runs on the device: which kernel,
 * on what grid, and the padding it needs. One portable kernel today: 64 x 64 output tiles per
 * work-group of 16 x 16, 4 x 4 outputs per work-item in registers, x and W (widened once per
 * tile) staged through local memory. It is selected by name (system property
 * {@code anyrefill.tornado.matmul}) so that a device-specific kernel (tensor-core MMA on
 * TornadoVM's PTX backend) can be added as a second instance without touching the model.
 */
public final class MatmulStrategy {
    /** The portable tiled kernel, {@link DeviceKernels#linearBf16}. */
    public static final MatmulStrategy LOCAL_TILES = new MatmulStrategy();

    private MatmulStrategy() {
    }

    /** The name the property selects it by. */
    public String name() {
        return "tiled";
    }

    /** The multiple the rows of x (and of the output) are padded to. */
    public int rowMultiple() {
        return DeviceKernels.TILE;
    }

    /** The multiple the output columns (rows of W) are padded to. */
    public int columnMultiple() {
        return DeviceKernels.TILE;
    }

    /** The multiple the inner dimension k is padded to. */
    public int depthMultiple() {
        return DeviceKernels.TILE_K;
    }

    /**
     * Adds the task {@code name} computing out [mp, np] from x [mp, kp] and w [np, kp] (padded
     * sizes, padding zero).
     */
    public void addTask(TaskGraph graph, String name, FloatArray x, ShortArray w, FloatArray bias, FloatArray out,
            int mp, int np, int kp, int act) {
        graph.task(name, DeviceKernels::linearBf16, new KernelContext(), x, w, bias, out, np, kp, act);
    }

    /** The grid, work-group size included, for a padded [mp, np] output. */
    public WorkerGrid grid(int mp, int np) {
        WorkerGrid2D grid = new WorkerGrid2D(np / 4, mp / 4);
        grid.setLocalWork(16, 16, 1);
        return grid;
    }

    /** The strategy named by {@code anyrefill.tornado.matmul} (default {@code tiled}). */
    public static MatmulStrategy fromSystemProperty() {
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
