package dev.anyrefill.cli;

import dev.anyrefill.dataset.Scenes;
import dev.anyrefill.image.ImageFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code anyrefill dataset scenes}: procedural images for the miniature models' training and evaluation. */
@Command(name = "dataset", mixinStandardHelpOptions = true, description = "Make procedural image datasets.",
        subcommands = {DatasetCommand.ScenesCommand.class, DatasetCommand.PromptsCommand.class})
final class DatasetCommand implements Runnable {
    /** Evaluation scenes have seeds from here on; training scenes below it: the two never overlap. */
    static final long EVALUATION_SEEDS = 1_000_000_000L;

    @Override
    public void run() {
        picocli.CommandLine.usage(this, System.out);
    }

    @Command(name = "scenes", mixinStandardHelpOptions = true,
            description = "Procedural landscapes (sky, sun or moon, clouds, hills or mountains, water or a meadow with "
                    + "trees and houses), one PNG per seed: scene-SEED.png.")
    static final class ScenesCommand implements Callable<Integer> {
        @Option(names = "--count", required = true, paramLabel = "N", description = "Number of scenes.")
        int count;

        @Option(names = "--size", defaultValue = "128", paramLabel = "N|HxW",
                description = "Side of each square scene, or HxW for another shape, e.g. 128x256 (default: ${DEFAULT-VALUE}).")
        String size;

        @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "First seed within the split (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--split", defaultValue = "train", paramLabel = "train|eval",
                description = "train: seeds S..S+N-1; eval: seeds 10^9 + S.., never those of training (default: ${DEFAULT-VALUE}).")
        String split;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "The folder to write.")
        Path out;

        @Option(names = "--diptychs", defaultValue = "0", paramLabel = "F",
                description = "Fraction of scenes drawn as one half-width scene twice, side by side (a fixed choice per seed; "
                        + "default: ${DEFAULT-VALUE}).")
        double diptychs;

        @Override
        public Integer call() throws Exception {
            if (!(diptychs >= 0 && diptychs <= 1)) {
                throw new IllegalArgumentException("--diptychs " + diptychs + ": a fraction from 0 to 1");
            }
            if (count < 1 || seed < 0) {
                throw new IllegalArgumentException("--count must be at least 1 and --seed at least 0");
            }
            long first = switch (split) {
                case "train" -> seed;
                case "eval" -> EVALUATION_SEEDS + seed;
                default -> throw new IllegalArgumentException("--split '" + split + "': train or eval");
            };
            if (split.equals("train") && seed + count > EVALUATION_SEEDS) {
                throw new IllegalArgumentException("--seed " + seed + " --count " + count + ": training seeds stay below "
                        + EVALUATION_SEEDS + ", where evaluation seeds begin");
            }
            if (Files.exists(out) && !Files.isDirectory(out)) {
                throw new IllegalArgumentException(out + ": --out must be a folder");
            }
            dev.anyrefill.pipeline.LpgImages.Size hw = size.contains("x") ? dev.anyrefill.pipeline.LpgImages.Size.parse(size)
                    : new dev.anyrefill.pipeline.LpgImages.Size(Integer.parseInt(size), Integer.parseInt(size));
            Files.createDirectories(out);
            int doubled = 0;
            for (long s = first; s < first + count; s++) {
                boolean diptych = Scenes.isDiptych(s, diptychs);
                doubled += diptych ? 1 : 0;
                ImageFiles.writePixels(out.resolve("scene-" + s + ".png"), diptych ? Scenes.diptych(hw.height(), hw.width(), s)
                        : Scenes.render(hw.height(), hw.width(), s), Map.of("Software", "anyrefill-jvm " + Main.VERSION,
                        "anyrefill.scene-seed", Long.toString(s), "anyrefill.diptych", Boolean.toString(diptych)));
            }
            System.out.println("wrote " + count + " " + hw.width() + "x" + hw.height() + " scenes (" + split + " seeds " + first + " to "
                    + (first + count - 1) + (diptychs > 0 ? ", " + doubled + " of them diptychs" : "") + ") into " + out);
            return 0;
        }
    }

    @Command(name = "prompts", mixinStandardHelpOptions = true,
            description = "Fixed random prompt embeddings for models without a text encoder (the miniature): "
                    + "prompt-K.safetensors with txt [TOKENS, CONTEXT] and vec [VEC], standard normal, seeded.")
    static final class PromptsCommand implements Callable<Integer> {
        @Option(names = "--count", defaultValue = "1", paramLabel = "N", description = "Number of prompts (default: ${DEFAULT-VALUE}).")
        int count;

        @Option(names = "--tokens", defaultValue = "16", paramLabel = "L", description = "Text tokens per prompt (default: ${DEFAULT-VALUE}).")
        int tokens;

        @Option(names = "--context", defaultValue = "64", paramLabel = "N", description = "Width of txt, the model's context (default: ${DEFAULT-VALUE}).")
        int context;

        @Option(names = "--vec", defaultValue = "32", paramLabel = "N", description = "Width of vec (default: ${DEFAULT-VALUE}).")
        int vec;

        @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seed of prompt 0; prompt K uses S + K (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "The folder to write.")
        Path out;

        @Override
        public Integer call() throws Exception {
            if (count < 1 || tokens < 1 || context < 1 || vec < 1) {
                throw new IllegalArgumentException("--count, --tokens, --context and --vec must be positive");
            }
            Files.createDirectories(out);
            for (int k = 0; k < count; k++) {
                java.util.Map<String, dev.anyrefill.tensor.Tensor> t = new java.util.LinkedHashMap<>();
                t.put("txt", dev.anyrefill.sampler.TorchRandom.randnFloat32(seed + k, tokens, context));
                t.put("vec", dev.anyrefill.sampler.TorchRandom.randnFloat32(seed + k + (1L << 32), vec));
                dev.anyrefill.weights.SafetensorsWriter.write(out.resolve("prompt-" + k + ".safetensors"), t,
                        Map.of("anyrefill.prompt", "random, seed " + (seed + k)), dev.anyrefill.tensor.DType.F32);
            }
            System.out.println("wrote " + count + " prompt embeddings (txt [" + tokens + ", " + context + "], vec [" + vec
                    + "]) into " + out);
            return 0;
        }
    }
}
