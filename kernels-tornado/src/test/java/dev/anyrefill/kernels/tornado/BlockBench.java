package dev.anyrefill.kernels.tornado;

import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.kernels.JavaKernels;
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
 * tornado backend in one run: seconds per forward pass (the block pair plus embedders and final
 * layer), the tornado/java ratio, how close the two outputs are, and the host-device bytes of a
 * pass (with activations resident, the pass's inputs and its velocity, whatever the number of
 * blocks). A main, not a test (speed is not measured by unit tests); run it on the test class
 * path with TornadoVM's flags (see docs/tornadovm.md).
 */
public final class BlockBench {
    private BlockBench() {
    }

    public static void main(String[] args) {
        int imgTokens = args.length > 0 ? Integer.parseInt(args[0]) : 2048;
        int txtTokens = args.length > 1 ? Integer.parseInt(args[1]) : 512;
        FluxConfig real = new FluxConfig(384, 64, 768, 4096, 3072, 4.0, 24, 1, 1, new int[] {16, 56, 56}, 10000,
                true, true);
        Random random = new Random(3);
        Tensor img = KernelBench.randn(random, imgTokens, 384);
        Tensor txt = KernelBench.randn(random, txtTokens, 4096);
        Tensor vec = KernelBench.randn(random, 3072);
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
            onJava.forward(img, imgIds, txt, txtIds, vec, FluxModel.Trace.NONE); // JIT warm-up
            long t0 = System.nanoTime();
            Tensor ref = onJava.forward(img, imgIds, txt, txtIds, vec, FluxModel.Trace.NONE);
            double java = (System.nanoTime() - t0) / 1e9;
            System.out.printf("java: %.2f s per pass%n", java);
            t0 = System.nanoTime();
            onTornado.forward(img, imgIds, txt, txtIds, vec, FluxModel.Trace.NONE);
            System.out.printf("tornado, first pass (compiles the program, sends weights): %.2f s, %s%n",
                    (System.nanoTime() - t0) / 1e9, tornado.traffic().snapshot());
            DeviceTraffic.Snapshot before = tornado.traffic().snapshot();
            t0 = System.nanoTime();
            Tensor got = onTornado.forward(img, imgIds, txt, txtIds, vec, FluxModel.Trace.NONE);
            double device = (System.nanoTime() - t0) / 1e9;
            DeviceTraffic.Snapshot pass = tornado.traffic().snapshot().minus(before);
            System.out.printf("tornado: %.2f s per pass; tornado/java time %.2f; output max|tornado-java|/rms(java) %.2e%n",
                    device, device / java, Compare.relativeError(got, ref));
            System.out.printf("host-device traffic of a pass: %s%n", pass);
        }
    }
}
