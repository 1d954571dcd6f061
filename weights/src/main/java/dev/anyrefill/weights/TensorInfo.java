package dev.anyrefill.weights;

import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;

import java.util.Arrays;

/** One entry of a safetensors header: where a tensor's bytes lie in the data section. */
public record TensorInfo(String name, DType dtype, int[] shape, long begin, long end) {
    public long size() {
        return Tensor.count(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape);
    }
}
