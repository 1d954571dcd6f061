package dev.anyrefill.kernels.tornado;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Cuts a program's launches into a chain of task graphs that each fit TornadoVM's bytecode
 * buffers. TornadoVM encodes a graph in fixed-size buffers: 8 KiB of high-level bytecode (about
 * 70 bytes per launch of these kernels) and {@link TornadoKernels#BYTECODE_BYTES} of low-level
 * (about 100 per launch and 30 per array). Each graph after the first consumes from the one
 * before it the arrays already on the device that it or a later graph reads, and persists them,
 * so activations never leave the device between graphs. With the 32 KiB the backend asks for, a
 * graph holds 64 launches and 160 arrays; with TornadoVM's default 4 KiB, 8 and 20.
 */
final class GraphSplitter {
    static final int LAUNCHES_PER_GRAPH = Math.clamp(TornadoKernels.BYTECODE_BYTES / 512, 8, 64);
    static final int ARRAYS_PER_GRAPH = Math.clamp(TornadoKernels.BYTECODE_BYTES / 200, 20, 160);

    /**
     * One graph of the chain: launches [from, to).
     *
     * @param consumed arrays the graph before it left on the device that this graph or a later one reads
     * @param fresh    arrays first named here (sent from the host: every run, or once for residents)
     * @param persist  arrays left on the device after it: what later graphs read and what it writes
     */
    record Part(int from, int to, Set<Object> consumed, Set<Object> fresh, Set<Object> persist) {
    }

    private GraphSplitter() {
    }

    static List<Part> split(List<Launch> launches) {
        List<Set<Object>> named = new ArrayList<>(launches.size());
        Map<Object, Integer> lastUse = new IdentityHashMap<>(); // the last launch that names each array
        for (int i = 0; i < launches.size(); i++) {
            Set<Object> a = launches.get(i).arrays();
            named.add(a);
            for (Object o : a) {
                lastUse.put(o, i);
            }
        }
        List<Part> parts = new ArrayList<>();
        Set<Object> onDevice = identitySet();
        int from = 0;
        while (from < launches.size()) {
            Set<Object> consumed = identitySet();
            for (Object o : onDevice) {
                if (lastUse.get(o) >= from) {
                    consumed.add(o);
                }
            }
            // as many launches as fit beside the arrays it is handed
            Set<Object> arrays = identitySet();
            arrays.addAll(consumed);
            int to = from;
            while (to < launches.size() && to - from < LAUNCHES_PER_GRAPH) {
                Set<Object> more = identitySet();
                more.addAll(arrays);
                more.addAll(named.get(to));
                if (to > from && more.size() > ARRAYS_PER_GRAPH) {
                    break;
                }
                arrays = more;
                to++;
            }
            Set<Object> fresh = new LinkedHashSet<>();
            for (int i = from; i < to; i++) {
                for (Object o : named.get(i)) {
                    if (!onDevice.contains(o)) {
                        fresh.add(o);
                    }
                }
            }
            Set<Object> persist = identitySet();
            for (Object o : arrays) {
                if (lastUse.get(o) >= to) {
                    persist.add(o);
                }
            }
            for (int i = from; i < to; i++) {
                launches.get(i).writes().forEach(b -> persist.add(b.array())); // the host may read it after the run
            }
            onDevice.addAll(fresh);
            parts.add(new Part(from, to, consumed, fresh, persist));
            from = to;
        }
        return parts;
    }

    private static Set<Object> identitySet() {
        return Collections.newSetFromMap(new IdentityHashMap<>());
    }
}
