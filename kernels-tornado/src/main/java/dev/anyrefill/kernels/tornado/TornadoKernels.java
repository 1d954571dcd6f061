package dev.anyrefill.kernels.tornado;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.ShapeChecks;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid2D;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

import java.util.Arrays;
import java.util.List;

import static dev.anyrefill.kernels.tornado.Recorder.grid1;

/**
 * The TornadoVM backend: the arithmetic of a transformer block (BF16 linear layers, flash
 * attention, RoPE, layer and RMS norms, modulation, activations, gated residuals, and the
 * slices and concatenations between them) runs as TornadoVM kernels ({@link DeviceKernels})
 * on the default TornadoVM device; the rest is listed in {@link HostOperations} and runs in
 * Java. This class is the thin operation layer; behind it:
 * <ul>
 *   <li>{@link DeviceScopes}: lifetimes. Inside a {@linkplain #scope scope} operations are
 *       recorded, not run: each returns a {@linkplain Tensor#deferred deferred} tensor whose
 *       values stay in a device buffer ({@link DeviceValue}); outside any scope each operation
 *       runs at once and returns a heap tensor.</li>
 *   <li>{@link Recorder}: the {@link Program} being recorded runs, as a chain of task graphs,
 *       when the host first reads a result (or an operation only Java has needs its input), and
 *       compiled graphs are cached by what they compute, so the next sampling step runs the same
 *       graphs. A FLUX forward pass is one such program: the host sends the pass's inputs and
 *       receives the velocity, nothing in between ({@link #traffic()} counts it).</li>
 *   <li>{@link Residents}: weights and parameters are copied once into device arrays (raw BF16
 *       words for weights) and sent with the first run of each compiled graph; activation
 *       buffers come from a {@link BufferPool} and go back to it when their scope closes.</li>
 * </ul>
 * A host tensor that device operations read inside a scope is sent once per program: it must
 * not change until the program has run (a check at the run says so if it did).
 *
 * <p>Thread-safety: every operation and every scope, keep and host read holds this object's
 * monitor; the classes behind it are not thread-safe and are reached only through it.
 */
public final class TornadoKernels extends HostOperations implements AutoCloseable {
    /** TornadoVM's property for the size of a task graph's low-level bytecode buffer. */
    static final String BYTECODE_PROPERTY = "tornado.tvm.maxbytecodesize";
    /**
     * That size: 32 KiB unless set, so that a graph holds 64 launches (with TornadoVM's own
     * 4 KiB, 8: the chains of {@link GraphSplitter} get longer). Set here, before TornadoVM
     * first reads it; bin/anyrefill and the tests pass it on the command line as well.
     */
    static final int BYTECODE_BYTES;

    static {
        if (System.getProperty(BYTECODE_PROPERTY) == null) {
            System.setProperty(BYTECODE_PROPERTY, "32768");
        }
        BYTECODE_BYTES = Integer.getInteger(BYTECODE_PROPERTY, 4096);
    }

    private final MatmulStrategy matmul;
    private final DeviceTraffic traffic = new DeviceTraffic();
    private final BufferPool pool = new BufferPool();
    private final Residents residents = new Residents();
    private final DeviceScopes scopes = new DeviceScopes(this, pool, traffic);
    private final Recorder rec = new Recorder(this, pool, traffic, residents, scopes);

    public TornadoKernels() {
        this(MatmulStrategy.fromSystemProperty());
    }

