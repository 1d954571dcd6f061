package dev.anyrefill.cli;

import dev.anyrefill.pipeline.Stages;
import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.dit.LoraMode;
import dev.anyrefill.dit.Loras;
import dev.anyrefill.kernels.Backends;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.lora.LoraFile;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The options that say which transformer to run: --model (any layout) and its --lora files. */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "FILE",
            description = "FLUX transformer checkpoint: BFL, diffusers or ComfyUI layout; a file, index or folder.")
    Path model;

    @Option(names = "--lora", paramLabel = "FILE[:WEIGHT]",
            description = "A LoRA (BFL, PEFT/diffusers or kohya layout) with its weight (default 1); repeatable, "
                    + "e.g. --lora age.safetensors:0.8 --lora gender.safetensors:0.6.")
    List<String> loras = new ArrayList<>();

    @Option(names = "--lora-mode", defaultValue = "runtime", paramLabel = "MODE",
            description = "merged (W0 + s B A copied once per touched layer, F32) or runtime (unmerged, "
                    + "two thin matmuls per layer; default: ${DEFAULT-VALUE}).")
    String loraMode;

    @Option(names = "--backend", defaultValue = Backends.JAVA, paramLabel = "NAME",
            description = "Where the arithmetic runs: java (default) or tornado (TornadoVM: needs TORNADOVM_HOME "
                    + "and the kernels-tornado module, see docs/tornadovm.md).")
    String backend;

    /** A model with its checkpoint and LoRA files, which stay open (mapped) while it is used. */
    record Loaded(FluxCheckpoint checkpoint, List<LoraFile> loraFiles, FluxModel model) implements AutoCloseable {
        @Override
        public void close() {
            Backends.release(model.kernels());
            loraFiles.forEach(LoraFile::close);
            checkpoint.close();
        }
    }

    /** Opens the checkpoint, builds the model on the chosen backend's kernels and applies the LoRAs. */
    Loaded load(Stages stages, PrintStream out) {
        LoraMode mode = mode();
        Kernels kernels = Backends.byName(backend);
        List<Loras.Weighted> weighted = new ArrayList<>();
        FluxCheckpoint checkpoint = stages.time("open checkpoint", () -> FluxCheckpoint.open(model));
        List<LoraFile> files = new ArrayList<>();
        try {
            FluxModel flux = stages.time("load model", () -> new FluxModel(checkpoint, kernels));
            out.println("model: " + model + " (" + checkpoint.layout().name().toLowerCase(Locale.ROOT) + " layout; "
                    + checkpoint.config() + ")");
            checkpoint.warnings().forEach(w -> System.err.println("anyrefill: warning: " + w));
            if (!loras.isEmpty()) {
                stages.time("load LoRAs", () -> {
                    for (String spec : loras) {
                        Spec s = Spec.parse(spec);
                        LoraFile f = LoraFile.open(s.path());
                        files.add(f);
                        weighted.add(new Loras.Weighted(f, s.weight()));
                        out.println("lora: " + Inspectors.loraSummary(f) + ", weight " + s.weight() + ", scale "
                                + scales(f, s.weight()));
                    }
                    out.println(Loras.apply(flux, weighted, mode));
                });
            }
            return new Loaded(checkpoint, files, flux);
        } catch (RuntimeException e) {
            files.forEach(LoraFile::close);
            checkpoint.close();
            throw e;
        }
    }

    /** The files this model reads (an output must be none of them). */
    Path[] inputPaths() {
        List<Path> paths = new ArrayList<>();
        paths.add(model);
        loras.forEach(l -> paths.add(Spec.parse(l).path()));
        return paths.toArray(Path[]::new);
    }

    private LoraMode mode() {
        return LoraMode.fromName(loraMode);
    }

    private static String scales(LoraFile f, double weight) {
        return f.modules().stream().map(m -> m.scale(weight)).distinct().map(d -> String.format(Locale.ROOT, "%.4g", d))
                .toList().toString().replaceAll("[\\[\\]]", "");
    }

    /** FILE[:WEIGHT]; a colon followed by something that is not a number belongs to the file name. */
    record Spec(Path path, double weight) {
        static Spec parse(String spec) {
            int colon = spec.lastIndexOf(':');
            if (colon > 0) {
                try {
                    double w = Double.parseDouble(spec.substring(colon + 1));
                    if (!Double.isFinite(w)) {
                        throw new IllegalArgumentException("--lora " + spec + ": the weight must be a finite number");
                    }
                    return new Spec(Path.of(spec.substring(0, colon)), w);
                } catch (NumberFormatException e) {
                    // not a weight: part of the path, unless the path without it is the file
                    Path before = Path.of(spec.substring(0, colon));
                    if (!java.nio.file.Files.exists(Path.of(spec)) && java.nio.file.Files.isRegularFile(before)) {
                        throw new IllegalArgumentException("--lora " + spec + ": '" + spec.substring(colon + 1)
                                + "' after the colon is not a weight (a number, e.g. " + before + ":0.8)");
                    }
                }
            }
            return new Spec(Path.of(spec), 1.0);
        }
    }
}
