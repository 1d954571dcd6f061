package dev.anyrefill.cli;

import dev.anyrefill.pipeline.Stages;
import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.dit.Shapes;
import dev.anyrefill.kernels.Kernels;
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
 * One transformer pass on tensors from a file: {@code img_packed} (+ {@code img_cond} for Fill),
 * {@code txt}, {@code vec}, {@code img_ids}, {@code txt_ids}; writes {@code velocity} and, with
 * --trace, {@code vec}, {@code pe} and every block's output.
 */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = "Run one FLUX transformer pass on tensors read from a safetensors file.")
final class ForwardCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--inputs", required = true, paramLabel = "FILE",
            description = "safetensors with img_packed, img_cond (Fill), txt, vec, img_ids, txt_ids.")
    Path inputs;

    @Option(names = "--t", required = true, paramLabel = "T", description = "Timestep in [0, 1] (1 = pure noise).")
    double t;

    @Option(names = "--guidance", defaultValue = "30", paramLabel = "G",
            description = "Guidance value for the guidance embedding (default: ${DEFAULT-VALUE}, the Fill default).")
    double guidance;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output safetensors file.")
    Path out;

    @Option(names = "--trace", description = "Also write vec, pe and trace.double_blocks.N.img/txt, trace.single_blocks.N.")
    boolean trace;

    @Override
    public Integer call() {
        OptionChecks.finite("--guidance", guidance);
        OptionChecks.finite("--t", t);
        Outputs.requireNotInput(out, inputs);
        Outputs.requireWritable(out);
        Stages stages = new Stages(System.out);
        try (ModelOptions.Loaded loaded = modelOptions.load(stages, System.out);
             InputTensors in = new InputTensors(inputs)) {
            FluxModel model = loaded.model();
            ModelInputs x = stages.time("read inputs", () -> ModelInputs.read(in, model.config()));
            Map<String, Tensor> results = new LinkedHashMap<>();
            FluxModel.Trace tracer = trace ? results::put : FluxModel.Trace.NONE;
            Tensor velocity = stages.time("forward", () -> model.forward(x.img(model.kernels()), x.imgIds(), x.txt(),
                    x.txtIds(), t, x.vec(), guidance, tracer));
            dev.anyrefill.tensor.Finite.require(velocity, "the velocity", "NaN or infinity in the transformer's or a "
                    + "LoRA's weights, or a LoRA weight far too large");
            Map<String, Tensor> written = new LinkedHashMap<>();
            written.put("velocity", velocity);
            written.putAll(results);
            stages.time("write " + out, () -> Outputs.write(out, written, inputs, modelOptions.inputPaths()));
        }
        return 0;
    }

    /** The model's inputs from a file, checked against the model's configuration. */
    record ModelInputs(Tensor imgPacked, Tensor imgCond, Tensor txt, Tensor vec, Tensor imgIds, Tensor txtIds) {
        static ModelInputs read(InputTensors in, FluxConfig c) {
            int axes = c.axesDim().length;
            Tensor img = in.get("img_packed", Shapes.ANY, c.outChannels());
            int n = img.dim(0);
            int condChannels = c.inChannels() - c.outChannels();
            Tensor cond = condChannels > 0 ? in.get("img_cond", n, condChannels) : null;
            Tensor txt = in.get("txt", Shapes.ANY, c.contextInDim());
            Tensor vec = in.get("vec", c.vecInDim());
            Tensor imgIds = in.get("img_ids", n, axes);
            Tensor txtIds = in.get("txt_ids", txt.dim(0), axes);
            return new ModelInputs(img, cond, txt, vec, imgIds, txtIds);
        }

        /** cat(img_packed, img_cond) along channels: what a Fill model sees. */
        Tensor img(Kernels k) {
            return imgCond == null ? imgPacked : k.concatColumns(imgPacked, imgCond);
        }
    }
}
