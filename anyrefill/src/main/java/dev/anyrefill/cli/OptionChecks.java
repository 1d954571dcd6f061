package dev.anyrefill.cli;

import dev.anyrefill.pipeline.LpgImages;

/** Checks of option values made before any work, each failing with one line naming the option. */
final class OptionChecks {
    private OptionChecks() {
    }

    static double finite(String option, double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException(option + " must be a finite number, got " + value);
        }
        return value;
    }

    /**
     * A canvas of two halves of this size must fit the JVM: the AutoEncoder's first level holds
     * a few activations of {@code channels} at full resolution at once (three, measured), each
     * {@code channels * H * 2W * 4} bytes, unless the VAE is tiled.
     */
    static void canvas(String option, LpgImages.Size size, int channels, boolean tiled) {
        if (size.height() > LpgImages.MAX_SIDE || size.width() > LpgImages.MAX_SIDE) {
            throw new IllegalArgumentException(option + " " + size + ": at most " + LpgImages.MAX_SIDE + " pixels a side "
                    + "(the canvas's tensors index below 2^31 floats)");
        }
        long bytes = 3L * channels * size.height() * 2L * size.width() * Float.BYTES;
        long heap = Runtime.getRuntime().maxMemory();
        if (!tiled && bytes > heap) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "%s %s: the AutoEncoder needs about "
                    + "%.1f GB at this size and this JVM has %.1f GB of heap; add --tile 64, or give more -Xmx",
                    option, size, bytes / 1e9, heap / 1e9));
        }
    }
}
