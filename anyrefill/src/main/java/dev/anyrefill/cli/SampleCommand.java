package dev.anyrefill.cli;

import dev.anyrefill.pipeline.Stages;
import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.dit.Shapes;
import dev.anyrefill.sampler.Euler;
import dev.anyrefill.sampler.Packing;
import dev.anyrefill.sampler.PositionIds;
import dev.anyrefill.sampler.Schedule;
import dev.anyrefill.sampler.TorchRandom;
import dev.anyrefill.sampler.VelocityModel;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.FluxConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The denoising loop on tensors from a file: from {@code noise} (or noise drawn from --seed),
 * conditioned on {@code img_cond}, {@code txt}, {@code vec}; writes {@code timesteps},
 * {@code packed} and {@code latent}.
 */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "Run the rectified-flow Euler sampler on tensors read from a safetensors file.")
final class SampleCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--inputs", required = true, paramLabel = "FILE",
            description = "safetensors with noise [16, H/8, W/8] (unless --seed), img_cond (Fill), txt, vec; "
                    + "img_ids and txt_ids optional (computed over the whole latent when absent).")
    Path inputs;

    @Option(names = "--steps", defaultValue = "50", paramLabel = "N", description = "Euler steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--guidance", defaultValue = "30", paramLabel = "G",
            description = "Guidance value, constant over steps (default: ${DEFAULT-VALUE}, the Fill default).")
    double guidance;

    @Option(names = "--seed", paramLabel = "S",
            description = "Draw the noise as torch.randn(1, 16, H/8, W/8, dtype=float64) on the CPU with "
                    + "manual_seed(S) instead of reading 'noise'.")
    Long seed;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output safetensors file.")
    Path out;

    @Override
    public Integer call() {
        if (steps < 1) {
            throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
        }
        OptionChecks.finite("--guidance", guidance);
        Outputs.requireNotInput(out, inputs);
        Outputs.requireWritable(out);
        Stages stages = new Stages(System.out);
        try (ModelOptions.Loaded loaded = modelOptions.load(stages, System.out);
             InputTensors in = new InputTensors(inputs)) {
            FluxModel model = loaded.model();
            FluxConfig c = model.config();
            Tensor noise = stages.time("read inputs", () -> startingNoise(in, c));
            int height = noise.dim(1);
            int width = noise.dim(2);
            int tokens = height / 2 * width / 2;
            Tensor imgCond = c.inChannels() > c.outChannels()
                    ? in.get("img_cond", tokens, c.inChannels() - c.outChannels()) : null;
            Tensor txt = in.get("txt", Shapes.ANY, c.contextInDim());
            Tensor vec = in.get("vec", c.vecInDim());
            int axes = c.axesDim().length;
            Tensor imgIds = in.has("img_ids") ? in.get("img_ids", tokens, axes) : PositionIds.image(height / 2, width / 2);
            Tensor txtIds = in.has("txt_ids") ? in.get("txt_ids", txt.dim(0), axes) : PositionIds.text(txt.dim(0));

            double[] timesteps = Schedule.schedule(steps, tokens, true);
            VelocityModel velocity = (img, t, g) ->
                    model.forward(img, imgIds, txt, txtIds, t, vec, g, FluxModel.Trace.NONE);
            long[] stepStart = {System.nanoTime()};
            Euler.StepListener progress = (step, total, t, tNext) -> {
                long now = System.nanoTime();
                System.out.printf("step %d/%d (t %.4f -> %.4f): %.3f s%n", step, total, t, tNext, (now - stepStart[0]) / 1e9);
                stepStart[0] = now;
            };
            Tensor packed = stages.time("denoise " + steps + " steps", () -> Euler.denoise(model.kernels(), velocity,
                    Packing.pack(noise), imgCond, timesteps, guidance, progress));
            Map<String, Tensor> written = new LinkedHashMap<>();
            float[] ts = new float[timesteps.length];
            for (int i = 0; i < ts.length; i++) {
                ts[i] = (float) timesteps[i];
            }
            written.put("timesteps", Tensor.wrap(ts, ts.length));
            written.put("packed", packed);
            written.put("latent", Packing.unpack(packed, height, width));
            stages.time("write " + out, () -> Outputs.write(out, written, inputs, modelOptions.inputPaths()));
        }
        return 0;
    }

    /** 'noise' from the inputs, or drawn from --seed at the size of 'noise' or of the img_ids grid. */
    private Tensor startingNoise(InputTensors in, FluxConfig c) {
        int channels = c.outChannels() / 4;
        if (seed == null) {
            return in.get("noise", channels, Shapes.ANY, Shapes.ANY);
        }
        int height;
        int width;
        if (in.has("noise")) {
            Tensor n = in.get("noise", channels, Shapes.ANY, Shapes.ANY);
            height = n.dim(1);
            width = n.dim(2);
        } else if (in.has("img_ids")) {
            Tensor ids = in.get("img_ids", Shapes.ANY, c.axesDim().length);
            int rows = 0;
            int cols = 0;
            for (int i = 0; i < ids.dim(0); i++) {
                rows = Math.max(rows, (int) ids.get(i, 1) + 1);
                cols = Math.max(cols, (int) ids.get(i, 2) + 1);
            }
            height = 2 * rows;
            width = 2 * cols;
        } else {
            throw new IllegalArgumentException(inputs + ": with --seed, 'noise' or 'img_ids' must say the latent size");
        }
        System.out.println("noise: torch.randn(1, " + channels + ", " + height + ", " + width
                + ", dtype=float64), seed " + seed);
        return TorchRandom.randn(seed, channels, height, width);
    }
}
