package dev.anyrefill.cli;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.kernels.Backends;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.vae.AutoEncoder;
import dev.anyrefill.vae.AutoEncoderParams;
import dev.anyrefill.vae.Tiling;
import dev.anyrefill.weights.Checkpoints;
import dev.anyrefill.weights.SafetensorsFile;
import dev.anyrefill.weights.SafetensorsWriter;
import dev.anyrefill.weights.TensorSource;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code anyrefill vae encode|decode|memory|train-step|train|eval}: the FLUX AutoEncoder on its own, and its training. */
@Command(name = "vae", mixinStandardHelpOptions = true,
        description = "Encode images to FLUX latents and decode them back with the AutoEncoder (ae.safetensors).",
        subcommands = {VaeCommand.Encode.class, VaeCommand.Decode.class, VaeMemoryCommand.class,
                VaeTrainStepCommand.class, VaeTrainCommand.class, VaeEvalCommand.class})
final class VaeCommand implements Runnable {
    @Override
    public void run() {
        picocli.CommandLine.usage(this, System.out);
    }

    /** Options every AutoEncoder command shares. */
    static final class AeOptions {
        @Option(names = "--ae", required = true, paramLabel = "FILE", description = "AutoEncoder checkpoint (BFL names, e.g. ae.safetensors).")
        Path ae;

        @Option(names = "--scale-factor", paramLabel = "S", description = "Latent scale (default: 0.3611, FLUX.1).")
        Float scaleFactor;

        @Option(names = "--shift-factor", paramLabel = "S", description = "Latent shift (default: 0.1159, FLUX.1).")
        Float shiftFactor;

        @ArgGroup(exclusive = false)
        TilingOptions tiling;


        AutoEncoder open(TensorSource source) {
            AutoEncoderParams params = AutoEncoderParams.infer(source);
            params = params.withFactors(scaleFactor != null ? scaleFactor : params.scaleFactor(),
                    shiftFactor != null ? shiftFactor : params.shiftFactor());
            return new AutoEncoder(source, params, Backends.java());
        }

        Tiling tiling() {
            return tiling == null ? null : tiling.toTiling();
        }
    }

    /** {@code --tile N [--tile-overlap M]}: tiled processing for large canvases. */
    static final class TilingOptions {
        @Option(names = "--tile", required = true, paramLabel = "N",
                description = "Process in overlapping tiles of N x N latents (8N x 8N pixels) to bound memory; e.g. 32.")
        int tile;

        @Option(names = "--tile-overlap", paramLabel = "M", defaultValue = "-1",
                description = "Overlap of neighbouring tiles in latents (default: N/4).")
        int overlap;

        Tiling toTiling() {
            return new Tiling(tile, overlap < 0 ? tile / 4 : overlap);
        }
    }

    @Command(name = "encode", mixinStandardHelpOptions = true,
            description = "Encode an image (PNG, JPEG, WebP; sides multiples of 8) to a latent: tensor 'z' [16, H/8, W/8].")
    static final class Encode implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "IMAGE")
        Path image;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output safetensors file.")
        Path out;

        @Option(names = "--tensor", defaultValue = "z", paramLabel = "NAME", description = "Name of the written tensor (default: z).")
        String tensor;

        @Mixin
        AeOptions options;

        @Override
        public Integer call() {
            Outputs.requireNotInput(out, image, options.ae);
            Outputs.requireWritable(out);
            try (TensorSource source = Checkpoints.open(options.ae)) {
                AutoEncoder ae = options.open(source);
                Tensor pixels = ImageFiles.readImage(image);
                ImageFiles.requireMultipleOf(image, pixels, ae.params().downscale());
                Tiling tiling = options.tiling();
                Tensor z = tiling == null ? ae.encode(pixels) : tiling.encode(ae, pixels);
                Map<String, Tensor> tensors = new LinkedHashMap<>();
                tensors.put(tensor, z);
                SafetensorsWriter.write(out, tensors, Map.of("source", image.getFileName().toString(),
                        "ae", options.ae.getFileName().toString()), dev.anyrefill.tensor.DType.F32);
                System.out.println(out + ": " + tensor + " " + java.util.Arrays.toString(z.shape()));
            }
            return 0;
        }
    }

    @Command(name = "decode", mixinStandardHelpOptions = true,
            description = "Decode a latent (tensor 'z' [16, h, w] of a safetensors file) to an image of 8h x 8w pixels.")
    static final class Decode implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "LATENT")
        Path latent;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output image (.png, .jpg, .webp).")
        Path out;

        @Option(names = "--tensor", defaultValue = "z", paramLabel = "NAME", description = "Tensor to decode (default: z).")
        String tensor;

        @Mixin
        AeOptions options;

        @Override
        public Integer call() {
            Outputs.requireNotInput(out, latent, options.ae);
            Outputs.requireWritable(out);
            Tensor z;
            try (SafetensorsFile file = SafetensorsFile.open(latent)) {
                if (!file.contains(tensor)) {
                    String names = String.join(", ", file.names().stream().limit(6).toList())
                            + (file.names().size() > 6 ? ", ..." : "");
                    throw new IllegalArgumentException(latent + ": no tensor '" + tensor + "' (has " + names
                            + "); pick one with --tensor");
                }
                z = file.get(tensor).toF32();
            }
            if (z.rank() == 4 && z.dim(0) == 1) {
                z = z.reshape(z.dim(1), z.dim(2), z.dim(3)); // a batch of one
            }
            try (TensorSource source = Checkpoints.open(options.ae)) {
                AutoEncoder ae = options.open(source);
                if (z.rank() != 3 || z.dim(0) != ae.params().zChannels()) {
                    throw new IllegalArgumentException(latent + ": tensor '" + tensor + "' has shape "
                            + java.util.Arrays.toString(z.shape()) + ", expected [" + ae.params().zChannels() + ", h, w]");
                }
                Tiling tiling = options.tiling();
                Tensor image = tiling == null ? ae.decode(z) : tiling.decode(ae, z);
                Map<String, String> text = new LinkedHashMap<>();
                if (out.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png")) {
                    text.put("Software", "anyrefill-jvm " + Main.VERSION);
                    text.put("ae", options.ae.getFileName().toString());
                }
                ImageFiles.writeImage(out, image, text);
                System.out.println(out + ": " + image.dim(2) + "x" + image.dim(1));
            }
            return 0;
        }
    }
}
