package dev.anyrefill.kernels.tornado;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The tornado backend's {@link Kernels.Scope}: owns the device values computed while it is the
 * innermost open scope (and those handed to it as consumed), and frees them when it closes,
 * except the ones it keeps, which pass to the enclosing scope (or, from the outermost, to the
 * host).
 */
final class DeviceScope implements Kernels.Scope {
    final TornadoKernels backend;
    final DeviceScope parent;
    /** The model part it runs ({@link dev.anyrefill.kernels.Kernels#scope(String)}): its launches are named after it. */
    final String name;
    final List<DeviceValue> owned = new ArrayList<>();
    private boolean closed;

    DeviceScope(TornadoKernels backend, DeviceScope parent, String name) {
        this.backend = backend;
        this.parent = parent;
        this.name = name;
    }

    boolean encloses(DeviceScope other) {
        for (DeviceScope s = other; s != null; s = s.parent) {
            if (s == this) {
                return true;
            }
        }
        return false;
    }

    void adopt(DeviceValue v) {
        if (v.scope != null) {
            v.scope.owned.remove(v);
        }
        v.scope = this;
        owned.add(v);
    }

    @Override
    public Tensor keep(Tensor t) {
        return backend.keep(this, t);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            backend.close(this);
        }
    }
}
