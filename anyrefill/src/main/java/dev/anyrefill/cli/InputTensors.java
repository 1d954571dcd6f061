package dev.anyrefill.cli;

import dev.anyrefill.dit.Shapes;
import dev.anyrefill.tensor.Finite;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.SafetensorsFile;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * The tensors a low-level command reads by name from an --inputs safetensors file, widened to
 * F32 (they are small), accepted with or without a leading batch dimension of 1, and checked
 * against the shapes the model needs with errors naming the file, the tensor and both shapes.
 */
final class InputTensors implements AutoCloseable {
    private final SafetensorsFile file;
    private final Path path;

    InputTensors(Path path) {
        this.path = path;
        this.file = SafetensorsFile.open(path);
    }

    boolean has(String name) {
        return file.contains(name);
    }

    /** The stored shape of a tensor the file has. */
    int[] shapeOf(String name) {
        return file.get(name).shape();
    }

    Path path() {
        return path;
    }

    /** The file's metadata (string to string). */
    java.util.Map<String, String> metadata() {
        return file.metadata();
    }

    /** The tensor, F32, with a leading batch dimension of 1 dropped when shape needs one dimension less. */
    Tensor get(String name, int... shape) {
        if (!file.contains(name)) {
            throw new IllegalArgumentException(path + ": no tensor '" + name + "' (needed " + describe(shape) + ")");
        }
        Tensor t = file.get(name);
        if (t.rank() == shape.length + 1 && t.dim(0) == 1) {
            t = t.reshape(Arrays.copyOfRange(t.shape(), 1, t.rank()));
        }
        try {
            Shapes.require(name, t, shape);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
        }
        if (t.size() == 0) {
            throw new IllegalArgumentException(path + ": tensor '" + name + "' is empty " + Arrays.toString(t.shape()));
        }
        return Finite.require(t.toF32(), path + ": tensor '" + name + "'", "an input must hold finite numbers");
    }

    private static String describe(int[] shape) {
        return Arrays.toString(Arrays.stream(shape).mapToObj(d -> d == Shapes.ANY ? "N" : String.valueOf(d)).toArray());
    }

    @Override
    public void close() {
        file.close();
    }
}
