package dev.anyrefill.testing;

import dev.anyrefill.tensor.Compare;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.SafetensorsFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The golden reference data of testdata/golden (BFL's flux code and Hugging Face transformers,
 * float64 on a CPU; see testdata/golden/README.md) and the one comparison every test uses.
 */
public final class Golden {
    /** The tolerance of every golden comparison: max|got - ref| / rms(ref). */
    public static final double TOLERANCE = 1e-3;

    private Golden() {
    }

    /** The golden folder: the build passes it as a system property; else found from the working dir. */
    public static Path dir() {
        String prop = System.getProperty("anyrefill.golden");
        if (prop != null && Files.isDirectory(Path.of(prop))) {
            return Path.of(prop);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("testdata/golden");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("testdata/golden not found");
    }

    public static Path tiny(String file) {
        return dir().resolve("tiny").resolve(file);
    }

    public static Path text(String file) {
        return dir().resolve("text").resolve(file);
    }

    /** tiny/expected.safetensors, opened (close it). */
    public static SafetensorsFile expected() {
        return SafetensorsFile.open(tiny("expected.safetensors"));
    }

    /**
     * Asserts got matches ref to {@link #TOLERANCE} in the project's error measure, and prints
     * the measured error so every run documents how close it came.
     */
    public static double assertClose(String what, Tensor got, Tensor ref) {
        return assertClose(what, got, ref, TOLERANCE);
    }

    public static double assertClose(String what, Tensor got, Tensor ref, double tolerance) {
        assertArrayEquals(shapeOrFlat(ref, got), got.shape(), what + ": shape "
                + Arrays.toString(got.shape()) + " vs reference " + Arrays.toString(ref.shape()));
        double err = Compare.relativeError(got, ref);
        System.out.printf("golden %-40s max|got-ref|/rms(ref) = %.3e (tolerance %.0e)%n", what, err, tolerance);
        assertTrue(err < tolerance, what + ": relative error " + err + " above " + tolerance);
        return err;
    }

    /** Compares the reference's shape, or accepts a flat match when a leading batch dim of 1 differs. */
    private static int[] shapeOrFlat(Tensor ref, Tensor got) {
        int[] r = ref.shape();
        if (r.length == got.rank() + 1 && r[0] == 1) {
            return Arrays.copyOfRange(r, 1, r.length);
        }
        return r;
    }
}
