package dev.anyrefill.cli;

import dev.anyrefill.kernels.Parallel;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.vae.AutoEncoder;
import dev.anyrefill.vae.AutoEncoderParams;
import dev.anyrefill.vae.Tiling;
import dev.anyrefill.weights.SyntheticWeights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code anyrefill vae memory}: decodes a random latent (or encodes a random image) with random weights at FLUX's real
 * AutoEncoder widths (ch 128, ch_mult [1, 2, 4, 4], 2 res blocks, z 16; weights off-heap as a
 * mapped checkpoint's would be) and reports the Java heap the decode needed: the largest live
 * set at the end of any operation (see {@link HeapProbeKernels}). The time printed includes a
 * full garbage collection per operation; it is no benchmark.
 */
@Command(name = "memory", mixinStandardHelpOptions = true,
        description = "Measure the heap of a decode (or --encode) at FLUX's real AutoEncoder widths, random weights.")
final class VaeMemoryCommand implements Callable<Integer> {
    @Option(names = "--height", defaultValue = "512", description = "Image height in pixels (multiple of 8; default 512).")
    int height;

    @Option(names = "--width", defaultValue = "1024", description = "Image width in pixels (multiple of 8; default 1024).")
    int width;

    @Option(names = "--tile", defaultValue = "0", paramLabel = "N", description = "Work in tiles of N latents (0: untiled).")
    int tile;

    @Option(names = "--tile-overlap", defaultValue = "-1", paramLabel = "M", description = "Tile overlap in latents (default N/4).")
    int overlap;

    @Option(names = "--shape-only", description = "Allocate every buffer in its true shape but skip the arithmetic: "
            + "the same heap profile in seconds instead of hours (values are zeros).")
    boolean shapeOnly;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all processors).")
    Integer threads;

    @Option(names = "--encode", description = "Measure an encode of a random image instead of a decode.")
    boolean encode;

    @Override
    public Integer call() {
        if (height % 8 != 0 || width % 8 != 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("--height and --width must be positive multiples of 8, got " + height + "x" + width);
        }
        if (threads != null) {
            Parallel.setThreads(threads);
        }
        AutoEncoderParams params = AutoEncoderParams.flux();
        String half = encode ? "encoder." : "decoder.";
        Map<String, int[]> shapes = new LinkedHashMap<>();
        params.parameterShapes().forEach((name, shape) -> {
            if (name.startsWith(half)) {
                shapes.put(name, shape); // one direction needs only its half
            }
        });
        long weightBytes = shapes.values().stream().mapToLong(s -> 2 * Tensor.count(s)).sum();
        try (SyntheticWeights weights = new SyntheticWeights(shapes, 1, "synthetic AutoEncoder " + half)) {
            HeapProbeKernels probe = new HeapProbeKernels(!shapeOnly);
            AutoEncoder ae = new AutoEncoder(weights, params, probe);
            Tiling tiling = tile > 0 ? new Tiling(tile, overlap < 0 ? tile / 4 : overlap) : null;
            Tensor input = encode ? random(3, height, width) : random(params.zChannels(), height / 8, width / 8);
            System.out.printf("%s %dx%d at ch %d, ch_mult [1,2,4,4]%s, %s; weights %.0f MB off-heap (BF16); max heap %.0f MB; %d threads%n",
                    encode ? "encode" : "decode", width, height, params.ch(),
                    shapeOnly ? " (shape-only kernels: no arithmetic)" : "",
                    tiling == null ? "untiled" : "tiles of " + tiling.tile() + " latents, overlap " + tiling.overlap(),
                    weightBytes / 1e6, Runtime.getRuntime().maxMemory() / 1e6, Parallel.threads());
            long start = System.nanoTime();
            try (HeapPeak peak = new HeapPeak()) {
                Tensor out = encode ? (tiling == null ? ae.encode(input) : tiling.encode(ae, input))
                        : (tiling == null ? ae.decode(input) : tiling.decode(ae, input));
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf("%s %s in %.1f s (a full GC after each of %d operations)%n", encode ? "encoded to" : "decoded",
                        java.util.Arrays.toString(out.shape()), seconds, probe.ops());
                System.out.printf("peak live heap above baseline: %.0f MB (heap pools' peaks: %.0f MB)%n",
                        (probe.maxLiveAfterOp() - peak.baseline()) / 1e6, peak.peakAboveBaseline() / 1e6);
            }
        }
        return 0;
    }

    /** Standard normal values: a latent, or a stand-in image (only its shape matters to memory). */
    private static Tensor random(int c, int h, int w) {
        Random random = new Random(42);
        float[] values = new float[c * h * w];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return Tensor.wrap(values, c, h, w);
    }
}
