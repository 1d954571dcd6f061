package dev.anyrefill.kernels.tornado;

import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The device work recorded since the last run: kernel launches in order, the host arrays they
 * read (sent at every run), the resident arrays (weights, parameters: sent at the first run of
 * the compiled program) and the buffers they write. Recording is cheap; {@link #compile} turns
 * a program into TornadoVM task graphs, one task per launch named after the model part it
 * computes, and programs with equal {@link #signature}s share them. Not thread-safe: used under
 * the TornadoKernels monitor.
 */
final class Program {
    private static final AtomicInteger IDS = new AtomicInteger();

    /**
     * An array that stays on the device for the life of the backend: a weight or a parameter,
     * and the memory it was copied from. Each is made once, so identity is equality.
     */
    static final class Resident {
        private final int id;
        private final TornadoNativeArray array;
        private final MemorySegment source;

        Resident(int id, TornadoNativeArray array, MemorySegment source) {
            this.id = id;
            this.array = array;
            this.source = source;
        }

        TornadoNativeArray array() {
            return array;
        }

        MemorySegment source() {
            return source;
        }

        @Override
        public String toString() {
            return "r" + id;
        }
    }

    final List<Launch> launches = new ArrayList<>();
    /**
     * Buffers sent from the host at every run, with the host arrays their values were copied
     * from when the upload was recorded.
     */
    final Map<BufferPool.Buffer, float[]> uploads = new LinkedHashMap<>();
    final Set<Resident> residents = new LinkedHashSet<>();
    /** Every buffer this program names: an upload may not reuse one (uploads land before the first launch). */
    final Set<BufferPool.Buffer> touched = new HashSet<>();
    /** Values the program writes. */
    final List<DeviceValue> values = new ArrayList<>();
    /** Buffers needed only until the run: given back to the pool after it. */
    final List<BufferPool.Buffer> releaseAfterRun = new ArrayList<>();

    boolean isEmpty() {
        return launches.isEmpty();
    }

    void add(Launch launch) {
        launches.add(launch);
        touched.addAll(launch.writes());
        residents.addAll(launch.residents());
    }

    /** Sends values in b at the run: copied now, so the run sees them as they are at this point. */
    void upload(BufferPool.Buffer b, float[] values) {
        MemorySegment.copy(values, 0, b.array().getSegment(), ValueLayout.JAVA_FLOAT, 0, values.length);
        uploads.put(b, values);
        touched.add(b);
    }

    /** Everything that decides the compiled graph: two programs with equal signatures share one. */
    List<Object> signature() {
        List<Object> sig = new ArrayList<>(launches.size() + 2);
        for (Launch l : launches) {
            sig.add(l.signature());
        }
        sig.add(List.copyOf(uploads.keySet()));
        sig.add(List.copyOf(residents));
        return sig;
    }

    long uploadBytes() {
        long bytes = 0;
        for (float[] v : uploads.values()) {
            bytes += 4L * v.length;
        }
        return bytes;
    }

    /**
     * An error if a host array was changed after its upload was recorded: a later operation
     * of the same program read it again, expecting the new values, and would get the old ones.
     */
    void checkUploadsUnchanged() {
        for (Map.Entry<BufferPool.Buffer, float[]> e : uploads.entrySet()) {
            float[] v = e.getValue();
            MemorySegment sent = e.getKey().array().getSegment().asSlice(0, 4L * v.length);
            if (MemorySegment.ofArray(v).mismatch(sent) >= 0) {
                throw new IllegalStateException("a host tensor of " + v.length + " floats changed while device "
                        + "operations that read it were waiting to run (inside a Kernels scope, host inputs of the "
                        + "device must not change until the scope's results are read)");
            }
        }
    }

    /** The whole program as a chain of task graphs ({@link GraphSplitter}) in one execution plan. */
    CompiledProgram compile() {
        String name = "program" + IDS.incrementAndGet();
        Set<Object> uploadArrays = new HashSet<>();
        for (BufferPool.Buffer b : uploads.keySet()) {
            uploadArrays.add(b.array());
        }
        Set<Object> residentArrays = new HashSet<>();
        long residentBytes = 0;
        for (Resident r : residents) {
            residentArrays.add(r.array());
            residentBytes += r.array().getNumBytesOfSegment();
        }
        List<TaskGraph> graphs = new ArrayList<>();
        List<Integer> firstLaunch = new ArrayList<>();
        GridScheduler grids = new GridScheduler();
        for (GraphSplitter.Part part : GraphSplitter.split(launches)) {
            String graphName = name + "_" + graphs.size();
            TaskGraph graph = new TaskGraph(graphName);
            if (!part.consumed().isEmpty()) {
                graph.consumeFromDevice(graphs.getLast().getTaskGraphName(), part.consumed().toArray());
            }
            Object[] once = part.fresh().stream().filter(residentArrays::contains).toArray();
            Object[] always = part.fresh().stream().filter(uploadArrays::contains).toArray();
            if (once.length > 0) {
                graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, once);
            }
            if (always.length > 0) {
                graph.transferToDevice(DataTransferMode.EVERY_EXECUTION, always);
            }
            for (int i = part.from(); i < part.to(); i++) {
                Launch launch = launches.get(i);
                String task = launch.taskName(i);
                launch.add().accept(graph, task);
                grids.addWorkerGrid(graphName + "." + task, launch.grid());
            }
            graph.persistOnDevice(part.persist().toArray());
            graphs.add(graph);
            firstLaunch.add(part.from());
        }
        TornadoExecutionPlan plan = new TornadoExecutionPlan(graphs.stream().map(TaskGraph::snapshot)
                .toArray(ImmutableTaskGraph[]::new));
        plan.withGridScheduler(grids);
        Set<MemorySegment> sources = new HashSet<>();
        for (Resident r : residents) {
            sources.add(r.source());
        }
        return new CompiledProgram(name, plan, firstLaunch, launches.size(), residentBytes, sources);
    }

    /**
     * The program as a table, one launch a line: step, task name, kernel, grid, what it reads
     * (buffers b*, residents r*) and writes. Printed at each compile with
     * {@code -Danyrefill.tornado.dump=true}.
     */
    String dump() {
        StringBuilder out = new StringBuilder();
        out.append(String.format("%5s  %-52s %-18s %-22s %s%n", "step", "task", "kernel", "grid", "reads -> writes"));
        for (int i = 0; i < launches.size(); i++) {
            Launch l = launches.get(i);
            List<Object> reads = new ArrayList<>(l.reads());
            reads.addAll(l.residents());
            out.append(String.format("%5d  %-52s %-18s %-22s %s -> %s%n", i, l.name(), l.kernel(), grid(l.grid()),
                    reads, l.writes()));
        }
        return out.toString();
    }

    private static String grid(WorkerGrid g) {
        long[] global = g.getGlobalWork();
        long[] local = g.getLocalWork();
        return Arrays.toString(Arrays.copyOf(global, g.dimension())) + "/"
                + (local == null ? "auto" : Arrays.toString(Arrays.copyOf(local, g.dimension())));
    }
}
