package dev.anyrefill.cli;

import dev.anyrefill.dit.Shapes;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.train.TrainStep;
import dev.anyrefill.weights.FluxConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The batches of {@code train-step} (names of testdata/golden/train/README.md): x0 [B, N, out],
 * img_cond [B, N, in - out] (Fill), txt [B, L, context], vec [B, vecIn], img_ids [N, axes],
 * txt_ids [L, axes], and per step S step.S.noise [B, N, out] and step.S.t [B], each checked
 * against the model's configuration with an error naming the file and the tensor.
 */
record TrainInputs(Tensor x0, Tensor imgCond, Tensor txt, Tensor vec, Tensor imgIds, Tensor txtIds, Tensor guidance) {

    static TrainInputs read(InputTensors in, FluxConfig c) {
        int axes = c.axesDim().length;
        Tensor x0 = in.get("x0", Shapes.ANY, Shapes.ANY, c.outChannels());
        int batch = x0.dim(0);
        int n = x0.dim(1);
        int condChannels = c.inChannels() - c.outChannels();
        Tensor cond = condChannels > 0 ? in.get("img_cond", batch, n, condChannels) : null;
        Tensor txt = in.get("txt", batch, Shapes.ANY, c.contextInDim());
        Tensor vec = in.get("vec", batch, c.vecInDim());
        Tensor imgIds = in.get("img_ids", n, axes);
        Tensor txtIds = in.get("txt_ids", txt.dim(1), axes);
        Tensor guidance = in.has("guidance") ? in.get("guidance", 1) : null;
        for (String name : new String[]{"x0", "img_cond", "txt", "vec", "guidance"}) {
            if (in.has(name)) {
                requireFinite(in, name, in.get(name, in.shapeOf(name)));
            }
        }
        return new TrainInputs(x0, cond, txt, vec, imgIds, txtIds, guidance);
    }

    int batch() {
        return x0.dim(0);
    }

    /** The samples of step s: the shared tensors with that step's noise and times. */
    List<TrainStep.Sample> step(InputTensors in, int s) {
        Tensor noise = in.get("step." + s + ".noise", x0.shape());
        Tensor t = in.get("step." + s + ".t", batch());
        requireFinite(in, "step." + s + ".noise", noise);
        List<TrainStep.Sample> samples = new ArrayList<>();
        for (int b = 0; b < batch(); b++) {
            double tb = t.getFloat(b);
            if (!(tb >= 0 && tb <= 1)) {
                throw new IllegalArgumentException(in.path() + ": tensor 'step." + s + ".t' has " + tb
                        + " for sample " + b + ", outside [0, 1]");
            }
            samples.add(new TrainStep.Sample(row(x0, b), imgCond == null ? null : row(imgCond, b), row(txt, b),
                    row(vec, b), row(noise, b), tb));
        }
        return samples;
    }

    private static void requireFinite(InputTensors in, String name, Tensor t) {
        float[] v = t.data();
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw new IllegalArgumentException(in.path() + ": tensor '" + name + "' holds " + v[i]
                        + " at flat index " + i + "; training needs finite inputs");
            }
        }
    }

    /** Sample b of [B, ...], without the batch dimension. */
    private static Tensor row(Tensor t, int b) {
        int[] shape = t.shape();
        return t.sliceRows(b, b + 1).reshape(Arrays.copyOfRange(shape, 1, shape.length));
    }
}
