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
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * The device work recorded since the last run: kernel launches in order, the host arrays they
 * read (sent at every run), the resident arrays (weights, parameters: sent at the first run of
 * the compiled program) and the buffers they write. Recording is cheap; {@link #compile} turns
 * a program into TornadoVM task graphs, one task per launch, and programs with equal
 * {@link #signature}s share them.
 */
final class Program {
    private static final AtomicInteger IDS = new AtomicInteger();

    /**
     * One kernel launch: what makes two launches the same (kernel, buffer and resident names,
     * scalars), how to add it to a graph under a task name, and its grid.
     */
    record Step(List<Object> key, BiConsumer<TaskGraph, String> add, WorkerGrid grid, BufferPool.Buffer... writes) {
    }

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

    final List<Step> steps = new ArrayList<>();
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
        return steps.isEmpty();
    }

    void add(Step step) {
        steps.add(step);
        touched.addAll(Arrays.asList(step.writes()));
    }

    /** Sends values in b at the run: copied now, so the run sees them as they are at this point. */
    void upload(BufferPool.Buffer b, float[] values) {
        MemorySegment.copy(values, 0, b.array().getSegment(), ValueLayout.JAVA_FLOAT, 0, values.length);
        uploads.put(b, values);
        touched.add(b);
    }

    /** Everything that decides the compiled graph: two programs with equal signatures share one. */
    List<Object> signature() {
        List<Object> sig = new ArrayList<>(steps.size() + 2);
        for (Step s : steps) {
            sig.add(s.key());
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

    /**
     * Launches per task graph, and arrays it names (its own and those it passes on). TornadoVM
     * encodes a graph in fixed-size buffers: 8 KiB of high-level bytecode (about 70 bytes per
     * launch of these kernels) and {@link TornadoKernels#BYTECODE_BYTES} of low-level (about 100
     * per launch and 30 per array), so a long program is a chain of graphs in one execution
     * plan: each consumes from the one before it the arrays already on the device that it or a
     * later graph reads, and persists them, so activations never leave the device between
     * graphs. With the 32 KiB the backend asks for, 64 launches and 160 arrays; with
     * TornadoVM's default 4 KiB, 8 and 20.
     */
    static final int LAUNCHES_PER_GRAPH = Math.clamp(TornadoKernels.BYTECODE_BYTES / 512, 8, 64);
    static final int ARRAYS_PER_GRAPH = Math.clamp(TornadoKernels.BYTECODE_BYTES / 200, 20, 160);

    /** The whole program as a chain of task graphs in one execution plan. */
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
        // The arrays each launch names, and the last launch that names each array.
        List<Set<Object>> named = new ArrayList<>(steps.size());
        Map<Object, Integer> lastUse = new IdentityHashMap<>();
        for (int i = 0; i < steps.size(); i++) {
            Set<Object> a = new LinkedHashSet<>();
            arrays(steps.get(i).key(), a);
            named.add(a);
            for (Object o : a) {
                lastUse.put(o, i);
            }
        }
        List<TaskGraph> graphs = new ArrayList<>();
        List<Integer> firstStep = new ArrayList<>();
        GridScheduler grids = new GridScheduler();
        Set<Object> onDevice = Collections.newSetFromMap(new IdentityHashMap<>());
        int from = 0;
        while (from < steps.size()) {
            // Cut the next graph: as many launches as fit beside the arrays it passes on.
            Set<Object> carried = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Object o : onDevice) {
                if (lastUse.get(o) >= from) {
                    carried.add(o);
                }
            }
            Set<Object> arrays = Collections.newSetFromMap(new IdentityHashMap<>());
            arrays.addAll(carried);
            int to = from;
            while (to < steps.size() && to - from < LAUNCHES_PER_GRAPH) {
                Set<Object> more = Collections.newSetFromMap(new IdentityHashMap<>());
                more.addAll(arrays);
                more.addAll(named.get(to));
                if (to > from && more.size() > ARRAYS_PER_GRAPH) {
                    break;
                }
                arrays = more;
                to++;
            }
            String graphName = name + "_" + graphs.size();
            TaskGraph graph = new TaskGraph(graphName);
            if (!carried.isEmpty()) {
                graph.consumeFromDevice(graphs.getLast().getTaskGraphName(), carried.toArray());
            }
            Set<Object> fresh = new LinkedHashSet<>();
            for (int i = from; i < to; i++) {
                for (Object o : named.get(i)) {
                    if (!onDevice.contains(o)) {
                        fresh.add(o);
                    }
                }
            }
            Object[] once = fresh.stream().filter(residentArrays::contains).toArray();
            Object[] always = fresh.stream().filter(uploadArrays::contains).toArray();
            if (once.length > 0) {
                graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, once);
            }
            if (always.length > 0) {
                graph.transferToDevice(DataTransferMode.EVERY_EXECUTION, always);
            }
            for (int i = from; i < to; i++) {
                String task = "t" + i;
                steps.get(i).add().accept(graph, task);
                grids.addWorkerGrid(graphName + "." + task, steps.get(i).grid());
            }
            onDevice.addAll(fresh);
            // Kept on the device: what later graphs read, and what this one wrote (the host
            // may ask for it after the run).
            Set<Object> keep = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Object o : arrays) {
                if (lastUse.get(o) >= to) {
                    keep.add(o);
                }
            }
            for (int i = from; i < to; i++) {
                for (BufferPool.Buffer b : steps.get(i).writes()) {
                    keep.add(b.array());
                }
            }
            graph.persistOnDevice(keep.toArray());
            graphs.add(graph);
            firstStep.add(from);
            from = to;
        }
        TornadoExecutionPlan plan = new TornadoExecutionPlan(graphs.stream().map(TaskGraph::snapshot)
                .toArray(ImmutableTaskGraph[]::new));
        plan.withGridScheduler(grids);
        Set<MemorySegment> sources = new HashSet<>();
        for (Resident r : residents) {
            sources.add(r.source());
        }
        return new CompiledProgram(name, plan, firstStep, steps.size(), residentBytes, sources);
    }

    /** The device arrays a launch's key names (its buffers and residents), in order. */
    private static void arrays(Object key, Set<Object> into) {
        if (key instanceof BufferPool.Buffer b) {
            into.add(b.array());
        } else if (key instanceof Resident r) {
            into.add(r.array());
        } else if (key instanceof List<?> list) {
            for (Object o : list) {
                arrays(o, into);
            }
        }
    }
}
