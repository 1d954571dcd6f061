package dev.anyrefill.cli;

import dev.anyrefill.tensor.DType;
import dev.anyrefill.weights.Checkpoints;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.FluxLayout;
import dev.anyrefill.weights.TensorSource;
import dev.anyrefill.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** What a checkpoint holds: layout, inferred config, parameter count, types, bytes. Reads headers only. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Describe safetensors checkpoints without reading their tensor data.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "FILE", description = "safetensors file, index or folder")
    List<Path> files;

    @Option(names = "--tensors", description = "List every tensor's name, dtype and shape.")
    boolean tensors;

    @Option(names = "--check", description = "Also read every value and report tensors holding NaN or infinity "
            + "(a pass over the whole file: reads it from disk once).")
    boolean check;

    @Override
    public Integer call() {
        for (Path file : files) {
            try (TensorSource source = Checkpoints.open(file)) {
                System.out.println(file);
                System.out.println("  format: safetensors, " + source.names().size() + " tensors");
                describeContents(source);
                if (isFluxTransformer(source)) {
                    FluxCheckpoint flux = FluxCheckpoint.of(source);
                    System.out.println("  layout: " + flux.layout().name().toLowerCase(java.util.Locale.ROOT));
                    System.out.println("  model: FLUX transformer"
                            + (flux.config().inChannels() == 384 ? " (Fill: 384 input channels)" : ""));
                    System.out.println("  config: " + flux.config());
                } else {
                    Inspectors.describe(source, System.out);
                }
                if (check && !checkFinite(source)) {
                    throw new IllegalArgumentException(file + ": holds NaN or infinity (see above)");
                }
                if (tensors) {
                    for (String name : source.names()) {
                        Tensor t = source.get(name);
                        System.out.println("    " + name + " " + t.dtype() + " " + Arrays.toString(t.shape()));
                    }
                }
            }
        }
        return 0;
    }

    /** Every tensor's values, in its stored type: prints the non-finite ones and the read rate. */
    private static boolean checkFinite(TensorSource source) {
        long start = System.nanoTime();
        long bytes = 0;
        int bad = 0;
        for (String name : source.names()) {
            Tensor t = source.get(name);
            bytes += t.size() * t.dtype().bytes();
            long at = dev.anyrefill.tensor.Finite.firstNonFinite(t);
            if (at >= 0) {
                bad++;
                System.out.println("  not finite: " + name + " (first at element " + at + ")");
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(java.util.Locale.ROOT, "  check: %d of %d tensors hold NaN or infinity; read %.1f MB in %.2f s "
                + "(%.2f GB/s)%n", bad, source.names().size(), bytes / 1e6, seconds, bytes / 1e9 / Math.max(seconds, 1e-9));
        return bad == 0;
    }

    private static boolean isFluxTransformer(TensorSource source) {
        return source.contains("img_in.weight") || source.contains("x_embedder.weight")
                || source.names().stream().anyMatch(n -> n.startsWith(FluxLayout.COMFYUI_PREFIX + "img_in"));
    }

    private static void describeContents(TensorSource source) {
        long params = 0;
        Map<DType, Long> bytes = new EnumMap<>(DType.class);
        for (String name : source.names()) {
            Tensor t = source.get(name); // a view: no data is read
            params += t.size();
            bytes.merge(t.dtype(), t.size() * t.dtype().bytes(), Long::sum);
        }
        long total = bytes.values().stream().mapToLong(Long::longValue).sum();
        System.out.printf("  parameters: %,d (%.3f B)%n", params, params / 1e9);
        System.out.println("  dtypes: " + bytes.entrySet().stream()
                .map(e -> e.getKey() + " " + String.format("%,d", e.getValue()) + " bytes").toList());
        System.out.printf("  bytes: %,d%n", total);
    }
}