    public TornadoKernels(MatmulStrategy matmul) {
        this.matmul = matmul;
        scopes.attach(rec);
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

    // ---- lifetimes (DeviceScopes, under this monitor) ------------------------------------------

    @Override
    public synchronized Scope scopeFreeing(String name, Tensor... freedWithIt) {
        return scopes.open(name, freedWithIt);
    }

    synchronized Tensor keep(DeviceScope s, Tensor t) {
        return scopes.keep(s, t);
    }

    synchronized void close(DeviceScope s) {
        scopes.close(s);
    }

    synchronized float[] toHost(DeviceValue v) {
        return scopes.toHost(v);
    }

    /** The launches recorded so far and not yet run, one per line (step, task, kernel, grid, reads, writes). */
    public synchronized String recordedLaunches() {
        return rec.dump();
    }

    /** Frees every device buffer and compiled graph this backend holds. */
    @Override
    public synchronized void close() {
        rec.close();
        residents.clear();
    }

    // ---- linear algebra -------------------------------------------------------------------

    @Override
    public Tensor linear(Tensor x, Tensor w, Tensor bias, Activation act) {
        if (w.dtype() != DType.BF16 || w.rank() != 2 || !x.isHeapF32()) {
            return java.linear(x, w, bias, act); // device kernels read BF16 weights only
        }
        synchronized (this) {
            int n = ShapeChecks.linear(x, w, bias);
            int k = x.cols();
            int m = x.rows();
            boolean fewRows = m <= DeviceKernels.FEW_ROWS;
            int mp = fewRows ? m : MatmulStrategy.roundUp(m, matmul.rowMultiple());
            int np = MatmulStrategy.roundUp(n, matmul.columnMultiple());
            int kp = MatmulStrategy.roundUp(k, matmul.depthMultiple());
            Program.Resident wr = residents.weightWords(w, n, k, np, kp);
            Program.Resident br = residents.parameter(bias, n, np, 0f);
            ShortArray wd = (ShortArray) wr.array();
            FloatArray b = (FloatArray) br.array();
            // x, and the output, padded to whole tiles on the device where the shapes need it
            BufferPool.Buffer xb = rec.in(x);
            BufferPool.Buffer xp = xb;
            if (mp != m || kp != k) {
                xp = rec.out(mp * kp);
                rec.copy(xb, 0, k, xp, 0, kp, mp, kp, m, k);
            }
            BufferPool.Buffer op = rec.out(mp * np);
            FloatArray xa = xp.array();
            FloatArray oa = op.array();
            int code = code(act);
            List<Object> scalars = List.of(m, np, kp, code);
            if (fewRows) {
                WorkerGrid1D grid = new WorkerGrid1D(np);
                grid.setLocalWork(64, 1, 1);
                rec.record("linear/few-rows", scalars, List.of(xp), List.of(wr, br), grid, (g, task) -> g.task(task,
                        DeviceKernels::linearFewRows, new KernelContext(), xa, wd, b, oa, m, np, kp, code), op);
            } else {
                rec.record("linear/" + matmul.name(), scalars, List.of(xp), List.of(wr, br), matmul.grid(mp, np),
                        (g, task) -> matmul.addTask(g, task, xa, wd, b, oa, mp, np, kp, code), op);
            }
            if (xp != xb) {
                rec.done(xp);
            }
            BufferPool.Buffer result = op;
            if (mp != m || np != n) {
                result = rec.out(m * n);
                rec.copy(op, 0, np, result, 0, n, m, n, m, n);
                rec.done(op);
            }
            int[] shape = x.shape();
            shape[shape.length - 1] = n;
            return rec.result(result, shape);
        }
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, float scale, Tensor bias, boolean causal) {
        int lq = q.dim(0);
        int heads = q.dim(1);
        int d = q.dim(2);
        int lk = k.dim(0);
        if (bias != null || causal || d > DeviceKernels.MAX_HEAD_DIM || lk == 0
                || !Arrays.equals(k.shape(), v.shape()) || k.dim(1) != heads || k.dim(2) != d) {
            return java.attention(q, k, v, scale, bias, causal); // the text encoders' masks and biases, odd shapes
        }
        synchronized (this) {
            int block = DeviceKernels.ATTN_BLOCK;
            WorkerGrid2D grid = new WorkerGrid2D(MatmulStrategy.roundUp(lq, block), heads);
            grid.setLocalWork(block, 1, 1);
            return rec.launch("attention", List.of(lq, lk, heads, d, scale), List.of(), new int[] {lq, heads * d}, grid,
                    (g, name, in, o) -> g.task(name, DeviceKernels::flashAttention, new KernelContext(), in[0], in[1],
                            in[2], o, lq, lk, heads, d, scale), q, k, v);
        }
    }

    // ---- normalisation --------------------------------------------------------------------

    @Override
    public synchronized Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        int c = x.cols();
        return normRows(x, residents.parameter(weight, c, c, 1f), residents.parameter(bias, c, c, 0f), eps,
                DeviceKernels.NORM_LAYER);
    }

