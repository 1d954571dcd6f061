package dev.anyrefill.cli;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.text.PromptEncoder;
import dev.anyrefill.text.TextEncoderPaths;
import dev.anyrefill.weights.SafetensorsWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** A prompt to FLUX's text conditioning: the embeddings file the refill command reads. */
@Command(name = "encode-prompt", mixinStandardHelpOptions = true,
        description = "Encode a prompt with T5-XXL and CLIP-L; write txt [512, 4096] and vec [768] as safetensors (F32).")
final class EncodePromptCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "PROMPT", description = "the prompt")
    String prompt;

    @Option(names = "--text-encoders", paramLabel = "DIR",
            description = "a FLUX repo (text_encoder/, text_encoder_2/, tokenizer/, tokenizer_2/), "
                    + "or a folder of clip_l*.safetensors and t5xxl*.safetensors (then give the tokenizers)")
    Path dir;

    @Option(names = "--t5", paramLabel = "FILE_OR_DIR", description = "T5-XXL encoder weights (overrides DIR)")
    Path t5;

    @Option(names = "--clip", paramLabel = "FILE_OR_DIR", description = "CLIP-L text model weights (overrides DIR)")
    Path clip;

    @Option(names = "--t5-tokenizer", paramLabel = "DIR", description = "folder with spiece.model (overrides DIR)")
    Path t5Tokenizer;

    @Option(names = "--clip-tokenizer", paramLabel = "DIR", description = "folder with vocab.json and merges.txt (overrides DIR)")
    Path clipTokenizer;

    @Option(names = "--t5-length", paramLabel = "N", defaultValue = "512",
            description = "T5 sequence length (default ${DEFAULT-VALUE}, FLUX.1-dev's; FLUX.1-schnell uses 256)")
    int t5Length;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "output safetensors file")
    Path out;

    @Override
    public Integer call() {
        TextEncoderPaths paths = TextEncoderPaths.resolve(dir, t5, clip, t5Tokenizer, clipTokenizer);
        Outputs.requireNotInput(out, paths.t5(), paths.clip());
        PromptEncoder.Embeddings e = new PromptEncoder(paths, t5Length).encode(Backends.java(), prompt);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("txt", e.txt());
        tensors.put("vec", e.vec());
        SafetensorsWriter.write(out, tensors, Map.of("prompt", prompt), DType.F32);
        System.out.println("wrote " + out + ": txt " + java.util.Arrays.toString(e.txt().shape())
                + ", vec " + java.util.Arrays.toString(e.vec().shape()));
        return 0;
    }

}
