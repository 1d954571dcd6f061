package dev.anyrefill.dit;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/**
 * BFL's {@code Modulation}: {@code lin(silu(vec))} cut into (shift, scale, gate) chunks: two
 * sets for a double block (before attention, before the MLP), one for a single block.
 */
public final class Modulation {
    /** One (shift, scale, gate) set, each [hidden]; in a backward, their gradients. */
    public record ModulationOut(Tensor shift, Tensor scale, Tensor gate) {
    }

    final Linear lin;
    private final boolean isDouble;

    Modulation(TensorSource w, String prefix, boolean isDouble) {
        this.lin = Layers.linear(w, prefix + ".lin");
        this.isDouble = isDouble;
    }

    /** vec [hidden] to 2 (double) or 1 (single) ModulationOut. */
    public ModulationOut[] forward(Kernels k, Tensor vec) {
        int multiplier = isDouble ? 6 : 3;
        Tensor out = lin.forward(k, k.activation(vec, Activation.SILU)); // [multiplier * hidden]
        int hidden = out.cols() / multiplier;
        Tensor[] chunks = new Tensor[multiplier];
        for (int i = 0; i < multiplier; i++) {
            chunks[i] = k.sliceColumns(out, i * hidden, (i + 1) * hidden);
        }
        ModulationOut first = new ModulationOut(chunks[0], chunks[1], chunks[2]);
        return isDouble ? new ModulationOut[]{first, new ModulationOut(chunks[3], chunks[4], chunks[5])}
                : new ModulationOut[]{first};
    }

    /** The backward of forward(k, vec): the gradients of each chunk, in forward's order, to d vec [hidden]. */
    public Tensor backward(Kernels k, Tensor vec, ModulationOut[] dOut, Gradients grads) {
        Tensor[] chunks = new Tensor[3 * dOut.length];
        for (int i = 0; i < dOut.length; i++) {
            chunks[3 * i] = dOut[i].shift();
            chunks[3 * i + 1] = dOut[i].scale();
            chunks[3 * i + 2] = dOut[i].gate();
        }
        Tensor dLin = k.concatColumns(chunks);                                   // [multiplier * hidden]
        Tensor siluVec = k.activation(vec, Activation.SILU);
        return k.activationBackward(vec, lin.backward(k, siluVec, dLin, grads), Activation.SILU);
    }
}
