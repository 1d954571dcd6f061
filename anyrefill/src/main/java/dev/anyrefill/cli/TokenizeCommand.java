package dev.anyrefill.cli;

import dev.anyrefill.text.tokenizer.ClipTokenizer;
import dev.anyrefill.text.tokenizer.T5Tokenizer;
import dev.anyrefill.text.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** Prints the token ids of a text, as FLUX's T5 or CLIP tokenizer makes them. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print a text's token ids (a JSON array) from T5's or CLIP's tokenizer.")
final class TokenizeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "t5|clip", description = "which tokenizer")
    String model;

    @Parameters(index = "1", paramLabel = "TEXT", description = "the text to tokenize")
    String text;

    @Option(names = "--tokenizer", required = true, paramLabel = "DIR",
            description = "tokenizer folder: tokenizer_2/ (spiece.model) for t5, tokenizer/ (vocab.json, merges.txt) for clip")
    Path tokenizer;

    @Option(names = "--max-length", paramLabel = "N",
            description = "truncate and pad to N ids, as the pipeline does (FLUX: 512 for t5, 77 for clip)")
    Integer maxLength;

    @Override
    public Integer call() {
        try (Tokenizer t = open(model, tokenizer)) {
            int[] ids = maxLength == null ? t.encode(text) : t.encode(text, maxLength).ids();
            System.out.println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(", ", "[", "]")));
        }
        return 0;
    }

    static Tokenizer open(String model, Path dir) {
        return switch (TextCommand.kind(model)) {
            case "t5" -> T5Tokenizer.open(dir);
            default -> ClipTokenizer.open(dir);
        };
    }
}
