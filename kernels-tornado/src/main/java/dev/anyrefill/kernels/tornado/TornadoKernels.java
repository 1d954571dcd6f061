package dev.anyrefill.kernels.tornado;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid2D;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The TornadoVM backend: the arithmetic of a transformer block (BF16 linear layers, flash
 * attention, RoPE, layer and RMS norms, modulation, activations, gated residuals) runs as
 * TornadoVM kernels ({@link DeviceKernels}) on the default TornadoVM device; everything else
 * (layout operations, convolutions, causal or biased attention) is {@link JavaKernels}'.
 *
 * <p>Residency: each weight is copied once into a device-side buffer of raw BF16 words and
 * sent with the first execution of its operation, then stays on the device. Activations are
 * heap tensors in the {@code Kernels} interface, so each operation sends its inputs and
 * brings back its output; {@link #traffic()} counts those bytes.
 *
 * <p>Each distinct operation and shape is one compiled task graph, kept for the life of this
 * object ({@link #close} frees the device memory).
 */
public final class TornadoKernels extends JavaKernels implements AutoCloseable {
    private final MatmulStrategy matmul;
    private final DeviceTraffic traffic = new DeviceTraffic();
    private final Map<Object, DeviceOp> ops = new HashMap<>();
    private final Map<MemorySegment, ShortArray> weights = new HashMap<>();

    public TornadoKernels() {
        this(MatmulStrategy.fromSystemProperty());
    }

    public TornadoKernels(MatmulStrategy matmul) {
        this.matmul = matmul;
    }

    @Override
    public String name() {
        return "tornado";
    }

    /** Host-device bytes moved so far. */
    public DeviceTraffic traffic() {
        return traffic;
    }

    public MatmulStrategy matmul() {
        return matmul;
    }

    // ---- linear algebra -------------------------------------------------------------------

    /**
     * A linear operation: its weight (the segment of a mapped file, with the scope that maps it,
     * so that another file mapped later at the same address is another key), bias, rows, activation.
     */
    private record LinearKey(MemorySegment weight, MemorySegment.Scope scope, MemorySegment bias, int m,
            Activation act) {
    }

    @Override
    public Tensor linear(Tensor x, Tensor w, Tensor bias, Activation act) {
        if (w.dtype() != DType.BF16 || w.rank() != 2 || !x.isHeapF32()) {
            return super.linear(x, w, bias, act);
        }
        int k = x.cols();
        int m = x.rows();
        int n = w.dim(0);
        if (w.dim(1) != k) {
            throw new IllegalArgumentException("linear: input " + x + " does not fit weight " + w);
        }
        if (bias != null && bias.size() != n) {
            throw new IllegalArgumentException("linear: bias " + bias + " for weight " + w);
        }
        LinearKey key = new LinearKey(w.segment(), w.segment().scope(), bias == null ? null : bias.segment(), m, act);
        DeviceOp op = op(key, () -> m <= DeviceKernels.FEW_ROWS
                ? fewRows(w, bias, m, n, k, act) : tiled(w, bias, m, n, k, act));
        int[] shape = x.shape();
        shape[shape.length - 1] = n;
        return Tensor.wrap(op.run(x.data()), shape);
    }

    /** A linear layer through the matmul strategy: every dimension padded to whole tiles. */
    private DeviceOp tiled(Tensor w, Tensor bias, int m, int n, int k, Activation act) {
        int mp = MatmulStrategy.roundUp(m, matmul.rowMultiple());
        int np = MatmulStrategy.roundUp(n, matmul.columnMultiple());
        int kp = MatmulStrategy.roundUp(k, matmul.depthMultiple());
        ShortArray wd = weights.computeIfAbsent(w.segment(), seg -> bf16Words(seg, n, k, np, kp));
        FloatArray b = deviceBias(bias, n, np);
        FloatArray xd = new FloatArray(mp * kp);
        FloatArray out = new FloatArray(mp * np);
        return new DeviceOp("linear", traffic, new TornadoNativeArray[] {wd, b}, new FloatArray[] {xd},
                new DeviceOp.Rows[] {new DeviceOp.Rows(m, k, kp)}, out, new DeviceOp.Rows(m, n, np),
                g -> matmul.addTask(g, xd, wd, b, out, mp, np, kp, code(act)), matmul.grid(mp, np));
    }

    /** A linear layer of a few rows (modulation): one work-item per output column, rows not padded. */
    private DeviceOp fewRows(Tensor w, Tensor bias, int m, int n, int k, Activation act) {
        int np = MatmulStrategy.roundUp(n, matmul.columnMultiple());
        int kp = MatmulStrategy.roundUp(k, matmul.depthMultiple());
        ShortArray wd = weights.computeIfAbsent(w.segment(), seg -> bf16Words(seg, n, k, np, kp));
        FloatArray b = deviceBias(bias, n, np);
        FloatArray xd = new FloatArray(m * kp);
        FloatArray out = new FloatArray(m * np);
        WorkerGrid1D grid = new WorkerGrid1D(np);
        grid.setLocalWork(64, 1, 1);
        return new DeviceOp("linear", traffic, new TornadoNativeArray[] {wd, b}, new FloatArray[] {xd},
                new DeviceOp.Rows[] {new DeviceOp.Rows(m, k, kp)}, out, new DeviceOp.Rows(m, n, np),
                g -> g.task(DeviceOp.TASK, DeviceKernels::linearFewRows, new KernelContext(), xd, wd, b, out, m, np, kp,
                        code(act)), grid);
    }

    /** The bias widened into a zero-padded buffer of np floats (zeros for none). */
    private static FloatArray deviceBias(Tensor bias, int n, int np) {
        FloatArray b = new FloatArray(np);
        if (bias != null) {
            MemorySegment.copy(bias.toF32().data(), 0, b.getSegment(), ValueLayout.JAVA_FLOAT, 0, n);
        }
        return b;
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, float scale, Tensor bias, boolean causal) {
        int lq = q.dim(0);
        int heads = q.dim(1);
        int d = q.dim(2);
        int lk = k.dim(0);
        if (bias != null || causal || d > DeviceKernels.MAX_HEAD_DIM || lk == 0
                || !Arrays.equals(k.shape(), v.shape()) || k.dim(1) != heads || k.dim(2) != d) {
            return super.attention(q, k, v, scale, bias, causal);
        }
        DeviceOp op = op(List.of("attention", lq, lk, heads, d, scale), () -> {
            FloatArray qd = new FloatArray(lq * heads * d);
            FloatArray kd = new FloatArray(lk * heads * d);
            FloatArray vd = new FloatArray(lk * heads * d);
            FloatArray out = new FloatArray(lq * heads * d);
            int b = DeviceKernels.ATTN_BLOCK;
            WorkerGrid2D grid = new WorkerGrid2D(MatmulStrategy.roundUp(lq, b), heads);
            grid.setLocalWork(b, 1, 1);
            return new DeviceOp("attention", traffic, new TornadoNativeArray[0], new FloatArray[] {qd, kd, vd}, out,
                    g -> g.task(DeviceOp.TASK, DeviceKernels::flashAttention, new KernelContext(), qd, kd, vd, out,
                            lq, lk, heads, d, scale), grid);
        });
        return Tensor.wrap(op.run(q.data(), k.data(), v.data()), lq, heads * d);
    }

    // ---- normalisation --------------------------------------------------------------------

    @Override
    public Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        int c = x.cols();
        float[] mul = weight == null ? filled(c, 1f) : weight.toF32().data();
        float[] add = bias == null ? new float[c] : bias.toF32().data();
        return normRows(x, mul, add, eps, DeviceKernels.NORM_LAYER);
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor scale, float eps) {
        return normRows(x, scale.toF32().data(), new float[x.cols()], eps, DeviceKernels.NORM_RMS);
    }

    @Override
    public Tensor layerNormModulate(Tensor x, Tensor shift, Tensor scale, float eps) {
        float[] sc = scale.data();
        float[] mul = new float[sc.length];
        for (int i = 0; i < sc.length; i++) {
            mul[i] = 1 + sc[i];
        }
        return normRows(x, mul, shift.data(), eps, DeviceKernels.NORM_LAYER);
    }

    private Tensor normRows(Tensor x, float[] mul, float[] add, float eps, int kind) {
        int rows = x.rows();
        int cols = x.cols();
        if (mul.length != cols || add.length != cols) {
            throw new IllegalArgumentException("norm of " + x + " with parameters of " + mul.length + " and "
                    + add.length + " elements");
        }
        DeviceOp op = op(List.of("norm", kind, rows, cols, eps), () -> {
            FloatArray xd = new FloatArray(rows * cols);
            FloatArray md = new FloatArray(cols);
            FloatArray ad = new FloatArray(cols);
            FloatArray out = new FloatArray(rows * cols);
            return new DeviceOp("norm", traffic, new TornadoNativeArray[0], new FloatArray[] {xd, md, ad}, out,
                    g -> g.task(DeviceOp.TASK, DeviceKernels::normRows, new KernelContext(), xd, md, ad, out,
                            rows, cols, eps, kind), grid1(rows));
        });
        return Tensor.wrap(op.run(x.data(), mul, add), x.shape());
    }

    // ---- element-wise ---------------------------------------------------------------------

    @Override
    public Tensor activation(Tensor x, Activation act) {
        int n = Math.toIntExact(x.size());
        DeviceOp op = op(List.of("activation", n, act), () -> {
            FloatArray xd = new FloatArray(n);
            FloatArray out = new FloatArray(n);
            return new DeviceOp("activation", traffic, new TornadoNativeArray[0], new FloatArray[] {xd}, out,
                    g -> g.task(DeviceOp.TASK, DeviceKernels::activation, new KernelContext(), xd, out, n, code(act)),
                    grid1(n));
        });
        return Tensor.wrap(op.run(x.data()), x.shape());
    }

    @Override
    public Tensor gatedResidual(Tensor residual, Tensor gate, Tensor x) {
        int n = Math.toIntExact(residual.size());
        int c = residual.cols();
        if (x.size() != n || gate.size() != c) {
            throw new IllegalArgumentException("gatedResidual: " + residual + ", gate " + gate + ", x " + x);
        }
        DeviceOp op = op(List.of("gatedResidual", n, c), () -> {
            FloatArray rd = new FloatArray(n);
            FloatArray gd = new FloatArray(c);
            FloatArray xd = new FloatArray(n);
            FloatArray out = new FloatArray(n);
            return new DeviceOp("gated", traffic, new TornadoNativeArray[0], new FloatArray[] {rd, gd, xd}, out,
                    g -> g.task(DeviceOp.TASK, DeviceKernels::gatedResidual, new KernelContext(), rd, gd, xd, out, n, c),
                    grid1(n));
        });
        return Tensor.wrap(op.run(residual.data(), gate.data(), x.data()), residual.shape());
    }

    // ---- positions --------------------------------------------------------------------------

    @Override
    public Tensor rope(Tensor x, Tensor pe) {
        int l = x.dim(0);
        int heads = x.dim(1);
        int d = x.dim(2);
        if (pe.dim(0) != l || pe.dim(1) != d / 2) {
            throw new IllegalArgumentException("rope: x " + x + " with pe " + pe);
        }
        int pairs = l * heads * (d / 2);
        DeviceOp op = op(List.of("rope", l, heads, d), () -> {
            FloatArray xd = new FloatArray(l * heads * d);
            FloatArray pd = new FloatArray(Math.toIntExact(pe.size()));
            FloatArray out = new FloatArray(l * heads * d);
            return new DeviceOp("rope", traffic, new TornadoNativeArray[0], new FloatArray[] {xd, pd}, out,
                    g -> g.task(DeviceOp.TASK, DeviceKernels::rope, new KernelContext(), xd, pd, out, l, heads, d),
                    grid1(pairs));
        });
        return Tensor.wrap(op.run(x.data(), pe.toF32().data()), x.shape());
    }

    // ---- plumbing ---------------------------------------------------------------------------

    /** The compiled operation for key, built (and compiled on first run) when new. */
    private synchronized DeviceOp op(Object key, Supplier<DeviceOp> build) {
        DeviceOp op = ops.get(key);
        if (op == null) {
            releaseUnmapped();
            op = build.get();
            ops.put(key, op);
        }
        return op;
    }

    /** Frees the device copies of weights whose file has been closed (unmapped) since. */
    private void releaseUnmapped() {
        ops.entrySet().removeIf(e -> {
            if (e.getKey() instanceof LinearKey k && !k.scope().isAlive()) {
                e.getValue().close();
                return true;
            }
            return false;
        });
        weights.keySet().removeIf(seg -> !seg.scope().isAlive());
    }

    /** Frees every device buffer and compiled graph this backend holds. */
    @Override
    public synchronized void close() {
        for (DeviceOp op : ops.values()) {
            op.close();
        }
        ops.clear();
        weights.clear();
    }

    private static WorkerGrid grid1(int n) {
        int local = 64;
        WorkerGrid1D grid = new WorkerGrid1D(MatmulStrategy.roundUp(Math.max(1, n), local));
        grid.setLocalWork(local, 1, 1);
        return grid;
    }

    private static int code(Activation act) {
        return switch (act) {
            case NONE -> DeviceKernels.ACT_NONE;
            case GELU_TANH -> DeviceKernels.ACT_GELU_TANH;
            case SILU -> DeviceKernels.ACT_SILU;
            case QUICK_GELU -> DeviceKernels.ACT_QUICK_GELU;
        };
    }

    /**
     * The raw 16-bit words of a BF16 weight [n, k], in a zero-padded [np, kp] buffer TornadoVM
     * can send to the device.
     */
    private static ShortArray bf16Words(MemorySegment segment, int n, int k, int np, int kp) {
        ShortArray words = new ShortArray(Math.multiplyExact(np, kp));
        MemorySegment dst = words.getSegment();
        if (k == kp) {
            MemorySegment.copy(segment, 0, dst, 0, 2L * n * k);
        } else {
            for (int row = 0; row < n; row++) {
                MemorySegment.copy(segment, 2L * row * k, dst, 2L * row * kp, 2L * k);
            }
        }
        return words;
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }
}
