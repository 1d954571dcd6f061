package dev.anyrefill.train;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.SafetensorsFile;
import dev.anyrefill.weights.lora.LoraFile;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * testdata/golden/train: BFL's model with its LinearLora, PyTorch autograd and AdamW in float64
 * (see its README): the model, the initial LoRA, the batches and the expected results, opened.
 */
final class TrainGolden implements AutoCloseable {
    final FluxCheckpoint checkpoint;
    final FluxModel model;
    final LoraFile loraFile;
    final TrainableLora lora;
    final SafetensorsFile batches;
    final SafetensorsFile expected;

    TrainGolden() {
        checkpoint = FluxCheckpoint.open(file("flux-fill.safetensors"));
        model = new FluxModel(checkpoint, Backends.java());
        loraFile = LoraFile.open(file("lora-init.safetensors"));
        lora = TrainableLora.fromFile(loraFile);
        lora.attach(model);
        batches = SafetensorsFile.open(file("batches.safetensors"));
        expected = SafetensorsFile.open(file("expected.safetensors"));
    }

    static Path file(String name) {
        return Golden.dir().resolve("train").resolve(name);
    }

    /** The samples of training step s. */
    List<TrainStep.Sample> batch(int step) {
        Tensor t = batches.get("step." + step + ".t").toF32();
        List<TrainStep.Sample> samples = new ArrayList<>();
        for (int b = 0; b < t.size(); b++) {
            samples.add(new TrainStep.Sample(sample("x0", b), sample("img_cond", b), sample("txt", b),
                    sample("vec", b), sample("step." + step + ".noise", b), t.getFloat(b)));
        }
        return samples;
    }

    /** Sample b of a batched tensor [B, ...], without the batch dimension. */
    Tensor sample(String name, int b) {
        Tensor all = batches.get(name);
        int[] shape = all.shape();
        Tensor one = all.sliceRows(b, b + 1);
        return one.reshape(java.util.Arrays.copyOfRange(shape, 1, shape.length));
    }

    double guidance() {
        return batches.get("guidance").getFloat(0);
    }

    @Override
    public void close() {
        expected.close();
        batches.close();
        loraFile.close();
        checkpoint.close();
    }
}