    @Override
    public synchronized Tensor rmsNorm(Tensor x, Tensor scale, float eps) {
        int c = x.cols();
        return normRows(x, residents.parameter(scale, c, c, 1f), residents.parameter(null, c, c, 0f), eps,
                DeviceKernels.NORM_RMS);
    }

    @Override
    public synchronized Tensor layerNormModulate(Tensor x, Tensor shift, Tensor scale, float eps) {
        ShapeChecks.layerNormModulate(x, shift, scale);
        int c = x.cols();
        int rows = x.rows();
        int kind = DeviceKernels.NORM_LAYER_MODULATE;
        return rec.launch("norm", List.of(kind, rows, c, eps), List.of(), x.shape(), grid1(rows),
                (g, name, in, o) -> g.task(name, DeviceKernels::normRows, new KernelContext(), in[0], in[1], in[2], o,
                        rows, c, eps, kind), x, scale, shift);
    }

    /** Row-wise norms of x with resident parameter vectors mul and add. */
    private Tensor normRows(Tensor x, Program.Resident mul, Program.Resident add, float eps, int kind) {
        int rows = x.rows();
        int cols = x.cols();
        FloatArray m = (FloatArray) mul.array();
        FloatArray a = (FloatArray) add.array();
        return rec.launch("norm", List.of(kind, rows, cols, eps), List.of(mul, add), x.shape(), grid1(rows),
                (g, name, in, o) -> g.task(name, DeviceKernels::normRows, new KernelContext(), in[0], m, a, o, rows,
                        cols, eps, kind), x);
    }

    // ---- element-wise ---------------------------------------------------------------------

    @Override
    public synchronized Tensor activation(Tensor x, Activation act) {
        int n = Math.toIntExact(x.size());
        int code = code(act);
        return rec.launch("activation", List.of(n, code), List.of(), x.shape(), grid1(n),
                (g, name, in, o) -> g.task(name, DeviceKernels::activation, new KernelContext(), in[0], o, n, code), x);
    }

    @Override
    public Tensor add(Tensor a, Tensor b) {
        return binary(a, b, DeviceKernels.OP_ADD);
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        return binary(a, b, DeviceKernels.OP_MUL);
    }

    private Tensor binary(Tensor a, Tensor b, int op) {
        ShapeChecks.elementwise(a, b);
        int n = Math.toIntExact(a.size());
        int bn = Math.toIntExact(b.size());
        synchronized (this) {
            if (rec.allOnHost(a, b)) { // LoRA merging, conditioning: not worth a device round trip
                return op == DeviceKernels.OP_ADD ? java.add(a, b) : java.mul(a, b);
            }
            return rec.launch("binary", List.of(op, n, bn), List.of(), a.shape(), grid1(n),
                    (g, name, in, o) -> g.task(name, DeviceKernels::binary, new KernelContext(), in[0], in[1], o, n, bn, op),
                    a, b);
        }
    }

    @Override
    public synchronized Tensor scale(Tensor a, float s) {
        int n = Math.toIntExact(a.size());
        return rec.launch("scale", List.of(n, s), List.of(), a.shape(), grid1(n),
                (g, name, in, o) -> g.task(name, DeviceKernels::scale, new KernelContext(), in[0], o, n, s), a);
    }

