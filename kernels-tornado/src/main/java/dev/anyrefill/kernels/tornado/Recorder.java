package dev.anyrefill.kernels.tornado;

import dev.anyrefill.tensor.Tensor;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Records the launches of the {@link Program} being built, runs it (compiling it the first time
 * its signature is seen, and caching the compiled graphs), and hands out the device buffers its
 * launches read and write. Not thread-safe: used under the TornadoKernels monitor.
 */
final class Recorder {
    /** {@code -Danyrefill.tornado.dump=true}: print each program's launches when it is compiled. */
    private static final boolean DUMP = Boolean.getBoolean("anyrefill.tornado.dump");

    /** Adds one kernel to a graph under a task name, given its input arrays and its output. */
    @FunctionalInterface
    interface Kernel {
        void add(TaskGraph graph, String task, FloatArray[] in, FloatArray out);
    }

    private final BufferPool pool;
    private final DeviceTraffic traffic;
    private final Residents residents;
    private final DeviceScopes scopes;
    private final TornadoKernels backend;
    private final Map<List<Object>, CompiledProgram> compiled = new HashMap<>();
    /** Device copies of host arrays read inside the current outermost scope. */
    private final Map<float[], BufferPool.Buffer> hostCopies = new IdentityHashMap<>();
    private Program program = new Program();

    Recorder(TornadoKernels backend, BufferPool pool, DeviceTraffic traffic, Residents residents, DeviceScopes scopes) {
        this.backend = backend;
        this.pool = pool;
        this.traffic = traffic;
        this.residents = residents;
        this.scopes = scopes;
    }

    // ---- buffers ------------------------------------------------------------------------------

    /** A device buffer holding t's values (dense, row-major) for the program being recorded. */
    BufferPool.Buffer in(Tensor t) {
        DeviceValue v = scopes.ours(t);
        if (v != null && v.state == DeviceValue.State.PENDING) {
            return v.buffer;
        }
        float[] a = t.data(); // a host tensor, or a value of an earlier program (through the host)
        boolean inScope = scopes.innermost() != null;
        BufferPool.Buffer b = inScope ? hostCopies.get(a) : null;
        if (b == null) {
            b = pool.take(a.length, program.touched);
            if (inScope) {
                hostCopies.put(a, b);
            } else {
                program.releaseAfterRun.add(b);
            }
        }
        if (!program.uploads.containsKey(b)) {
            program.upload(b, a);
        }
        return b;
    }

    BufferPool.Buffer out(int floats) {
        return pool.take(floats, Set.of());
    }

    /** A buffer needed only by the launches recorded so far (padding): back to the pool after them. */
    void done(BufferPool.Buffer temp) {
        pool.give(temp);
    }

    /** True when no input is on the device: then a cheap layout operation runs in Java. */
    boolean allOnHost(Tensor... ts) {
        for (Tensor t : ts) {
            DeviceValue v = scopes.ours(t);
            if (v != null && v.state != DeviceValue.State.HOST) {
                return false;
            }
        }
        return true;
    }

    // ---- recording ----------------------------------------------------------------------------

    /** Records one launch, named after the innermost scope and the kernel. */
    void record(String kernel, List<Object> scalars, List<BufferPool.Buffer> reads, List<Program.Resident> resident,
            WorkerGrid grid, BiConsumer<TaskGraph, String> add, BufferPool.Buffer... writes) {
        String op = kernel.contains("/") ? kernel.substring(0, kernel.indexOf('/')) : kernel;
        String name = scopes.name().isEmpty() ? op : scopes.name() + ":" + op;
        program.add(new Launch(name, kernel, scalars, reads, resident, List.of(writes), grid, add));
    }

    /** Records a launch that reads {@code inputs} (and residents) and writes a new tensor of the given shape. */
    Tensor launch(String kernel, List<Object> scalars, List<Program.Resident> resident, int[] shape, WorkerGrid grid,
            Kernel body, Tensor... inputs) {
        BufferPool.Buffer[] in = new BufferPool.Buffer[inputs.length];
        FloatArray[] arrays = new FloatArray[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            in[i] = in(inputs[i]);
            arrays[i] = in[i].array();
        }
        BufferPool.Buffer out = out(Math.toIntExact(Tensor.count(shape)));
        FloatArray o = out.array();
        record(kernel, scalars, List.of(in), resident, grid, (g, task) -> body.add(g, task, arrays, o), out);
        return result(out, shape);
    }

    /** The tensor the launch just recorded writes into out. */
    Tensor result(BufferPool.Buffer out, int... shape) {
        int floats = Math.toIntExact(Tensor.count(shape));
        DeviceValue v = new DeviceValue(backend, out, floats, null);
        v.step = program.launches.size() - 1;
        program.values.add(v);
        return scopes.result(v, shape);
    }

    /**
     * {@code dst[dstOff + r * dstPitch + c] = src[srcOff + r * srcPitch + c]} for the valid
     * part of a rows x cols block, zero in the rest.
     */
    void copy(BufferPool.Buffer src, int srcOff, int srcPitch, BufferPool.Buffer dst, int dstOff, int dstPitch,
            int rows, int cols, int validRows, int validCols) {
        int n = rows * cols;
        FloatArray s = src.array();
        FloatArray d = dst.array();
        record("copy", List.of(srcOff, srcPitch, dstOff, dstPitch, cols, validRows, validCols, n), List.of(src),
                List.of(), grid1(n), (g, task) -> g.task(task, DeviceKernels::copy, new KernelContext(), s, d, srcOff,
                        srcPitch, dstOff, dstPitch, cols, validRows, validCols, n), dst);
    }

    /** A 1-D grid of n work-items (rounded up) in groups of 64. */
    static WorkerGrid grid1(int n) {
        int local = 64;
        WorkerGrid1D grid = new WorkerGrid1D(MatmulStrategy.roundUp(Math.max(1, n), local));
        grid.setLocalWork(local, 1, 1);
        return grid;
    }

    // ---- running ------------------------------------------------------------------------------

    /** Runs the recorded program (compiling it, the first time its signature is seen). */
    void run() {
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
            if (DUMP) {
                System.err.print(cp.name + " (" + cp.graphs() + " graphs)\n" + p.dump());
            }
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
        residents.dropUnmapped();
    }

    /** The outermost scope closed: host copies go back, and a program nothing can read any more is dropped. */
    void outermostScopeClosed() {
        for (BufferPool.Buffer b : hostCopies.values()) {
            pool.give(b);
        }
        hostCopies.clear();
        if (program.values.stream().noneMatch(v -> v.state == DeviceValue.State.PENDING)) {
            discard(program);
            program = new Program();
        }
    }

    /** The launches recorded and not yet run, as {@link Program#dump} prints them. */
    String dump() {
        return program.dump();
    }

    /** Frees every compiled graph. */
    void close() {
        for (CompiledProgram cp : compiled.values()) {
            cp.close();
        }
        compiled.clear();
        program = new Program();
    }
}
