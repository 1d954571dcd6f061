package dev.anyrefill.cli;

import dev.anyrefill.dit.ActivationCheckpointing;
import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.dit.Gradients;
import dev.anyrefill.kernels.cpu.CpuInfo;
import dev.anyrefill.kernels.cpu.KernelParameters;
import dev.anyrefill.kernels.TimingKernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.train.AdamW;
import dev.anyrefill.train.RectifiedFlow;
import dev.anyrefill.train.TrainableLora;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * {@code anyrefill bench --train}: one LoRA training step at real width (forward, loss,
 * backward into the LoRA, AdamW), after warm-up steps, on the model {@link BenchCommand}
 * builds. Reports the step's seconds, its forward and backward parts with the kernel
 * operations of each, GFLOP by the formula below and the peak heap during the step.
 *
 * <p>FLOP per block, with T tokens: the forward's {@code 2 * 113.2e6 * T} for the linears and
 * {@code 4 T^2 3072} for attention, run once, or twice where the blocks are checkpointed (the
 * pass, and its recomputation inside the backward); the backward's input gradients, {@code 2 * 113.2e6 * T}
 * for the frozen linears and {@code 10 T^2 3072} for attention (five products to the forward's
 * two); and the LoRA's products, {@code 2 r (in + out)} per token and linear in each forward,
 * {@code 2 r (3 in + 2 out)} in the backward.
 */
final class TrainBench {
    private TrainBench() {
    }

    /** The JSON line of one timed step. */
    static String run(FluxModel model, TimingKernels kernels, int rank, int imageTokens, int textTokens, int warmup,
                      long seed, LiveHeapProbe probe, ActivationCheckpointing checkpointing) {
        ActivationCheckpointing keep = checkpointing.resolve(model.config(), imageTokens + (long) textTokens);
        TrainableLora lora = TrainableLora.fresh(model, TrainableLora.ANYREFILL_TARGETS, rank, rank, seed);
        lora.attach(model);
        SplittableRandom random = new SplittableRandom(seed);
        var c = model.config();
        Tensor x0 = BenchCommand.gaussian(random, imageTokens, c.outChannels());
        Tensor noise = BenchCommand.gaussian(random, imageTokens, c.outChannels());
        Tensor zt = RectifiedFlow.noisy(x0, noise, 0.5);
        Tensor img = kernels.concatColumns(zt, BenchCommand.gaussian(random, imageTokens, c.inChannels() - c.outChannels()));
        Tensor imgIds = BenchCommand.canvasIds(imageTokens);
        Tensor txt = BenchCommand.gaussian(random, textTokens, c.contextInDim());
        Tensor txtIds = Tensor.zeros(textTokens, 3);
        Tensor y = BenchCommand.gaussian(random, c.vecInDim());
        AdamW adam = new AdamW(AdamW.Settings.defaults(1e-4));
        Map<String, Tensor> params = lora.parameters();

        // One step: forward and loss, then (after `between`) backward and AdamW; their seconds.
        Function<Runnable, double[]> step = between -> {
            long t0 = System.nanoTime();
            FluxModel.Checkpoints saved = model.forwardForTraining(img, imgIds, txt, txtIds, 0.5, y, 1.0, keep);
            RectifiedFlow.Loss loss = RectifiedFlow.loss(saved.velocity(), x0, noise, 1);
            long t1 = System.nanoTime();
            between.run();
            long t2 = System.nanoTime();
            Gradients grads = Gradients.loraOnly();
            lora.register(grads);
            model.backward(saved, loss.dVelocity(), grads);
            adam.step(params, grads.all(), 1);
            return new double[]{(t1 - t0) / 1e9, (System.nanoTime() - t2) / 1e9};
        };
        Runnable nothing = () -> {
        };
        long w0 = System.nanoTime();
        for (int i = 0; i < warmup; i++) {
            step.apply(nothing);
        }
        double warmupSeconds = (System.nanoTime() - w0) / 1e9;

        kernels.reset();
        List<Map<String, double[]>> forwardOps = new ArrayList<>();
        double[] seconds;
        long peak;
        long live;
        try (HeapPeak heap = new HeapPeak()) {
            seconds = step.apply(() -> {
                forwardOps.add(snapshot(kernels));
                kernels.reset();
            });
            peak = heap.peakAboveBaseline();
            live = heap.liveAboveBaseline();
        }
        Map<String, double[]> backwardOps = snapshot(kernels);
        String liveHeap = "null";
        if (probe != null) {
            probe.start();
            step.apply(nothing);
            probe.stop();
            long state = 4L * 4 * params.values().stream().mapToLong(Tensor::size).sum(); // A and B, their gradients, m, v: F32
            liveHeap = String.format(Locale.ROOT, "{\"baseline_bytes\":%d,\"peak_above_baseline_bytes\":%d,"
                    + "\"lora_state_bytes\":%d}", probe.baseline(), probe.peakAboveBaseline(), state);
        }

        double gflop = gflop(model, lora, imageTokens, textTokens, keep);
        double total = seconds[0] + seconds[1];
        long loraParams = params.values().stream().mapToLong(Tensor::size).sum();
        return String.format(Locale.ROOT, "{\"train\":true,\"seconds\":%.3f,\"forward_seconds\":%.3f,"
                        + "\"backward_and_adamw_seconds\":%.3f,\"gflop\":%.1f,\"gflops_per_s\":%.1f,"
                        + "\"peak_heap_bytes\":%d,\"live_heap_bytes\":%d,\"lora_rank\":%d,\"lora_parameters\":%d,"
                        + "\"activation_checkpointing\":\"%s\",\"image_tokens\":%d,\"text_tokens\":%d,\"warmup_steps\":%d,\"warmup_seconds\":%.3f,"
                        + "\"live_heap\":%s,\"operations_forward\":%s,\"operations_backward\":%s,\"cpu\":%s,"
                        + "\"kernel_parameters\":%s}",
                total, seconds[0], seconds[1], gflop, gflop / total, peak, live, rank, loraParams, keep.cliName(), imageTokens,
                textTokens, warmup, warmupSeconds, liveHeap, json(forwardOps.getFirst()), json(backwardOps),
                CpuInfo.detect().toJson(), KernelParameters.toJson());
    }

