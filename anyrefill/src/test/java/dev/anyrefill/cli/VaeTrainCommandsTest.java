package dev.anyrefill.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.training.SyntheticPhotos;
import dev.anyrefill.weights.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code vae train-step} against BFL's autograd (testdata/golden/vae-train), and {@code vae
 * train} on small synthetic images: the held-out reconstruction error falls, the result loads
 * in {@code vae encode}, a resumed run ends in the same bytes, bad inputs are one-line errors.
 */
class VaeTrainCommandsTest {
    /** The held-out MSE after 40 steps must be below this fraction of the MSE before training. */
    private static final double MAX_MSE_RATIO = 0.8;

    @TempDir
    Path tmp;

    @Test
    void trainStepWritesTheGoldenLossMomentsReconstructionsAndGradients() {
        Path dir = Golden.dir().resolve("vae-train");
        Path out = tmp.resolve("step.safetensors");
        CliRun r = CliRun.of("vae", "train-step", "--ae", dir.resolve("ae.safetensors").toString(), "--inputs",
                dir.resolve("batch.safetensors").toString(), "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        try (SafetensorsFile got = SafetensorsFile.open(out);
             SafetensorsFile ref = SafetensorsFile.open(dir.resolve("expected.safetensors"))) {
            assertEquals(ref.names(), got.names(), "loss, rec, kl, moments, x_rec and a grad.PARAM per parameter");
            double worst = 0;
            for (String name : ref.names()) {
                worst = Math.max(worst, dev.anyrefill.tensor.Compare.relativeError(got.get(name).toF32(),
                        ref.get(name).toF32()));
            }
            System.out.printf("golden vae train-step: %d tensors, worst max|got-ref|/rms(ref) %.3e (tolerance 1e-3)%n",
                    ref.names().size(), worst);
            assertTrue(worst < Golden.TOLERANCE, "worst " + worst);
        }
    }

    private static double[] toDoubles(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    private CliRun train(Path images, Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("vae", "train", "--images", images.toString(), "--out", out.toString(),
                "--size", "32", "--batch", "2", "--lr", "1e-3", "--validation-split", "0.2"));
        args.addAll(List.of(extra));
        return CliRun.of(args.toArray(String[]::new));
    }

    /** What 40 steps must gain in reconstruction PSNR over the untrained AutoEncoder (1.9 dB measured). */
    private static final double MIN_EVAL_GAIN_DB = 1.0;

    private Path images() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("images"));
        SyntheticPhotos.write(dir, 10, 48, 11);
        return dir;
    }

    @Test
    void trainingLowersTheHeldOutErrorAndTheResultEncodes() throws IOException {
        Path out = tmp.resolve("run/ae.safetensors");
        CliRun r = train(images(), out, "--steps", "40", "--validate-every", "40", "--sample-every", "40");
        assertEquals(0, r.exitCode(), r.err());
        List<String> lines = Files.readAllLines(tmp.resolve("run/ae.metrics.jsonl"), StandardCharsets.UTF_8);
        JsonObject first = JsonParser.parseString(lines.getFirst()).getAsJsonObject();
        JsonObject last = JsonParser.parseString(lines.getLast()).getAsJsonObject();
        double before = first.get("val_loss").getAsDouble();
        double after = last.get("val_loss").getAsDouble();
        System.out.printf("vae train: held-out MSE %.4f before, %.4f after 40 steps: ratio %.3f (must be below %.2f)%n",
                before, after, after / before, MAX_MSE_RATIO);
        assertTrue(after < MAX_MSE_RATIO * before, before + " -> " + after);
        assertTrue(Files.exists(tmp.resolve("run/ae-reconstructions/step000040.png")));

        // vae eval: whole images, clamped, PSNR over all pixels; well above the untrained model's
        CliRun eval = CliRun.of("vae", "eval", "--ae", out.toString(), "--images", tmp.resolve("images").toString());
        assertEquals(0, eval.exitCode(), eval.err());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("PSNR ([0-9.]+) dB \\(MSE ([0-9.]+)").matcher(eval.out());
        assertTrue(m.find(), eval.out());
        double psnr = Double.parseDouble(m.group(1));
        double untrained = 10 * Math.log10(4 / before);
        System.out.printf("vae eval after 40 steps: %.2f dB over the 10 images; held-out before training %.2f dB "
                + "(must gain at least %.1f dB)%n", psnr, untrained, MIN_EVAL_GAIN_DB);
        assertEquals(10 * Math.log10(4 / Double.parseDouble(m.group(2))), psnr, 0.01, "PSNR = 10 log10(4 / MSE)");
        assertTrue(psnr > untrained + MIN_EVAL_GAIN_DB, eval.out());

        Path z = tmp.resolve("z.safetensors");
        CliRun enc = CliRun.of("vae", "encode", tmp.resolve("images/photo-00.png").toString(), "--ae", out.toString(),
                "--out", z.toString());
        assertEquals(0, enc.exitCode(), enc.err());
        assertTrue(enc.out().contains("z [16, 6, 6]"), enc.out());
        try (SafetensorsFile ae = SafetensorsFile.open(out); SafetensorsFile latent = SafetensorsFile.open(z)) {
            float scale = Float.parseFloat(ae.metadata().get("anyrefill.scale_factor"));
            float[] v = latent.get("z").toF32().data();
            double mean = java.util.Arrays.stream(toDoubles(v)).average().orElseThrow();
            double std = Math.sqrt(java.util.Arrays.stream(toDoubles(v)).map(x -> (x - mean) * (x - mean)).average().orElseThrow());
            System.out.printf("vae train: measured latent scale %.4f; an encoded training image's latent: mean %.3f, "
                    + "std %.3f (want about 0 and 1)%n", scale, mean, std);
            assertTrue(scale > 0 && Float.isFinite(scale));
            assertTrue(std > 0.5 && std < 2 && Math.abs(mean) < 1, "latents scaled to about unit variance");
        }
    }

    @Test
    void resumingGivesTheSameBytes() throws IOException {
        Path images = images();
        Path whole = tmp.resolve("a/ae.safetensors");
        assertEquals(0, train(images, whole, "--steps", "4", "--save-every", "2", "--validate-every", "2").exitCode());
        Path resumed = tmp.resolve("b/ae.safetensors");
        CliRun r = train(images, resumed, "--steps", "4", "--save-every", "2", "--validate-every", "2", "--resume",
                tmp.resolve("a/ae-step000002.safetensors").toString());
        assertEquals(0, r.exitCode(), r.err());
        assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(resumed), "AutoEncoder after 2 + 2 steps vs 4");
        System.out.println("vae train: the resumed run's AutoEncoder equals the uninterrupted run's, byte for byte");
    }

    @Test
    void badInputsAreOneLineErrors() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        CliRun r = train(empty, tmp.resolve("x.safetensors"), "--steps", "1");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("no images"), r.err());

        Path images = images();
        r = train(images, tmp.resolve("x.safetensors"), "--steps", "1", "--ch", "48");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("level channels 48 are not a multiple of 32"), r.err());

        r = CliRun.of("vae", "train", "--images", images.toString(), "--out", tmp.resolve("x.safetensors").toString(),
                "--size", "64", "--steps", "1");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("photo-00.png: the image is 48x48, smaller than --size 64"), r.err());
    }
}
