package dev.anyrefill.cli;

import dev.anyrefill.dit.ActivationCheckpointing;
import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.dit.Linear;
import dev.anyrefill.dit.LoraMode;
import dev.anyrefill.dit.Loras;
import dev.anyrefill.kernels.Backends;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.kernels.Parallel;
import dev.anyrefill.kernels.cpu.CpuInfo;
import dev.anyrefill.kernels.cpu.KernelParameters;
import dev.anyrefill.kernels.TimingKernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.FluxConfig;
import dev.anyrefill.weights.FluxShapes;
import dev.anyrefill.weights.SyntheticWeights;
import dev.anyrefill.weights.lora.LoraFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code anyrefill bench}: one transformer forward at FLUX.1-Fill-dev's real widths (hidden
 * 3072, 24 heads, context 4096, vec 768, 384 channels in) with a chosen number of blocks and
 * tokens, BF16 weights generated from a seed (off the heap, each tensor once, as a mapped
 * checkpoint would be), after a warm-up pass. Prints one JSON line: seconds of the timed pass,
 * its FLOP by the formula below, GFLOP/s, and the time of each kernel operation.
 *
 * <p>FLOP per block: {@code 2 * 113.2e6 * tokens} for the linear layers (12 hidden^2
 * weights per token, double and single blocks alike) plus {@code 4 * tokens^2 * 3072} for
 * attention (Q K^T and P V); tokens = image + text. Embedders, modulation vectors and the
 * final layer are run but not counted. {@code cpu_seconds} is the process's CPU time during the
 * timed pass: on a shared machine, {@code gflop_per_cpu_s} says more about the code than the
 * wall-clock rate does.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time one forward at FLUX.1-Fill-dev's real widths with random BF16 weights; prints one JSON line.")
final class BenchCommand implements Callable<Integer> {
    /** FLUX.1-Fill-dev's widths, with the block counts and tokens left to the options. */
    static final String REAL_WIDTH = "real-width";

    @Option(names = "--preset", defaultValue = REAL_WIDTH, paramLabel = "NAME",
            description = "Model widths: real-width (FLUX.1-Fill-dev: hidden 3072, 24 heads, context 4096, vec 768, in 384).")
    String preset;

    @Option(names = "--double", defaultValue = "1", paramLabel = "N", description = "Double-stream blocks (default 1; FLUX has 19).")
    int doubleBlocks;

    @Option(names = "--single", defaultValue = "1", paramLabel = "N", description = "Single-stream blocks (default 1; FLUX has 38).")
    int singleBlocks;

    @Option(names = "--image-tokens", defaultValue = "2048", paramLabel = "N", description = "Image tokens (default 2048: 512x1024).")
    int imageTokens;

    @Option(names = "--text-tokens", defaultValue = "512", paramLabel = "N", description = "Text tokens (default 512).")
    int textTokens;

    @Option(names = "--backend", defaultValue = Backends.JAVA, paramLabel = "NAME",
            description = "Kernel backend: java (default) or another on the class path (tornado).")
    String backend;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the weights and inputs (default 1).")
    long seed;

    @Option(names = "--warmup", defaultValue = "1", paramLabel = "N", description = "Untimed passes before the timed one (default 1).")
    int warmup;

    @Option(names = "--lora-rank", defaultValue = "0", paramLabel = "R",
            description = "Add a task LoRA of this rank (the paper's is 128) on every linear of the blocks, random BF16 "
                    + "weights (default 0: none).")
    int loraRank;

    @Option(names = "--train", description = "Time one LoRA training step instead (forward, loss, backward into a "
            + "fresh LoRA of rank --lora-rank on AnyRefill's targets, AdamW); see README, Training.")
    boolean train;

    @Option(names = "--live-heap", description = "With --train: after the timed step, one more step with a full "
            + "collection after every operation, reporting the live heap's peak (slow).")
    boolean liveHeap;

    @Option(names = "--activation-checkpointing", defaultValue = "auto", paramLabel = "auto|blocks|none",
            description = "With --train: none keeps every activation for the backward (as PyTorch autograd does), "
                    + "blocks recomputes each block's inside in its backward; auto: none where that takes at most "
                    + "half the heap (default: ${DEFAULT-VALUE}).")
    String activationCheckpointing;

