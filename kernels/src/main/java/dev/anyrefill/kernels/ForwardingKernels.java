package dev.anyrefill.kernels;

import dev.anyrefill.tensor.Tensor;

import java.util.function.Supplier;

/**
 * A backend that passes every operation on to another one through {@link #call}, where a
 * subclass adds what it watches for: {@link TimingKernels} the time of each operation,
 * {@link ScopeCheckingKernels} the lifetimes of its results. Scopes pass through unchanged
 * unless the subclass overrides them.
 */
public abstract class ForwardingKernels implements Kernels {
    protected final Kernels inner;

    protected ForwardingKernels(Kernels inner) {
        this.inner = inner;
    }

    /** Runs one operation of the wrapped backend; {@code op} names it (fused variants share a name). */
    protected abstract <T> T call(String op, Supplier<T> body);

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public Scope scopeFreeing(String name, Tensor... freedWithIt) {
        return inner.scopeFreeing(name, freedWithIt);
    }

    @Override
    public Tensor linear(Tensor x, Tensor w, Tensor bias, Activation act) {
        return call("linear", () -> inner.linear(x, w, bias, act));
    }

    @Override
    public Tensor attention(Tensor q, Tensor k, Tensor v, float scale, Tensor bias, boolean causal) {
        return call("attention", () -> inner.attention(q, k, v, scale, bias, causal));
    }

    @Override
    public Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
        return call("layerNorm", () -> inner.layerNorm(x, weight, bias, eps));
    }

    @Override
    public Tensor rmsNorm(Tensor x, Tensor scale, float eps) {
        return call("rmsNorm", () -> inner.rmsNorm(x, scale, eps));
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        return call("groupNorm", () -> inner.groupNorm(x, groups, weight, bias, eps));
    }

    @Override
    public Tensor layerNormModulate(Tensor x, Tensor shift, Tensor scale, float eps) {
        return call("layerNormModulate", () -> inner.layerNormModulate(x, shift, scale, eps));
    }

    @Override
    public Tensor activation(Tensor x, Activation act) {
        return call("activation", () -> inner.activation(x, act));
    }

    @Override
    public Tensor add(Tensor a, Tensor b) {
        return call("add", () -> inner.add(a, b));
    }

    @Override
    public Tensor mul(Tensor a, Tensor b) {
        return call("mul", () -> inner.mul(a, b));
    }

    @Override
    public Tensor scale(Tensor a, float s) {
        return call("scale", () -> inner.scale(a, s));
    }

    @Override
    public Tensor gatedResidual(Tensor residual, Tensor gate, Tensor x) {
        return call("gatedResidual", () -> inner.gatedResidual(residual, gate, x));
    }

    @Override
    public void axpyInPlace(Tensor x, float s, Tensor y) {
        call("axpyInPlace", () -> {
            inner.axpyInPlace(x, s, y);
            return null;
        });
    }

    @Override
    public Tensor rope(Tensor x, Tensor pe) {
        return call("rope", () -> inner.rope(x, pe));
    }

    @Override
    public Tensor concatRows(Tensor... parts) {
        return call("concatRows", () -> inner.concatRows(parts));
    }

    @Override
    public Tensor concatColumns(Tensor... parts) {
        return call("concatColumns", () -> inner.concatColumns(parts));
    }

    @Override
    public Tensor sliceColumns(Tensor x, int from, int to) {
        return call("sliceColumns", () -> inner.sliceColumns(x, from, to));
    }

    @Override
    public Tensor sliceRows(Tensor x, int from, int to) {
        return call("sliceRows", () -> inner.sliceRows(x, from, to));
    }

    @Override
    public Tensor transpose(Tensor x) {
        return call("transpose", () -> inner.transpose(x));
    }

    @Override
    public Tensor gatherRows(Tensor table, int[] ids) {
        return call("gatherRows", () -> inner.gatherRows(table, ids));
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor w, Tensor bias, int stride, int[] padding) {
        return call("conv2d", () -> inner.conv2d(x, w, bias, stride, padding));
    }

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        return call("upsampleNearest2x", () -> inner.upsampleNearest2x(x));
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, Activation act) {
        return call("groupNorm", () -> inner.groupNorm(x, groups, weight, bias, eps, act));
    }

    // ---- backward (training) ----------------------------------------------------------------

    @Override
    public AttentionOutput attentionWithLogSumExp(Tensor q, Tensor k, Tensor v) {
        return call("attention", () -> inner.attentionWithLogSumExp(q, k, v));
    }

    @Override
    public AttentionGrads attentionBackward(Tensor q, Tensor k, Tensor v, AttentionOutput out, Tensor dOut) {
        return call("attentionBackward", () -> inner.attentionBackward(q, k, v, out, dOut));
    }

    @Override
    public Tensor linearBackwardInput(Tensor dy, Tensor w) {
        return call("linearBackwardInput", () -> inner.linearBackwardInput(dy, w));
    }

    @Override
    public Tensor linearBackwardWeight(Tensor dy, Tensor x) {
        return call("linearBackwardWeight", () -> inner.linearBackwardWeight(dy, x));
    }

    @Override
    public Tensor sumRows(Tensor x) {
        return call("sumRows", () -> inner.sumRows(x));
    }

    @Override
    public Tensor activationBackward(Tensor x, Tensor dy, Activation act) {
        return call("activationBackward", () -> inner.activationBackward(x, dy, act));
    }

    @Override
    public NormGrads layerNormModulateBackward(Tensor x, Tensor shift, Tensor scale, float eps, Tensor dy) {
        return call("layerNormModulateBackward", () -> inner.layerNormModulateBackward(x, shift, scale, eps, dy));
    }

    @Override
    public ConvGrads conv2dBackward(Tensor x, Tensor w, int stride, int[] padding, Tensor dy) {
        return call("conv2dBackward", () -> inner.conv2dBackward(x, w, stride, padding, dy));
    }

    @Override
    public NormGrads groupNormBackward(Tensor x, int groups, Tensor weight, float eps, Tensor dy) {
        return call("groupNormBackward", () -> inner.groupNormBackward(x, groups, weight, eps, dy));
    }

    @Override
    public Tensor upsampleNearest2xBackward(Tensor dy) {
        return call("upsampleNearest2xBackward", () -> inner.upsampleNearest2xBackward(dy));
    }

    @Override
    public NormGrads rmsNormBackward(Tensor x, Tensor scale, float eps, Tensor dy) {
        return call("rmsNormBackward", () -> inner.rmsNormBackward(x, scale, eps, dy));
    }

    @Override
    public Tensor ropeBackward(Tensor dy, Tensor pe) {
        return call("ropeBackward", () -> inner.ropeBackward(dy, pe));
    }

    @Override
    public Tensor[] gatedResidualBackward(Tensor gate, Tensor x, Tensor dOut) {
        return call("gatedResidualBackward", () -> inner.gatedResidualBackward(gate, x, dOut));
    }
}
