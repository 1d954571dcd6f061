package dev.anyrefill.kernels.tornado;

import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Compare;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.FluxConfig;
import dev.anyrefill.weights.FluxShapes;
import dev.anyrefill.weights.SyntheticWeights;

import java.util.Random;

/**
 * One double and one single block of FLUX.1-Fill-dev at real width (hidden 3072, 24 heads,
 * 2048 image + 512 text tokens by default), with synthetic BF16 weights, on the Java and the
 * tornado backend in one run: seconds per block, the tornado/java ratio, how close the two
 * outputs are, and the host-device bytes of each block (extrapolated to a 57-block step).
 * A main, not a test (speed is not measured by unit tests); run it on the test class path with
 * TornadoVM's flags (see the README, "The TornadoVM backend").
 */
public final class BlockBench {
    private BlockBench() {
    }

    /** Seconds and device traffic at the end of each stage of one forward pass. */
    private static final class Marks implements FluxModel.Trace {
        final long start = System.nanoTime();
        double embed;
        double afterDouble;
        double afterSingle;
        DeviceTraffic.Snapshot tEmbed;
        DeviceTraffic.Snapshot tDouble;
        DeviceTraffic.Snapshot tSingle;
        private final TornadoKernels device;

        Marks(Kernels k) {
            device = k instanceof TornadoKernels t ? t : null;
        }

        @Override
        public void record(String name, Tensor value) {
            double s = (System.nanoTime() - start) / 1e9;
            DeviceTraffic.Snapshot t = device == null ? null : device.traffic().snapshot();
            switch (name) {
                case "pe" -> {
                    embed = s;
                    tEmbed = t;
                }
                case "trace.double_blocks.0.txt" -> {
                    afterDouble = s;
                    tDouble = t;
                }
                case "trace.single_blocks.0" -> {
                    afterSingle = s;
                    tSingle = t;
                }
                default -> {
                }
            }
        }
    }

    public static void main(String[] args) {
        int imgTokens = args.length > 0 ? Integer.parseInt(args[0]) : 2048;
        int txtTokens = args.length > 1 ? Integer.parseInt(args[1]) : 512;
        FluxConfig real = new FluxConfig(384, 64, 768, 4096, 3072, 4.0, 24, 1, 1, new int[] {16, 56, 56}, 10000,
                true, true);
        Random random = new Random(3);
        Tensor img = randn(random, imgTokens, 384);
        Tensor txt = randn(random, txtTokens, 4096);
        Tensor vec = randn(random, 3072);
        Tensor imgIds = Tensor.zeros(imgTokens, 3);
        Tensor txtIds = Tensor.zeros(txtTokens, 3);
        for (int i = 0; i < imgTokens; i++) {
            imgIds.set(i / 64, i, 1); // rows and columns of a 32 x 64 latent grid (512 x 1024 pixels)
            imgIds.set(i % 64, i, 2);
        }
        System.out.printf("FLUX.1-Fill-dev width: 1 double + 1 single block, %d image + %d text tokens, synthetic BF16 weights%n",
                imgTokens, txtTokens);
        // the checkpoint closes the synthetic weights it wraps
        try (FluxCheckpoint ckpt = FluxCheckpoint.of(new SyntheticWeights(FluxShapes.of(real), 11, "synthetic real-width blocks"));
             TornadoKernels tornado = new TornadoKernels()) {
            FluxModel onJava = new FluxModel(ckpt, new JavaKernels());
            FluxModel onTornado = new FluxModel(ckpt, tornado);
            Marks java = new Marks(onJava.kernels());
            Tensor ref = onJava.forward(img, imgIds, txt, txtIds, vec, java);
            report("java", java);
            Marks first = new Marks(tornado);
            onTornado.forward(img, imgIds, txt, txtIds, vec, first);
            report("tornado, first pass (compiles kernels, sends weights)", first);
            Marks second = new Marks(tornado);
            Tensor got = onTornado.forward(img, imgIds, txt, txtIds, vec, second);
            report("tornado", second);
            double pairJava = java.afterSingle - java.embed;
            double pairTornado = second.afterSingle - second.embed;
            System.out.printf("block pair: java %.2f s, tornado %.2f s, tornado/java time %.2f; "
                    + "output max|tornado-java|/rms(java) %.2e%n", pairJava, pairTornado, pairTornado / pairJava,
                    Compare.relativeError(got, ref));
            DeviceTraffic.Snapshot d = second.tDouble.minus(second.tEmbed);
            DeviceTraffic.Snapshot s = second.tSingle.minus(second.tDouble);
            System.out.printf("host-device traffic: double block %s; single block %s%n", d, s);
            double perStep = 19 * (d.activationBytesToDevice() + d.bytesToHost())
                    + 38 * (s.activationBytesToDevice() + s.bytesToHost());
            System.out.printf("a 57-block step (19 double + 38 single) would move %.2f GB of activations; "
                    + "weights once: %.2f GB for this block pair%n", perStep / 1e9, first.tSingle.weightBytes() / 1e9);
        }
    }

    private static void report(String what, Marks m) {
        System.out.printf("%-55s embedders %.2f s, double block %.2f s, single block %.2f s%n", what, m.embed,
                m.afterDouble - m.embed, m.afterSingle - m.afterDouble);
    }

    private static Tensor randn(Random r, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) r.nextGaussian();
        }
        return t;
    }
}
