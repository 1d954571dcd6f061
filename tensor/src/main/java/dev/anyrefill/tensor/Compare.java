package dev.anyrefill.tensor;

import java.util.Arrays;

/**
 * The error measure every golden comparison in this project uses:
 * max |got - ref| / max(1e-6, rms(ref)). Relative to the typical size of the reference rather
 * than to each element, so values near zero do not blow it up.
 */
public final class Compare {
    private Compare() {
    }

    public static double relativeError(Tensor got, Tensor ref) {
        if (got.size() != ref.size()) {
            throw new IllegalArgumentException("sizes differ: got " + Arrays.toString(got.shape())
                    + ", reference " + Arrays.toString(ref.shape()));
        }
        double maxDiff = 0;
        double sumSq = 0;
        for (long i = 0; i < ref.size(); i++) {
            double r = ref.getFloat(i);
            double g = got.getFloat(i);
            double d = Math.abs(g - r);
            if (Double.isNaN(d)) {
                return Double.NaN;
            }
            maxDiff = Math.max(maxDiff, d);
            sumSq += r * r;
        }
        double rms = Math.sqrt(sumSq / Math.max(1, ref.size()));
        return maxDiff / Math.max(1e-6, rms);
    }

    public static double maxAbsDiff(Tensor got, Tensor ref) {
        double maxDiff = 0;
        for (long i = 0; i < ref.size(); i++) {
            maxDiff = Math.max(maxDiff, Math.abs((double) got.getFloat(i) - ref.getFloat(i)));
        }
        return maxDiff;
    }
}
