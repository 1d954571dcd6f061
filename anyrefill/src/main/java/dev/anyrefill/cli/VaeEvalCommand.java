package dev.anyrefill.cli;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.training.AutoEncoderTrainer;
import dev.anyrefill.training.ImageFolder;
import dev.anyrefill.vae.AutoEncoder;
import dev.anyrefill.weights.Checkpoints;
import dev.anyrefill.weights.TensorSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code anyrefill vae eval}: how well an AutoEncoder reconstructs a folder of images, as the
 * miniature's README states it: each image through the latent mean and back, clamped to
 * [-1, 1] as an image file would be, PSNR over all pixels of all images (peak to peak 2).
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Reconstruction PSNR of an AutoEncoder on a folder of images (sides multiples of 8).")
final class VaeEvalCommand implements Callable<Integer> {
    @Option(names = "--images", required = true, paramLabel = "DIR", description = "A folder of images (e.g. dataset scenes --split eval).")
    Path images;

    @Mixin
    VaeCommand.AeOptions options;

    @Override
    public Integer call() {
        List<Path> files = ImageFolder.list(images);
        if (files.isEmpty()) {
            throw new IllegalArgumentException(images + ": no images (" + String.join(", ", ImageFolder.EXTENSIONS) + ")");
        }
        try (TensorSource source = Checkpoints.open(options.ae)) {
            AutoEncoder ae = options.open(source);
            double squares = 0;
            long values = 0;
            double worst = Double.POSITIVE_INFINITY;
            for (Path file : files) {
                Tensor x = ImageFiles.readImage(file);
                ImageFiles.requireMultipleOf(file, x, ae.params().downscale());
                float[] in = x.data();
                float[] out = ae.decode(ae.encode(x)).data();
                double sum = 0;
                for (int i = 0; i < in.length; i++) {
                    double d = Math.clamp(out[i], -1f, 1f) - in[i];
                    sum += d * d;
                }
                squares += sum;
                values += in.length;
                worst = Math.min(worst, AutoEncoderTrainer.psnr(sum / in.length));
            }
            System.out.printf(Locale.ROOT, "%s on %d images of %s: PSNR %.2f dB (MSE %.6f in [-1, 1]), worst image %.2f dB%n",
                    options.ae.getFileName(), files.size(), images, AutoEncoderTrainer.psnr(squares / values),
                    squares / values, worst);
        }
        return 0;
    }
}