    @Override
    public synchronized Tensor gatedResidual(Tensor residual, Tensor gate, Tensor x) {
        ShapeChecks.gatedResidual(residual, gate, x);
        int n = Math.toIntExact(residual.size());
        int c = residual.cols();
        return rec.launch("gatedResidual", List.of(n, c), List.of(), residual.shape(), grid1(n),
                (g, name, in, o) -> g.task(name, DeviceKernels::gatedResidual, new KernelContext(), in[0], in[1], in[2], o,
                        n, c), residual, gate, x);
    }

    // ---- positions --------------------------------------------------------------------------

    @Override
    public synchronized Tensor rope(Tensor x, Tensor pe) {
        int l = x.dim(0);
        int heads = x.dim(1);
        int d = x.dim(2);
        ShapeChecks.rope(x, pe);
        int pairs = l * heads * (d / 2);
        return rec.launch("rope", List.of(l, heads, d), List.of(), x.shape(), grid1(pairs),
                (g, name, in, o) -> g.task(name, DeviceKernels::rope, new KernelContext(), in[0], in[1], o, l, heads, d),
                x, pe);
    }

    // ---- layout: device copies when an input is on the device, Java's when all are on the host --

    @Override
    public Tensor concatRows(Tensor... parts) {
        int[] shape = ShapeChecks.concatRows(parts);
        synchronized (this) {
            if (rec.allOnHost(parts)) {
                return java.concatRows(parts);
            }
            BufferPool.Buffer ob = rec.out(Math.toIntExact(Tensor.count(shape)));
            int at = 0;
            for (Tensor p : parts) {
                int n = Math.toIntExact(p.size());
                if (n > 0) {
                    rec.copy(rec.in(p), 0, n, ob, at, n, 1, n, 1, n);
                }
                at += n;
            }
            return rec.result(ob, shape);
        }
    }

    @Override
    public Tensor concatColumns(Tensor... parts) {
        int[] shape = ShapeChecks.concatColumns(parts);
        synchronized (this) {
            if (rec.allOnHost(parts)) {
                return java.concatColumns(parts);
            }
            int rows = parts[0].rows();
            int cols = shape[shape.length - 1];
            BufferPool.Buffer ob = rec.out(rows * cols);
            int offset = 0;
            for (Tensor p : parts) {
                int c = p.cols();
                rec.copy(rec.in(p), 0, c, ob, offset, cols, rows, c, rows, c);
                offset += c;
            }
            return rec.result(ob, shape);
        }
    }

    @Override
    public Tensor sliceColumns(Tensor x, int from, int to) {
        ShapeChecks.columns(x, from, to);
        synchronized (this) {
            if (rec.allOnHost(x)) {
                return java.sliceColumns(x, from, to);
            }
            int c = x.cols();
            int rows = x.rows();
            int w = to - from;
            BufferPool.Buffer ob = rec.out(rows * w);
            rec.copy(rec.in(x), from, c, ob, 0, w, rows, w, rows, w);
            int[] shape = x.shape();
            shape[shape.length - 1] = w;
            return rec.result(ob, shape);
        }
    }

    @Override
    public Tensor sliceRows(Tensor x, int from, int to) {
        ShapeChecks.rows(x, from, to);
        synchronized (this) {
            if (rec.allOnHost(x)) {
                return java.sliceRows(x, from, to);
            }
            int rowSize = Math.toIntExact(x.size() / Math.max(1, x.dim(0)));
            int n = (to - from) * rowSize;
            BufferPool.Buffer ob = rec.out(n);
            rec.copy(rec.in(x), from * rowSize, n, ob, 0, n, 1, n, 1, n);
            int[] shape = x.shape();
            shape[0] = to - from;
            return rec.result(ob, shape);
        }
    }

    private static int code(Activation act) {
        return switch (act) {
            case NONE -> DeviceKernels.ACT_NONE;
            case GELU_TANH -> DeviceKernels.ACT_GELU_TANH;
            case SILU -> DeviceKernels.ACT_SILU;
            case QUICK_GELU -> DeviceKernels.ACT_QUICK_GELU;
        };
    }
}
