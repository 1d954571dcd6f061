package dev.anyrefill.cli;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.tensor.Tensor;

/**
 * The pure-Java kernels, instrumented to measure the heap a model needs: after each operation
 * the AutoEncoder uses, a full garbage collection, then the heap occupancy is recorded. That is
 * the live set at the operation's end (the inputs the caller still holds plus the new result),
 * and its maximum is the peak up to kernel-internal scratch. With {@code arithmetic} off, each
 * operation only allocates its result in its true shape (zeros): the buffer plan, what is
 * allocated when and what is still referenced, is exactly the real one, so the profile of a
 * full-size decode takes seconds instead of the hours the arithmetic takes on a small machine.
 * Operations the AutoEncoder does not use are left as they are.
 */
final class HeapProbeKernels extends JavaKernels {
    private final boolean arithmetic;
    private long maxLiveAfterOp;
    private int ops;

    /** @param arithmetic compute the results (else only allocate them, zeros) */
    HeapProbeKernels(boolean arithmetic) {
        this.arithmetic = arithmetic;
    }

    private Tensor track(Tensor result) {
        ops++;
        System.gc();
        maxLiveAfterOp = Math.max(maxLiveAfterOp, HeapPeak.heapUsed());
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
        return arithmetic ? "java+heap-probe" : "shape-only";
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor w, Tensor bias, int stride, int[] padding) {
        int oh = (x.dim(1) + padding[0] + padding[1] - w.dim(2)) / stride + 1;
        int ow = (x.dim(2) + padding[2] + padding[3] - w.dim(3)) / stride + 1;
        return track(arithmetic ? super.conv2d(x, w, bias, stride, padding) : Tensor.zeros(w.dim(0), oh, ow));
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        return track(arithmetic ? super.groupNorm(x, groups, weight, bias, eps) : Tensor.zeros(x.shape()));
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, Activation act) {
        return track(arithmetic ? super.groupNorm(x, groups, weight, bias, eps, act) : Tensor.zeros(x.shape()));
    }

    @Override
    public Tensor activation(Tensor x, Activation act) {
        return track(arithmetic ? super.activation(x, act) : Tensor.zeros(x.shape()));
    }

    @Override
    public Tensor add(Tensor a, Tensor b) {
        return track(arithmetic ? super.add(a, b) : Tensor.zeros(a.shape()));
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        return track(arithmetic ? super.mul(a, b) : Tensor.zeros(a.shape()));
    }

    @Override
    public Tensor scale(Tensor a, float s) {
        return track(arithmetic ? super.scale(a, s) : Tensor.zeros(a.shape()));
    }

    @Override
    public Tensor linear(Tensor x, Tensor w, Tensor bias, Activation act) {
        int[] shape = x.shape();
        shape[shape.length - 1] = w.dim(0);
        return track(arithmetic ? super.linear(x, w, bias, act) : Tensor.zeros(shape));
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, float scale, Tensor bias, boolean causal) {
        return track(arithmetic ? super.attention(q, k, v, scale, bias, causal) : Tensor.zeros(q.dim(0), q.dim(1) * v.dim(2)));
    }

    @Override
    public Tensor transpose(Tensor x) {
        return track(arithmetic ? super.transpose(x) : Tensor.zeros(x.dim(1), x.dim(0)));
    }

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        return track(arithmetic ? super.upsampleNearest2x(x) : Tensor.zeros(x.dim(0), 2 * x.dim(1), 2 * x.dim(2)));
    }
}
