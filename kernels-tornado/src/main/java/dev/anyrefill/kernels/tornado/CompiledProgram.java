package dev.anyrefill.kernels.tornado;

import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Set;

/**
 * A program compiled to a TornadoVM execution plan: a chain of task graphs, run in order, the
 * whole chain once per matching program.
 */
final class CompiledProgram implements AutoCloseable {
    final String name;
    final int launches;
    final long residentBytes;
    /** The memory its residents were copied from: when a mapped file closes, the program goes. */
    final Set<MemorySegment> sources;
    private final TornadoExecutionPlan plan;
    /** The index of the first launch of each graph. */
    private final List<Integer> firstLaunch;
    private final TornadoExecutionResult[] results;
    private long runs;

    CompiledProgram(String name, TornadoExecutionPlan plan, List<Integer> firstLaunch, int launches, long residentBytes,
            Set<MemorySegment> sources) {
        this.name = name;
        this.plan = plan;
        this.firstLaunch = List.copyOf(firstLaunch);
        this.results = new TornadoExecutionResult[firstLaunch.size()];
        this.launches = launches;
        this.residentBytes = residentBytes;
        this.sources = sources;
    }

    int graphs() {
        return results.length;
    }

    /** Runs the graphs in order; returns the number of this run (1 for the first, which also sends the residents). */
    long run() {
        for (int g = 0; g < results.length; g++) {
            results[g] = plan.withGraph(g).execute();
        }
        return ++runs;
    }

    long runs() {
        return runs;
    }

    /** The graph that runs launch {@code step}. */
    int graphOf(int step) {
        int g = 0;
        while (g + 1 < firstLaunch.size() && firstLaunch.get(g + 1) <= step) {
            g++;
        }
        return g;
    }

    /** Brings a buffer's device contents, as the last run left them, to its host side, from the graph that wrote it. */
    void download(FloatArray buffer, int graph) {
        plan.withGraph(graph);
        results[graph].transferToHost(buffer);
    }

    boolean usesUnmapped() {
        for (MemorySegment s : sources) {
            if (!s.scope().isAlive()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        plan.freeDeviceMemory();
        try {
            plan.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the TornadoVM plan of " + name, e);
        }
    }
}
