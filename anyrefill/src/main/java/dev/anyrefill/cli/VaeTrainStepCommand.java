package dev.anyrefill.cli;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.vae.AutoEncoder;
import dev.anyrefill.vae.AutoEncoderTraining;
import dev.anyrefill.vae.ParameterGradients;
import dev.anyrefill.weights.Checkpoints;
import dev.anyrefill.weights.TensorSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * One AutoEncoder training step's forward and backward on a batch read from a file, writing
 * the loss, its terms, the moments, the reconstructions and every parameter's gradient: the
 * verification command of AutoEncoder training (names of testdata/golden/vae-train/README.md).
 */
@Command(name = "train-step", mixinStandardHelpOptions = true,
        description = "Forward and backward of the AutoEncoder's reconstruction + KL loss on x [B, 3, H, W] and eps "
                + "[B, z, H/8, W/8]; write loss, rec, kl, moments, x_rec and grad.PARAM for every parameter.")
final class VaeTrainStepCommand implements Callable<Integer> {
    @Option(names = "--ae", required = true, paramLabel = "FILE", description = "AutoEncoder checkpoint (BFL names).")
    Path ae;

    @Option(names = "--inputs", required = true, paramLabel = "FILE",
            description = "safetensors with x [B, 3, H, W] in [-1, 1], eps [B, z, H/8, W/8] and kl_weight [1].")
    Path inputs;

    @Option(names = "--backend", defaultValue = Backends.JAVA, paramLabel = "NAME",
            description = "java (default) or tornado; the backward runs on the Java kernels either way, for now.")
    String backend;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output safetensors file.")
    Path out;

    @Override
    public Integer call() {
        Outputs.requireNotInput(out, ae, inputs);
        Outputs.requireWritable(out);
        try (TensorSource weights = Checkpoints.open(ae); InputTensors in = new InputTensors(inputs)) {
            AutoEncoder model = new AutoEncoder(weights, TrainStepCommand.trainingKernels(backend));
            int z = model.params().zChannels();
            int f = model.params().downscale();
            int[] xs = in.shapeOf("x");
            if (xs.length != 4 || xs[1] != model.params().inChannels() || xs[2] % f != 0 || xs[3] % f != 0) {
                throw new IllegalArgumentException(inputs + ": tensor 'x' is " + java.util.Arrays.toString(xs)
                        + "; this AutoEncoder takes [B, " + model.params().inChannels() + ", H, W] with H and W multiples of " + f);
            }
            int b = xs[0];
            Tensor x = in.get("x", b, xs[1], xs[2], xs[3]);
            Tensor eps = in.get("eps", b, z, xs[2] / f, xs[3] / f);
            double klWeight = in.get("kl_weight", 1).data()[0];
            List<AutoEncoderTraining.Sample> batch = new ArrayList<>();
            for (int i = 0; i < b; i++) {
                batch.add(new AutoEncoderTraining.Sample(x.sliceRows(i, i + 1).reshape(xs[1], xs[2], xs[3]),
                        eps.sliceRows(i, i + 1).reshape(z, xs[2] / f, xs[3] / f)));
            }
            ParameterGradients grads = new ParameterGradients();
            AutoEncoderTraining.Result r = AutoEncoderTraining.step(model, batch, klWeight, grads);
            System.out.printf(Locale.ROOT, "loss %.6f (rec %.6f, kl %.6f, kl weight %s) on %d images of %dx%d%n",
                    r.loss(), r.rec(), r.kl(), klWeight, b, xs[3], xs[2]);
            Map<String, Tensor> written = new LinkedHashMap<>();
            written.put("loss", scalar(r.loss()));
            written.put("rec", scalar(r.rec()));
            written.put("kl", scalar(r.kl()));
            written.put("moments", stack(r.moments()));
            written.put("x_rec", stack(r.reconstructions()));
            grads.all().forEach((name, g) -> written.put("grad." + name, g));
            Outputs.write(out, written, inputs, ae);
            System.out.println("wrote " + out + " (" + grads.all().size() + " gradients)");
        }
        return 0;
    }

    private static Tensor scalar(double v) {
        return Tensor.wrap(new float[]{(float) v}, 1);
    }

    /** Per-sample tensors [C, H, W] as one [B, C, H, W]. */
    static Tensor stack(List<Tensor> parts) {
        Tensor first = parts.getFirst();
        int n = Math.toIntExact(first.size());
        float[] out = new float[n * parts.size()];
        for (int i = 0; i < parts.size(); i++) {
            System.arraycopy(parts.get(i).data(), 0, out, i * n, n);
        }
        return Tensor.wrap(out, parts.size(), first.dim(0), first.dim(1), first.dim(2));
    }
}
