package dev.anyrefill.kernels.tornado;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
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
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * The TornadoVM backend: the arithmetic of a transformer block (BF16 linear layers, flash
 * attention, RoPE, layer and RMS norms, modulation, activations, gated residuals, and the
 * slices and concatenations between them) runs as TornadoVM kernels ({@link DeviceKernels})
 * on the default TornadoVM device; everything else (convolutions, causal or biased attention,
 * weights in other types) is {@link JavaKernels}'.
 *
 * <p>Inside a {@linkplain #scope scope} operations are recorded, not run: each returns a
 * {@linkplain Tensor#deferred deferred} tensor whose values stay in a device buffer
 * ({@link DeviceValue}). The recorded {@link Program} runs, as one task graph, when the host
 * first reads a result (or an operation that only Java has needs its input), and graphs are
 * cached by what they compute, so the next sampling step runs the same compiled graph. A
 * FLUX forward pass is one such program: the host sends the pass's inputs and receives the
 * velocity, nothing in between ({@link #traffic()} counts it). Outside any scope each
 * operation runs at once and returns a heap tensor.
 *
 * <p>Residency: weights and parameters are copied once into device arrays (raw BF16 words
 * for weights) and sent with the first run of each compiled graph; activation buffers come
 * from a {@link BufferPool} and go back to it when their scope closes. A host tensor that
 * device operations read inside a scope is sent once per program: it must not change until
 * the program has run (a check at the run says so if it did).
 */
public final class TornadoKernels extends JavaKernels implements AutoCloseable {
    /** TornadoVM's property for the size of a task graph's low-level bytecode buffer. */
    static final String BYTECODE_PROPERTY = "tornado.tvm.maxbytecodesize";
    /**
     * That size: 32 KiB unless set, so that a graph holds 64 launches (with TornadoVM's own
     * 4 KiB, 8: the chains of {@link Program#compile} get longer). Set here, before TornadoVM
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
    private final Map<List<Object>, CompiledProgram> compiled = new HashMap<>();
    private final Map<List<Object>, Program.Resident> residents = new HashMap<>();
    /** Device copies of host arrays read inside the current outermost scope. */
    private final Map<float[], BufferPool.Buffer> hostCopies = new IdentityHashMap<>();
    private Program program = new Program();
    private DeviceScope scope;
    private int nextResidentId;

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

    // ---- scopes -----------------------------------------------------------------------------

    @Override
    public synchronized Scope scope(Tensor... consumed) {
        DeviceScope s = new DeviceScope(this, scope);
        for (Tensor t : consumed) {
            DeviceValue v = ours(t);
            if (v != null && v.scope != null && v.scope.encloses(s)) {
                s.adopt(v);
            }
        }
        scope = s;
        return s;
    }

    synchronized Tensor keep(DeviceScope s, Tensor t) {
        DeviceValue v = ours(t);
        boolean mine = v != null && (v.scope == s || v.state == DeviceValue.State.HOST);
        if (!mine) {
            return t;
        }
        if (s.parent != null) {
            if (v.scope == s) {
                s.parent.adopt(v);
            }
            return t;
        }
        return Tensor.wrap(toHost(v), t.shape());
    }

    synchronized void close(DeviceScope s) {
        if (scope != s) {
            throw new IllegalStateException("Kernels scopes must close innermost first");
        }
        for (DeviceValue v : List.copyOf(s.owned)) {
            free(v);
        }
        s.owned.clear();
        scope = s.parent;
        if (scope == null) {
            for (BufferPool.Buffer b : hostCopies.values()) {
                pool.give(b);
            }
            hostCopies.clear();
            if (program.values.stream().noneMatch(v -> v.state == DeviceValue.State.PENDING)) {
                discard(program); // nothing it computes can be read any more
                program = new Program();
            }
        }
    }

    private void free(DeviceValue v) {
        if (v.state == DeviceValue.State.PENDING || v.state == DeviceValue.State.ON_DEVICE) {
            pool.give(v.buffer);
            v.buffer = null;
            v.state = DeviceValue.State.FREED;
        }
        v.scope = null;
    }

    private DeviceValue ours(Tensor t) {
        return t.deferredValues() instanceof DeviceValue v && v.backend == this ? v : null;
    }

    // ---- running programs ---------------------------------------------------------------------

    /** The values of v on the host: runs the recorded program if v is in it, then brings v back. */
    synchronized float[] toHost(DeviceValue v) {
        switch (v.state) {
            case HOST -> {
                return v.host;
            }
            case FREED -> throw new IllegalStateException("a tensor of " + v.floats + " floats the tornado backend "
                    + "computed was read after the Kernels scope that owned it closed (keep it with Scope.keep)");
            case PENDING -> run();
            case ON_DEVICE -> {
            }
        }
        if (v.run != v.program.runs()) {
            throw new IllegalStateException("a tensor computed by " + v.program.name + " was read after the program "
                    + "ran again and overwrote it");
        }
        v.program.download(v.buffer.array(), v.program.graphOf(v.step));
        float[] h = new float[v.floats];
        MemorySegment.copy(v.buffer.array().getSegment(), ValueLayout.JAVA_FLOAT, 0, h, 0, v.floats);
        traffic.toHost(4L * v.floats);
        v.host = h;
        v.state = DeviceValue.State.HOST;
        pool.give(v.buffer);
        v.buffer = null;
        if (v.scope != null) {
            v.scope.owned.remove(v);
            v.scope = null;
        }
        return h;
    }

    /** Runs the recorded program (compiling it, the first time its signature is seen). */
    private void run() {
        if (program.isEmpty()) {
            return;
        }
        Program p = program;
        program = new Program();
        p.checkUploadsUnchanged();
        List<Object> signature = p.signature();
        CompiledProgram cp = compiled.get(signature);
        if (cp == null) {
            releaseUnmapped();
            cp = p.compile();
            compiled.put(signature, cp);
        }
        long run = cp.run();
        if (run == 1) {
            traffic.weights(cp.residentBytes);
        }
        traffic.toDevice(p.uploadBytes());
        traffic.launches(cp.launches);
        traffic.run(cp.graphs());
        for (DeviceValue v : p.values) {
            if (v.state == DeviceValue.State.PENDING) {
                v.state = DeviceValue.State.ON_DEVICE;
                v.program = cp;
                v.run = run;
            }
        }
        discard(p);
    }

    private void discard(Program p) {
        for (BufferPool.Buffer b : p.releaseAfterRun) {
            pool.give(b);
        }
        p.releaseAfterRun.clear();
    }

    /** Frees the compiled programs and device copies of weights whose file has been closed (unmapped) since. */
    private void releaseUnmapped() {
        compiled.values().removeIf(cp -> {
            if (cp.usesUnmapped()) {
                cp.close();
                return true;
            }
            return false;
        });
        residents.values().removeIf(r -> !r.source().scope().isAlive());
    }

    /** Frees every device buffer and compiled graph this backend holds. */
    @Override
    public synchronized void close() {
        for (CompiledProgram cp : compiled.values()) {
            cp.close();
        }
        compiled.clear();
        residents.clear();
        program = new Program();
    }

    // ---- recording ----------------------------------------------------------------------------

    /** A device buffer holding t's values (dense, row-major) for the program being recorded. */
    private BufferPool.Buffer in(Tensor t) {
        DeviceValue v = ours(t);
        if (v != null && v.state == DeviceValue.State.PENDING) {
            return v.buffer;
        }
        float[] a = t.data(); // a host tensor, or a value of an earlier program (through the host)
        BufferPool.Buffer b = scope == null ? null : hostCopies.get(a);
        if (b == null) {
            b = pool.take(a.length, program.touched);
            if (scope == null) {
                program.releaseAfterRun.add(b);
            } else {
                hostCopies.put(a, b);
            }
        }
        if (!program.uploads.containsKey(b)) {
            program.upload(b, a);
        }
        return b;
    }

    private BufferPool.Buffer out(int floats) {
        return pool.take(floats, Set.of());
    }

    /** A buffer needed only by the launches recorded next (padding): back to the pool after them. */
    private void done(BufferPool.Buffer temp) {
        pool.give(temp);
    }

    /** Records one launch: its key (what makes two launches the same), how to add it to a graph, what it writes. */
    private void record(List<Object> key, BiConsumer<TaskGraph, String> add, WorkerGrid grid, BufferPool.Buffer... writes) {
        program.add(new Program.Step(key, add, grid, writes));
    }

    /** Adds one kernel to a graph under a task name, given its input arrays and its output. */
    @FunctionalInterface
    private interface Kernel {
        void add(TaskGraph graph, String name, FloatArray[] in, FloatArray out);
    }

    /**
     * Records one launch of a kernel that reads {@code inputs} and writes a new tensor of the
     * given shape: key names the kernel and its scalars (the buffers are added here).
     */
    private Tensor launch(List<Object> key, int[] shape, WorkerGrid grid, Kernel kernel, Tensor... inputs) {
        BufferPool.Buffer[] in = new BufferPool.Buffer[inputs.length];
        FloatArray[] arrays = new FloatArray[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            in[i] = in(inputs[i]);
            arrays[i] = in[i].array();
        }
        BufferPool.Buffer out = out(Math.toIntExact(Tensor.count(shape)));
        FloatArray o = out.array();
        record(List.of(key, List.of(in), out), (g, name) -> kernel.add(g, name, arrays, o), grid, out);
        return result(out, shape);
    }

    /** The result of the launch just recorded: deferred inside a scope, on the host at once outside. */
    private Tensor result(BufferPool.Buffer out, int... shape) {
        int floats = Math.toIntExact(Tensor.count(shape));
        DeviceValue v = new DeviceValue(this, out, floats, null);
        v.step = program.steps.size() - 1;
        program.values.add(v);
        if (scope == null) {
            return Tensor.wrap(toHost(v), shape);
        }
        scope.adopt(v);
        return Tensor.deferred(v, shape);
    }

    /** True when no input is on the device: then a cheap layout operation runs in Java. */
    private boolean allOnHost(Tensor... ts) {
        for (Tensor t : ts) {
            DeviceValue v = ours(t);
            if (v != null && v.state != DeviceValue.State.HOST) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code dst[dstOff + r * dstPitch + c] = src[srcOff + r * srcPitch + c]} for the valid
     * part of a rows x cols block, zero in the rest.
     */
    private void copy(BufferPool.Buffer src, int srcOff, int srcPitch, BufferPool.Buffer dst, int dstOff, int dstPitch,
            int rows, int cols, int validRows, int validCols) {
        int n = rows * cols;
        FloatArray s = src.array();
        FloatArray d = dst.array();
        record(List.of("copy", src, dst, srcOff, srcPitch, dstOff, dstPitch, cols, validRows, validCols, n),
                (g, name) -> g.task(name, DeviceKernels::copy, new KernelContext(), s, d, srcOff, srcPitch, dstOff,
                        dstPitch, cols, validRows, validCols, n), grid1(n), dst);
    }

    // ---- residents (weights, parameters) --------------------------------------------------------

    /**
     * The resident array for key (made the first time), named in the program being recorded.
     * Keys of copied memory hold its scope as well: segments compare by address, and a file
     * mapped after another one closed may get the same address.
     */
    private Program.Resident resident(List<Object> key, MemorySegment source, Supplier<TornadoNativeArray> make) {
        Program.Resident r = residents.get(key);
        if (r == null) {
            r = new Program.Resident(nextResidentId++, make.get(), source);
            residents.put(key, r);
        }
        program.residents.add(r);
        return r;
    }

    /** The raw 16-bit words of a BF16 weight [n, k], zero-padded to [np, kp]. */
    private Program.Resident weightWords(Tensor w, int n, int k, int np, int kp) {
        MemorySegment seg = w.segment();
        return resident(List.of("bf16", seg, seg.scope(), np, kp), seg, () -> {
            ShortArray words = new ShortArray(Math.multiplyExact(np, kp));
            MemorySegment dst = words.getSegment();
            if (k == kp) {
                MemorySegment.copy(seg, 0, dst, 0, 2L * n * k);
            } else {
                for (int row = 0; row < n; row++) {
                    MemorySegment.copy(seg, 2L * row * k, dst, 2L * row * kp, 2L * k);
                }
            }
            return words;
        });
    }

    /** A parameter vector (bias, norm weight) widened to F32 and zero-padded to {@code padded}; fill for none. */
    private Program.Resident parameter(Tensor p, int n, int padded, float fill) {
        if (p == null) {
            return resident(List.of("fill", fill, padded), MemorySegment.NULL, () -> {
                FloatArray a = new FloatArray(padded);
                a.init(fill);
                return a;
            });
        }
        if (p.size() != n) {
            throw new IllegalArgumentException("parameter " + p + " for " + n + " channels");
        }
        MemorySegment seg = p.isHeapF32() && p.deferredValues() == null ? MemorySegment.ofArray(p.data()) : p.segment();
        return resident(List.of("f32", seg, seg.scope(), padded), seg, () -> {
            FloatArray a = new FloatArray(padded);
            MemorySegment.copy(p.toF32().data(), 0, a.getSegment(), ValueLayout.JAVA_FLOAT, 0, n);
            return a;
        });
    }

    // ---- linear algebra -------------------------------------------------------------------

    @Override
    public Tensor linear(Tensor x, Tensor w, Tensor bias, Activation act) {
        if (w.dtype() != DType.BF16 || w.rank() != 2 || !x.isHeapF32()) {
            return super.linear(x, w, bias, act);
        }
        synchronized (this) {
            int k = x.cols();
            int m = x.rows();
            int n = w.dim(0);
            if (w.dim(1) != k) {
                throw new IllegalArgumentException("linear: input " + x + " does not fit weight " + w);
            }
            if (bias != null && bias.size() != n) {
                throw new IllegalArgumentException("linear: bias " + bias + " for weight " + w);
            }
            boolean fewRows = m <= DeviceKernels.FEW_ROWS;
            int mp = fewRows ? m : MatmulStrategy.roundUp(m, matmul.rowMultiple());
            int np = MatmulStrategy.roundUp(n, matmul.columnMultiple());
            int kp = MatmulStrategy.roundUp(k, matmul.depthMultiple());
            Program.Resident wr = weightWords(w, n, k, np, kp);
            Program.Resident br = parameter(bias, n, np, 0f);
            ShortArray wd = (ShortArray) wr.array();
            FloatArray b = (FloatArray) br.array();
            // x, and the output, padded to whole tiles on the device where the shapes need it
            BufferPool.Buffer xb = in(x);
            BufferPool.Buffer xp = xb;
            if (mp != m || kp != k) {
                xp = out(mp * kp);
                copy(xb, 0, k, xp, 0, kp, mp, kp, m, k);
            }
            BufferPool.Buffer op = out(mp * np);
            FloatArray xa = xp.array();
            FloatArray oa = op.array();
            int code = code(act);
            List<Object> key = List.of("linear", matmul.name(), xp, wr, br, op, m, np, kp, code);
            if (fewRows) {
                WorkerGrid1D grid = new WorkerGrid1D(np);
                grid.setLocalWork(64, 1, 1);
                record(key, (g, name) -> g.task(name, DeviceKernels::linearFewRows, new KernelContext(), xa, wd, b, oa,
                        m, np, kp, code), grid, op);
            } else {
                record(key, (g, name) -> matmul.addTask(g, name, xa, wd, b, oa, mp, np, kp, code),
                        matmul.grid(mp, np), op);
            }
            if (xp != xb) {
                done(xp);
            }
            BufferPool.Buffer result = op;
            if (mp != m || np != n) {
                result = out(m * n);
                copy(op, 0, np, result, 0, n, m, n, m, n);
                done(op);
            }
            int[] shape = x.shape();
            shape[shape.length - 1] = n;
            return result(result, shape);
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
            return super.attention(q, k, v, scale, bias, causal);
        }
        synchronized (this) {
            int block = DeviceKernels.ATTN_BLOCK;
            WorkerGrid2D grid = new WorkerGrid2D(MatmulStrategy.roundUp(lq, block), heads);
            grid.setLocalWork(block, 1, 1);
            return launch(List.of("attention", lq, lk, heads, d, scale), new int[] {lq, heads * d}, grid,
                    (g, name, in, o) -> g.task(name, DeviceKernels::flashAttention, new KernelContext(), in[0], in[1],
                            in[2], o, lq, lk, heads, d, scale), q, k, v);
        }
    }

    // ---- normalisation --------------------------------------------------------------------

    @Override
    public synchronized Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        int c = x.cols();
        return normRows(x, parameter(weight, c, c, 1f), parameter(bias, c, c, 0f), eps, DeviceKernels.NORM_LAYER);
    }

    @Override
    public synchronized Tensor rmsNorm(Tensor x, Tensor scale, float eps) {
        int c = x.cols();
        return normRows(x, parameter(scale, c, c, 1f), parameter(null, c, c, 0f), eps, DeviceKernels.NORM_RMS);
    }

    @Override
    public synchronized Tensor layerNormModulate(Tensor x, Tensor shift, Tensor scale, float eps) {
        int c = x.cols();
        if (shift.size() != c || scale.size() != c) {
            throw new IllegalArgumentException("layerNormModulate: x " + x + ", shift " + shift + ", scale " + scale);
        }
        int rows = x.rows();
        int kind = DeviceKernels.NORM_LAYER_MODULATE;
        return launch(List.of("norm", kind, rows, c, eps), x.shape(), grid1(rows),
                (g, name, in, o) -> g.task(name, DeviceKernels::normRows, new KernelContext(), in[0], in[1], in[2], o,
                        rows, c, eps, kind), x, scale, shift);
    }

    /** Row-wise norms of x with resident parameter vectors mul and add. */
    private Tensor normRows(Tensor x, Program.Resident mul, Program.Resident add, float eps, int kind) {
        int rows = x.rows();
        int cols = x.cols();
        FloatArray m = (FloatArray) mul.array();
        FloatArray a = (FloatArray) add.array();
        return launch(List.of("norm", kind, mul, add, rows, cols, eps), x.shape(), grid1(rows),
                (g, name, in, o) -> g.task(name, DeviceKernels::normRows, new KernelContext(), in[0], m, a, o, rows,
                        cols, eps, kind), x);
    }

    // ---- element-wise ---------------------------------------------------------------------

    @Override
    public synchronized Tensor activation(Tensor x, Activation act) {
        int n = Math.toIntExact(x.size());
        int code = code(act);
        return launch(List.of("activation", n, code), x.shape(), grid1(n),
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
        int n = Math.toIntExact(a.size());
        int bn = Math.toIntExact(b.size());
        if (bn != n && (bn != a.cols())) {
            throw new IllegalArgumentException("cannot combine " + a + " with " + b);
        }
        if (allOnHost(a, b)) {
            return op == DeviceKernels.OP_ADD ? super.add(a, b) : super.mul(a, b);
        }
        synchronized (this) {
            return launch(List.of("binary", op, n, bn), a.shape(), grid1(n),
                    (g, name, in, o) -> g.task(name, DeviceKernels::binary, new KernelContext(), in[0], in[1], o, n, bn, op),
                    a, b);
        }
    }

    @Override
    public synchronized Tensor scale(Tensor a, float s) {
        int n = Math.toIntExact(a.size());
        return launch(List.of("scale", n, s), a.shape(), grid1(n),
                (g, name, in, o) -> g.task(name, DeviceKernels::scale, new KernelContext(), in[0], o, n, s), a);
    }

    @Override
    public synchronized Tensor gatedResidual(Tensor residual, Tensor gate, Tensor x) {
        int n = Math.toIntExact(residual.size());
        int c = residual.cols();
        if (x.size() != n || gate.size() != c) {
            throw new IllegalArgumentException("gatedResidual: " + residual + ", gate " + gate + ", x " + x);
        }
        return launch(List.of("gated", n, c), residual.shape(), grid1(n),
                (g, name, in, o) -> g.task(name, DeviceKernels::gatedResidual, new KernelContext(), in[0], in[1], in[2], o,
                        n, c), residual, gate, x);
    }

    // ---- positions --------------------------------------------------------------------------

    @Override
    public synchronized Tensor rope(Tensor x, Tensor pe) {
        int l = x.dim(0);
        int heads = x.dim(1);
        int d = x.dim(2);
        if (pe.dim(0) != l || pe.dim(1) != d / 2) {
            throw new IllegalArgumentException("rope: x " + x + " with pe " + pe);
        }
        int pairs = l * heads * (d / 2);
        return launch(List.of("rope", l, heads, d), x.shape(), grid1(pairs),
                (g, name, in, o) -> g.task(name, DeviceKernels::rope, new KernelContext(), in[0], in[1], o, l, heads, d),
                x, pe);
    }

    // ---- layout -----------------------------------------------------------------------------

    @Override
    public Tensor concatRows(Tensor... parts) {
        if (allOnHost(parts)) {
            return super.concatRows(parts);
        }
        synchronized (this) {
            int[] shape = concatRowsShape(parts);
            BufferPool.Buffer ob = out(Math.toIntExact(Tensor.count(shape)));
            int at = 0;
            for (Tensor p : parts) {
                int n = Math.toIntExact(p.size());
                if (n > 0) {
                    copy(in(p), 0, n, ob, at, n, 1, n, 1, n);
                }
                at += n;
            }
            return result(ob, shape);
        }
    }

    @Override
    public Tensor concatColumns(Tensor... parts) {
        if (allOnHost(parts)) {
            return super.concatColumns(parts);
        }
        synchronized (this) {
            int[] shape = concatColumnsShape(parts);
            int rows = parts[0].rows();
            int cols = shape[shape.length - 1];
            BufferPool.Buffer ob = out(rows * cols);
            int offset = 0;
            for (Tensor p : parts) {
                int c = p.cols();
                copy(in(p), 0, c, ob, offset, cols, rows, c, rows, c);
                offset += c;
            }
            return result(ob, shape);
        }
    }

    @Override
    public Tensor sliceColumns(Tensor x, int from, int to) {
        int c = x.cols();
        if (from < 0 || to > c || from > to) {
            throw new IndexOutOfBoundsException("columns [" + from + ", " + to + ") of " + x);
        }
        if (allOnHost(x)) {
            return super.sliceColumns(x, from, to);
        }
        synchronized (this) {
            int rows = x.rows();
            int w = to - from;
            BufferPool.Buffer ob = out(rows * w);
            copy(in(x), from, c, ob, 0, w, rows, w, rows, w);
            int[] shape = x.shape();
            shape[shape.length - 1] = w;
            return result(ob, shape);
        }
    }

    @Override
    public Tensor sliceRows(Tensor x, int from, int to) {
        if (from < 0 || to > x.dim(0) || from > to) {
            throw new IndexOutOfBoundsException("rows [" + from + ", " + to + ") of " + x);
        }
        if (allOnHost(x)) {
            return super.sliceRows(x, from, to);
        }
        synchronized (this) {
            int rowSize = Math.toIntExact(x.size() / Math.max(1, x.dim(0)));
            int n = (to - from) * rowSize;
            BufferPool.Buffer ob = out(n);
            copy(in(x), from * rowSize, n, ob, 0, n, 1, n, 1, n);
            int[] shape = x.shape();
            shape[0] = to - from;
            return result(ob, shape);
        }
    }

    // ---- plumbing ---------------------------------------------------------------------------

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
}
