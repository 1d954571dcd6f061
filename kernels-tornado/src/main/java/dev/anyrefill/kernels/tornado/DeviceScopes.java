package dev.anyrefill.kernels.tornado;

import dev.anyrefill.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * The lifetimes of the tensors the backend computes: the stack of open {@link DeviceScope}s,
 * which scope owns each {@link DeviceValue}, keeping a value past its scope, freeing the rest
 * when a scope closes, and bringing a value to the host. Not thread-safe: used under the
 * TornadoKernels monitor.
 */
final class DeviceScopes {
    private final TornadoKernels backend;
    private final BufferPool pool;
    private final DeviceTraffic traffic;
    private Recorder recorder;
    private DeviceScope innermost;

    DeviceScopes(TornadoKernels backend, BufferPool pool, DeviceTraffic traffic) {
        this.backend = backend;
        this.pool = pool;
        this.traffic = traffic;
    }

    /** The recorder whose programs compute the values (the two refer to each other). */
    void attach(Recorder recorder) {
        this.recorder = recorder;
    }

    /** Opens a scope named name (its enclosing scope's name if none) that also frees {@code freed}. */
    DeviceScope open(String name, Tensor... freed) {
        String full = name != null && !name.isEmpty() ? name : name();
        DeviceScope s = new DeviceScope(backend, innermost, full);
        for (Tensor t : freed) {
            DeviceValue v = ours(t);
            if (v != null && v.scope != null && v.scope.encloses(s)) {
                s.adopt(v);
            }
        }
        innermost = s;
        return s;
    }

    /** The innermost open scope, null outside any. */
    DeviceScope innermost() {
        return innermost;
    }

    /** The innermost scope's name: what the launches recorded now compute ("" outside any named scope). */
    String name() {
        return innermost == null ? "" : innermost.name;
    }

    Tensor keep(DeviceScope s, Tensor t) {
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

    void close(DeviceScope s) {
        if (innermost != s) {
            throw new IllegalStateException("Kernels scopes must close innermost first");
        }
        for (DeviceValue v : List.copyOf(s.owned)) {
            free(v);
        }
        s.owned.clear();
        innermost = s.parent;
        if (innermost == null) {
            recorder.outermostScopeClosed();
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

    /** t's device value if this backend computed it, else null. */
    DeviceValue ours(Tensor t) {
        return t.deferredValues() instanceof DeviceValue v && v.backend == backend ? v : null;
    }

    /** The result of a launch just recorded: owned by the innermost scope, or on the host at once outside any. */
    Tensor result(DeviceValue v, int[] shape) {
        if (innermost == null) {
            return Tensor.wrap(toHost(v), shape);
        }
        innermost.adopt(v);
        return Tensor.deferred(v, shape);
    }

    /** The values of v on the host: runs the recorded program if v is in it, then brings v back. */
    float[] toHost(DeviceValue v) {
        switch (v.state) {
            case HOST -> {
                return v.host;
            }
            case FREED -> throw new IllegalStateException("a tensor of " + v.floats + " floats the tornado backend "
                    + "computed was read after the Kernels scope that owned it closed (keep it with Scope.keep)");
            case PENDING -> recorder.run();
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
}
