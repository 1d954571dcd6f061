package dev.anyrefill.cli;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.text.clip.ClipTextModel;
import dev.anyrefill.text.t5.T5Encoder;
import dev.anyrefill.weights.SafetensorsWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** Runs one text encoder on given ids and writes its outputs (for checking against a reference). */
@Command(name = "text", mixinStandardHelpOptions = true,
        description = "Run the T5 encoder or the CLIP text model on token ids; write last_hidden_state "
                + "[L, d] (and pooler_output [d] for clip) as safetensors (F32).")
final class TextCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "t5|clip", description = "which encoder")
    String model;

    @Option(names = "--weights", required = true, paramLabel = "FILE_OR_DIR",
            description = "the encoder's weights: a safetensors file, an index, or a folder (text_encoder_2/, text_encoder/)")
    Path weights;

    @Option(names = "--ids", required = true, split = ",", paramLabel = "ID,ID,...", description = "token ids")
    int[] ids;

    @Option(names = "--mask", split = ",", paramLabel = "1,1,0,...",
            description = "attention mask, one 0/1 per id (0 hides a padded key); default none, as FLUX")
    int[] mask;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "output safetensors file")
    Path out;

    @Option(names = "--trace", description = "also write each block's output (t5: block_output.I; clip: hidden_states.K)")
    boolean trace;

    @Override
    public Integer call() {
        String kind = kind(model);
        if (mask != null && mask.length != ids.length) {
            throw new IllegalArgumentException("--mask has " + mask.length + " values for " + ids.length + " ids");
        }
        Outputs.requireNotInput(out, weights);
        Kernels k = Backends.java();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        if (kind.equals("t5")) {
            try (T5Encoder t5 = T5Encoder.open(weights)) {
                T5Encoder.Output o = t5.forward(k, ids, mask, trace);
                tensors.put("last_hidden_state", o.lastHiddenState());
                for (int i = 0; i < o.blockOutputs().size(); i++) {
                    tensors.put("block_output." + i, o.blockOutputs().get(i));
                }
            }
        } else {
            try (ClipTextModel clip = ClipTextModel.open(weights)) {
                ClipTextModel.Output o = clip.forward(k, ids, mask, trace);
                tensors.put("last_hidden_state", o.lastHiddenState());
                tensors.put("pooler_output", o.pooledOutput());
                for (int i = 0; i < o.hiddenStates().size(); i++) {
                    tensors.put("hidden_states." + i, o.hiddenStates().get(i));
                }
            }
        }
        SafetensorsWriter.write(out, tensors);
        System.out.println("wrote " + out + ": " + String.join(", ", tensors.keySet()));
        return 0;
    }

    /** "t5" or "clip", or a one-line error. */
    static String kind(String model) {
        String m = model.toLowerCase(java.util.Locale.ROOT);
        if (!m.equals("t5") && !m.equals("clip")) {
            throw new IllegalArgumentException("model '" + model + "': expected t5 or clip");
        }
        return m;
    }
}
