package dev.anyrefill.kernels.tornado;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;

/**
 * The operations the tornado backend has no device kernel for, each run by {@link JavaKernels}
 * on the host: the VAE's convolutions and group norms, the text encoders' look-ups, and the
 * backward operations of training. This class is the whole list: {@link TornadoKernels}
 * implements every other operation on the device (and says where one of those falls back to
 * {@link #java} for inputs the device kernel does not take). An input still on the device is
 * brought to the host when the Java kernel reads it.
 */
abstract class HostOperations implements Kernels {
    /** The pure-Java kernels: the host operations below, and the fallbacks of the device ones. */
    protected final JavaKernels java = new JavaKernels();

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        return java.groupNorm(x, groups, weight, bias, eps);
    }

    @Override
    public Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, Activation act) {
        return java.groupNorm(x, groups, weight, bias, eps, act);
    }

    @Override
    public void axpyInPlace(Tensor x, float s, Tensor y) {
        java.axpyInPlace(x, s, y);
    }

    @Override
    public Tensor transpose(Tensor x) {
        return java.transpose(x);
    }

    @Override
    public Tensor gatherRows(Tensor table, int[] ids) {
        return java.gatherRows(table, ids);
    }

    @Override
    public Tensor conv2d(Tensor x, Tensor w, Tensor bias, int stride, int[] padding) {
        return java.conv2d(x, w, bias, stride, padding);
    }

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        return java.upsampleNearest2x(x);
    }

    // ---- backward (training) ----------------------------------------------------------------

    @Override
    public ConvGrads conv2dBackward(Tensor x, Tensor w, int stride, int[] padding, Tensor dy) {
        return java.conv2dBackward(x, w, stride, padding, dy);
    }

    @Override
    public NormGrads groupNormBackward(Tensor x, int groups, Tensor weight, float eps, Tensor dy) {
        return java.groupNormBackward(x, groups, weight, eps, dy);
    }

    @Override
    public Tensor upsampleNearest2xBackward(Tensor dy) {
        return java.upsampleNearest2xBackward(dy);
    }

    @Override
    public AttentionOutput attentionWithLogSumExp(Tensor q, Tensor k, Tensor v) {
        return java.attentionWithLogSumExp(q, k, v);
    }

    @Override
    public AttentionGrads attentionBackward(Tensor q, Tensor k, Tensor v, AttentionOutput out, Tensor dOut) {
        return java.attentionBackward(q, k, v, out, dOut);
    }

    @Override
    public Tensor linearBackwardInput(Tensor dy, Tensor w) {
        return java.linearBackwardInput(dy, w);
    }

    @Override
    public Tensor linearBackwardWeight(Tensor dy, Tensor x) {
        return java.linearBackwardWeight(dy, x);
    }

    @Override
    public Tensor sumRows(Tensor x) {
        return java.sumRows(x);
    }

    @Override
    public Tensor activationBackward(Tensor x, Tensor dy, Activation act) {
        return java.activationBackward(x, dy, act);
    }

    @Override
    public NormGrads layerNormModulateBackward(Tensor x, Tensor shift, Tensor scale, float eps, Tensor dy) {
        return java.layerNormModulateBackward(x, shift, scale, eps, dy);
    }

    @Override
    public NormGrads rmsNormBackward(Tensor x, Tensor scale, float eps, Tensor dy) {
        return java.rmsNormBackward(x, scale, eps, dy);
    }

    @Override
    public Tensor ropeBackward(Tensor dy, Tensor pe) {
        return java.ropeBackward(dy, pe);
    }

    @Override
    public Tensor[] gatedResidualBackward(Tensor gate, Tensor x, Tensor dOut) {
        return java.gatedResidualBackward(gate, x, dOut);
    }
}
