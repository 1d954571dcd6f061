package dev.anyrefill.cli;

import dev.anyrefill.dit.ActivationCheckpointing;
import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.dit.Gradients;
import dev.anyrefill.kernels.Backends;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.pipeline.Stages;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.train.AdamW;
import dev.anyrefill.train.TrainStep;
import dev.anyrefill.train.TrainableLora;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.lora.LoraFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * K AdamW steps of a LoRA on given batches, writing every loss, the first velocity and the
 * gradients before the first update: the verification command of training, as forward and
 * sample are of inference (tensor names of testdata/golden/train/README.md).
 */
@Command(name = "train-step", mixinStandardHelpOptions = true,
        description = "Run K LoRA training steps (rectified-flow loss, AdamW) on batches read from a safetensors "
                + "file; write losses, the first velocity, the step-0 gradients and the trained LoRA.")
final class TrainStepCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "FILE",
            description = "FLUX transformer checkpoint: BFL, diffusers or ComfyUI layout (frozen).")
    Path model;

    @Option(names = "--lora", required = true, paramLabel = "FILE",
            description = "The LoRA to train, in any layout refill reads (BFL, PEFT/diffusers, kohya).")
    Path lora;

    @Option(names = "--inputs", required = true, paramLabel = "FILE",
            description = "safetensors with x0, img_cond, txt, vec, img_ids, txt_ids, step.S.noise, step.S.t.")
    Path inputs;

    @Option(names = "--steps", defaultValue = "1", paramLabel = "K", description = "AdamW steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Mixin
    OptimizerOptions optimizer;

    @Option(names = "--max-grad-norm", defaultValue = "0", paramLabel = "X",
            description = "Clip the gradients to this global norm before each update (default: 0, no clipping).")
    double maxGradNorm;

    @Option(names = "--guidance", paramLabel = "G",
            description = "The guidance embedding's input (default: the inputs' 'guidance' tensor, else 1).")
    Double guidance;

    @Option(names = "--backend", defaultValue = Backends.JAVA, paramLabel = "NAME",
            description = "java (default) or tornado; training runs on the Java kernels either way, for now.")
    String backend;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output safetensors file.")
    Path out;

    @Override
    public Integer call() {
        if (steps < 1) {
            throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
        }
        AdamW.Settings settings = optimizer.settings();
        Outputs.requireNotInput(out, model, lora, inputs);
        Stages stages = new Stages(System.out);
        try (FluxCheckpoint checkpoint = stages.time("open checkpoint", () -> FluxCheckpoint.open(model));
             LoraFile loraFile = LoraFile.open(lora);
             InputTensors in = new InputTensors(inputs)) {
            FluxModel flux = stages.time("load model", () -> new FluxModel(checkpoint, trainingKernels(backend)));
            TrainableLora trained = TrainableLora.fromFile(loraFile);
            trained.attach(flux);
            System.out.println("training " + trained.modules().size() + " LoRA modules of " + lora + " ("
                    + loraFile.layout().name().toLowerCase(Locale.ROOT) + " layout); the model stays frozen");
            TrainInputs batches = stages.time("read inputs", () -> TrainInputs.read(in, flux.config()));
            double g = guidance != null ? guidance : batches.guidance() != null ? batches.guidance().getFloat(0) : 1.0;
            for (int s = 0; s < steps; s++) {
                in.get("step." + s + ".t", batches.batch()); // every step's inputs exist before the first runs
            }
            Map<String, Tensor> written = train(stages, flux, trained, batches, in, g, new AdamW(settings));
            stages.time("write " + out, () -> Outputs.write(out, written, inputs, model, lora));
        }
        return 0;
    }

    private Map<String, Tensor> train(Stages stages, FluxModel flux, TrainableLora trained, TrainInputs batches,
                                      InputTensors in, double g, AdamW adam) {
        Map<String, Tensor> written = new LinkedHashMap<>();
        Map<String, Tensor> params = trained.parameters();
        for (int s = 0; s < steps; s++) {
            List<TrainStep.Sample> batch = batches.step(in, s);
            // step 0 also computes every base parameter's gradient (what full fine-tuning would use)
            Gradients grads = s == 0 ? new Gradients(name -> true) : Gradients.loraOnly();
            trained.register(grads);
            int step = s;
            TrainStep.Result r = stages.time("forward and backward, step " + s, () -> TrainStep.gradients(flux, batches.imgIds(),
                    batches.txtIds(), g, batch, grads, ActivationCheckpointing.AUTO));
            System.out.printf(Locale.ROOT, "step %d: loss %.6f, gradient norm %.4g%n", s, r.loss(), r.gradNorm(params.keySet()));
            written.put("step." + s + ".loss", Tensor.wrap(new float[]{(float) r.loss()}, 1));
            if (s == 0) {
                written.put("step.0.velocity", flux.kernels().concatRows(r.velocities().toArray(Tensor[]::new))
                        .reshape(batches.x0().shape()));
                r.grads().forEach((name, grad) -> written.put("grad." + name, copy(grad)));
            }
            TrainStep.update(adam, params, r, maxGradNorm, step);
        }
        params.forEach((name, p) -> written.put("final." + name, p));
        return written;
    }

    /** The Java kernels; another backend is named, and training says it runs on the Java kernels. */
    static Kernels trainingKernels(String backend) {
        if (!Backends.JAVA.equals(backend)) {
            Backends.release(Backends.byName(backend));
            System.out.println("backend " + backend + ": its backward kernels do not exist yet, so training runs "
                    + "forward and backward on the Java kernels");
        }
        return Backends.java();
    }

    private static Tensor copy(Tensor t) {
        return Tensor.wrap(t.data().clone(), t.shape());
    }
}