    @Option(names = "--lora-mode", defaultValue = "runtime", paramLabel = "MODE",
            description = "With --lora-rank: runtime (two thin matmuls per layer) or merged (W0 + s B A copied once, F32).")
    String loraMode;

    @Override
    public Integer call() {
        if (!REAL_WIDTH.equals(preset)) {
            throw new IllegalArgumentException("--preset: unknown preset '" + preset + "' (known: " + REAL_WIDTH + ")");
        }
        if (doubleBlocks < 0 || singleBlocks < 0 || doubleBlocks + singleBlocks == 0) {
            throw new IllegalArgumentException("--double and --single must be >= 0 and not both 0, got "
                    + doubleBlocks + " and " + singleBlocks);
        }
        if (imageTokens < 1 || textTokens < 1 || warmup < 0) {
            throw new IllegalArgumentException("--image-tokens and --text-tokens must be >= 1 and --warmup >= 0");
        }
        LoraMode mode = LoraMode.fromName(loraMode);
        Kernels inner = Backends.byName(backend);
        FluxConfig config = new FluxConfig(384, 64, 768, 4096, 3072, 4.0, 24, doubleBlocks, singleBlocks,
                new int[]{16, 56, 56}, 10000, true, true);
        LiveHeapProbe probe = new LiveHeapProbe();
        TimingKernels kernels = new TimingKernels(inner, probe);
        try (SyntheticWeights weights = new SyntheticWeights(FluxShapes.of(config), seed, "synthetic real-width FLUX.1-Fill")) {
            long t0 = System.nanoTime();
            FluxModel model = new FluxModel(FluxCheckpoint.of(weights), kernels);
            double generateSeconds = (System.nanoTime() - t0) / 1e9;
            if (train) {
                if (loraRank < 1) {
                    throw new IllegalArgumentException("--train needs --lora-rank R >= 1 (the paper's is 128)");
                }
                if (!Backends.JAVA.equals(inner.name())) {
                    System.err.println("backend " + inner.name() + ": training runs its backward on the Java kernels");
                }
                System.out.println(TrainBench.run(model, kernels, loraRank, imageTokens, textTokens, warmup, seed,
                        liveHeap ? probe : null, ActivationCheckpointing.fromCliName(activationCheckpointing)));
                return 0;
            }
            String lora = loraRank > 0 ? applyLora(model, mode) : "null";

            SplittableRandom random = new SplittableRandom(seed);
            Tensor img = gaussian(random, imageTokens, config.inChannels());
            Tensor imgIds = canvasIds(imageTokens);
            Tensor txt = gaussian(random, textTokens, config.contextInDim());
            Tensor txtIds = Tensor.zeros(textTokens, 3);
            Tensor y = gaussian(random, config.vecInDim());
            Runnable forward = () -> model.forward(img, imgIds, txt, txtIds, 0.5, y, 30.0, FluxModel.Trace.NONE);

            long w0 = System.nanoTime();
            for (int i = 0; i < warmup; i++) {
                forward.run();
            }
            double warmupSeconds = (System.nanoTime() - w0) / 1e9;
            kernels.reset();
            long c0 = processCpuNanos();
            long s0 = System.nanoTime();
            forward.run();
            double seconds = (System.nanoTime() - s0) / 1e9;
            double cpuSeconds = (processCpuNanos() - c0) / 1e9;

            long tokens = imageTokens + textTokens;
            int blocks = doubleBlocks + singleBlocks;
            double gflop = blocks * (2 * 113.2e6 * tokens + 4.0 * tokens * tokens * 3072) / 1e9;
            System.out.println(json(seconds, cpuSeconds, gflop, inner.name(), generateSeconds, warmupSeconds,
                    lora, kernels.entries()));
        } finally {
            Backends.release(inner);
        }
        return 0;
    }

