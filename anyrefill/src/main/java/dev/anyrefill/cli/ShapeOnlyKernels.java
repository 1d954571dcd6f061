package dev.anyrefill.cli;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.tensor.Tensor;

/**
 * Kernels that allocate every result the AutoEncoder asks for, in its true shape, and skip the
 * arithmetic: the decoder's buffer plan (what is allocated when, what is still referenced) is
 * exactly the real one, so its heap profile can be measured at full size in seconds rather
 * than the hours the real arithmetic takes on a small machine. Operations the AutoEncoder does
 * not use fall through to the real kernels.
 */
final class ShapeOnlyKernels extends JavaKernels {
    private final boolean collectAfterEach;
    private long maxLiveAfterOp;
    private int ops;

    /**
     * @param collectAfterEach run a full garbage collection after every operation and record
     *                         the heap then: the live set at each operation's end (inputs the
     *                         caller still holds plus the new result), whose maximum is the
     *                         decode's peak up to kernel-internal scratch
     */
    ShapeOnlyKernels(boolean collectAfterEach) {
        this.collectAfterEach = collectAfterEach;
    }

    private Tensor track(Tensor result) {
        ops++;
        if (collectAfterEach) {
            System.gc();
            maxLiveAfterOp = Math.max(maxLiveAfterOp, HeapPeak.heapUsed());
        }
        return result;
    }

    /** Largest heap occupancy after an operation and a full collection (absolute, not above a baseline). */
    long maxLiveAfterOp() {
        return maxLiveAfterOp;
    }

    int ops() {
        return ops;
    }
    @Override
    public String name() {
        return "shape-only";
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor w, Tensor bias, int stride, int[] padding) {
        int oh = (x.dim(1) + padding[0] + padding[1] - w.dim(2)) / stride + 1;
        int ow = (x.dim(2) + padding[2] + padding[3] - w.dim(3)) / stride + 1;
        return track(Tensor.zeros(w.dim(0), oh, ow));
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        return track(Tensor.zeros(x.shape()));
    }

    @Override
    public Tensor activation(Tensor x, Activation act) {
        return track(Tensor.zeros(x.shape()));
    }

    @Override
    public Tensor add(Tensor a, Tensor b) {
        return track(Tensor.zeros(a.shape()));
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        return track(Tensor.zeros(a.shape()));
    }

    @Override
    public Tensor scale(Tensor a, float s) {
        return track(Tensor.zeros(a.shape()));
    }

    @Override
    public Tensor linear(Tensor x, Tensor w, Tensor bias, Activation act) {
        int[] shape = x.shape();
        shape[shape.length - 1] = w.dim(0);
        return track(Tensor.zeros(shape));
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, float scale, Tensor bias, boolean causal) {
        return track(Tensor.zeros(q.dim(0), q.dim(1) * v.dim(2)));
    }

    @Override
    public Tensor transpose(Tensor x) {
        return track(Tensor.zeros(x.dim(1), x.dim(0)));
    }

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        return track(Tensor.zeros(x.dim(0), 2 * x.dim(1), 2 * x.dim(2)));
    }
}
