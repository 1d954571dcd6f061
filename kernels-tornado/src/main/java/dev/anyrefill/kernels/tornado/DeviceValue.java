package dev.anyrefill.kernels.tornado;

import dev.anyrefill.tensor.Tensor;

/**
 * Where the values of a tensor the tornado backend computed inside a {@link DeviceScope} are:
 * in a device buffer, written by the program being recorded ({@link State#PENDING}) or by one
 * already run ({@link State#ON_DEVICE}); brought to the host ({@link State#HOST}, from then on
 * an ordinary heap tensor, its buffer given back); or gone with the scope that owned them
 * ({@link State#FREED}).
 */
final class DeviceValue implements Tensor.Deferred {
    enum State { PENDING, ON_DEVICE, HOST, FREED }

    final TornadoKernels backend;
    final int floats;
    BufferPool.Buffer buffer;
    State state = State.PENDING;
    DeviceScope scope;
    /** The launch of the program being recorded that writes it; once run, the program and which of its runs. */
    int step;
    CompiledProgram program;
    long run;
    float[] host;

    DeviceValue(TornadoKernels backend, BufferPool.Buffer buffer, int floats, DeviceScope scope) {
        this.backend = backend;
        this.buffer = buffer;
        this.floats = floats;
        this.scope = scope;
    }

    @Override
    public float[] toHost() {
        return backend.toHost(this);
    }
}
