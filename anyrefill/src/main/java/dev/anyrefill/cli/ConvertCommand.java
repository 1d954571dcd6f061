package dev.anyrefill.cli;

import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.SafetensorsFile;
import dev.anyrefill.weights.SafetensorsWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code anyrefill convert}: a safetensors file with every tensor in another floating type
 * (the miniature's F32 training checkpoints to the BF16 files it ships). Tensors stream from
 * the mapped input to the output a chunk at a time, so a file of any size fits; BF16 rounds to
 * nearest even. Metadata is kept, with the source's name added. {@code --prefix param.} takes
 * the F32 weights out of a training state (which also holds AdamW's moments), to start a new
 * phase of training from them.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Write a safetensors file with every tensor converted to F32 or BF16.")
final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE")
    Path in;

    @Option(names = "--dtype", required = true, paramLabel = "f32|bf16", description = "The type to write.")
    String dtype;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The file to write.")
    Path out;

    @Option(names = "--prefix", paramLabel = "P",
            description = "Keep only the tensors whose names start with P, without it (param. takes the weights out of a training state).")
    String prefix;

    @Override
    public Integer call() {
        DType target = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            default -> throw new IllegalArgumentException("--dtype '" + dtype + "': f32 or bf16");
        };
        Outputs.requireNotInput(out, in);
        Outputs.requireWritable(out);
        try (SafetensorsFile file = SafetensorsFile.open(in)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String name : file.names()) {
                if (prefix != null && !name.startsWith(prefix)) {
                    continue;
                }
                Tensor t = file.get(name);
                if (!t.dtype().isFloating()) {
                    throw new IllegalArgumentException(in + ": tensor '" + name + "' is " + t.dtype()
                            + ", not a floating-point type; nothing to convert it to");
                }
                tensors.put(prefix == null ? name : name.substring(prefix.length()), t);
            }
            if (tensors.isEmpty()) {
                throw new IllegalArgumentException(in + ": no tensor name starts with '" + prefix + "'");
            }
            Map<String, String> metadata = new LinkedHashMap<>(file.metadata());
            metadata.put("anyrefill.converted-from", in.getFileName().toString());
            SafetensorsWriter.write(out, tensors, metadata, target);
            System.out.println("wrote " + out + ": " + tensors.size() + " tensors as " + target);
        }
        return 0;
    }
}