    /**
     * A task LoRA of rank {@code --lora-rank} on every linear layer of the blocks (attention,
     * projections, MLPs; linear1 and linear2), applied in {@code --lora-mode}; returns its JSON:
     * the LoRA's own bytes (BF16, off the heap) and the heap the mode adds (merged: the F32
     * copies of the touched weights; runtime: nothing beyond the LoRA).
     */
    private String applyLora(FluxModel model, LoraMode mode) {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (Map.Entry<String, Linear> e : model.linears().entrySet()) {
            String name = e.getKey();
            if (name.startsWith("double_blocks.") && !name.contains("_mod.") || name.startsWith("single_blocks.")
                    && !name.contains(".modulation.")) {
                shapes.put(name + ".lora_A.weight", new int[]{loraRank, e.getValue().inFeatures()});
                shapes.put(name + ".lora_B.weight", new int[]{e.getValue().outFeatures(), loraRank});
            }
        }
        SyntheticWeights loraWeights = new SyntheticWeights(shapes, seed + 1, "synthetic rank-" + loraRank + " LoRA");
        long loraBytes = shapes.values().stream().mapToLong(sh -> Tensor.count(sh) * 2).sum();
        LoraFile file = LoraFile.of(loraWeights); // generated here, kept for the life of the process
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        System.gc();
        long heapBefore = memory.getHeapMemoryUsage().getUsed();
        long t0 = System.nanoTime();
        String report = Loras.apply(model, List.of(new Loras.Weighted(file, 1.0)), mode);
        double applySeconds = (System.nanoTime() - t0) / 1e9;
        System.gc();
        long extraHeap = memory.getHeapMemoryUsage().getUsed() - heapBefore;
        System.err.println(report);
        return String.format(Locale.ROOT, "{\"rank\":%d,\"mode\":\"%s\",\"layers\":%d,\"lora_bytes\":%d,"
                        + "\"extra_heap_bytes\":%d,\"apply_seconds\":%.3f}",
                loraRank, mode.name().toLowerCase(Locale.ROOT), shapes.size() / 2, loraBytes, Math.max(0, extraHeap), applySeconds);
    }

    /** CPU time of the whole process (all threads, JIT and GC included), or -1 where unknown. */
    private static long processCpuNanos() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
    }

    private String json(double seconds, double cpuSeconds, double gflop, String backendName, double generateSeconds,
                        double warmupSeconds, String lora, Map<String, TimingKernels.Entry> ops) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "{\"seconds\":%.3f,\"gflop\":%.3f,\"gflops_per_s\":%.1f", seconds, gflop, gflop / seconds));
        b.append(String.format(Locale.ROOT, ",\"cpu_seconds\":%.3f,\"gflop_per_cpu_s\":%.1f", cpuSeconds, gflop / cpuSeconds));
        b.append(String.format(Locale.ROOT, ",\"backend\":\"%s\",\"threads\":%d,\"preset\":\"%s\",\"double\":%d,\"single\":%d"
                        + ",\"image_tokens\":%d,\"text_tokens\":%d,\"warmup_passes\":%d,\"warmup_seconds\":%.3f,\"weights_seconds\":%.3f",
                backendName, Parallel.threads(), preset, doubleBlocks, singleBlocks, imageTokens, textTokens, warmup,
                warmupSeconds, generateSeconds));
        b.append(",\"lora\":").append(lora);
        b.append(",\"cpu\":").append(CpuInfo.detect().toJson());
        b.append(",\"kernel_parameters\":").append(KernelParameters.toJson());
        b.append(",\"operations\":{");
        boolean first = true;
        for (Map.Entry<String, TimingKernels.Entry> e : ops.entrySet()) {
            if (!first) {
                b.append(',');
            }
            first = false;
            b.append(String.format(Locale.ROOT, "\"%s\":{\"seconds\":%.3f,\"calls\":%d",
                    e.getKey(), e.getValue().seconds(), e.getValue().calls()));
            // deferred calls were only recorded: their work ran later, within the pass's seconds
            b.append(e.getValue().deferred() > 0 ? ",\"deferred\":" + e.getValue().deferred() + "}" : "}");
        }
        return b.append("}}").toString();
    }

    /** A tensor of standard normal values. */
    static Tensor gaussian(SplittableRandom random, int... shape) {
        float[] v = new float[Math.toIntExact(Tensor.count(shape))];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return Tensor.wrap(v, shape);
    }

    /** Position ids (0, row, column) of image tokens on a canvas twice as wide as high, row-major. */
    static Tensor canvasIds(int tokens) {
        int rows = Math.max(1, (int) Math.sqrt(tokens / 2.0));
        while (tokens % rows != 0) {
            rows--;
        }
        int cols = tokens / rows;
        float[] ids = new float[tokens * 3];
        for (int i = 0; i < tokens; i++) {
            ids[3 * i + 1] = i / cols;
            ids[3 * i + 2] = i % cols;
        }
        return Tensor.wrap(ids, tokens, 3);
    }
}