    private static double gflop(FluxModel model, TrainableLora lora, int li, int lt, ActivationCheckpointing keep) {
        long t = li + lt;
        int blocks = model.config().depth() + model.config().depthSingleBlocks();
        double linear = 2 * 113.2e6 * t;
        double attention = 4.0 * t * t * 3072;
        int forwards = keep == ActivationCheckpointing.BLOCKS ? 2 : 1;
        double flop = blocks * (forwards * (linear + attention) + linear + 2.5 * attention);
        for (TrainableLora.Module m : lora.modules()) {
            long tokens = m.name().contains(".img_") ? li : m.name().contains(".txt_") ? lt : t;
            int r = m.a().dim(0);
            int in = m.a().dim(1);
            int out = m.b().dim(0);
            flop += tokens * (forwards * 2.0 * r * (in + out) + 2.0 * r * (3 * in + 2 * out));
        }
        return flop / 1e9;
    }

    private static Map<String, double[]> snapshot(TimingKernels kernels) {
        Map<String, double[]> m = new LinkedHashMap<>();
        kernels.entries().forEach((op, e) -> m.put(op, new double[]{e.seconds(), e.calls()}));
        return m;
    }

    private static String json(Map<String, double[]> ops) {
        StringBuilder b = new StringBuilder("{");
        ops.forEach((op, v) -> b.append(b.length() > 1 ? "," : "")
                .append(String.format(Locale.ROOT, "\"%s\":{\"seconds\":%.3f,\"calls\":%d}", op, v[0], (long) v[1])));
        return b.append('}').toString();
    }
}
