package dev.anyrefill.cli;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.Pixels;
import dev.anyrefill.image.PngText;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.weights.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code anyrefill vae encode|decode} run in-process on the golden tiny AutoEncoder. */
class VaeCommandTest {
    @TempDir
    Path tmp;

    private final String ae = Golden.tiny("ae.safetensors").toString();

    @Test
    void encodeFromTheCommandLineReproducesTheReference() {
        Path z = tmp.resolve("z.safetensors");
        assertEquals(0, Main.run("vae", "encode", Golden.tiny("canvas.png").toString(), "--ae", ae, "--out", z.toString()));
        try (SafetensorsFile out = SafetensorsFile.open(z); SafetensorsFile expected = Golden.expected()) {
            Golden.assertClose("cli vae encode canvas.png", out.get("z"), expected.get("vae.encoded"));
        }
    }

    @Test
    void decodeFromTheCommandLineWritesTheReferenceImage() throws IOException {
        Path png = tmp.resolve("decoded.png");
        assertEquals(0, Main.run("vae", "decode", Golden.tiny("expected.safetensors").toString(),
                "--tensor", "vae.encoded", "--ae", ae, "--out", png.toString()));
        try (SafetensorsFile expected = Golden.expected()) {
            Pixels ref = ImageFiles.toPixels(expected.get("vae.decoded").toF32());
            Pixels got = ImageFiles.readRgb(png);
            int maxDiff = 0;
            int differ = 0;
            for (int i = 0; i < ref.data().length; i++) {
                int d = Math.abs((got.data()[i] & 0xFF) - (ref.data()[i] & 0xFF));
                maxDiff = Math.max(maxDiff, d);
                differ += d == 0 ? 0 : 1;
            }
            // float32 vs the float64 reference can move a value across an integer boundary
            System.out.printf("cli vae decode vs vae.decoded as 8-bit: %d of %d bytes differ, max by %d (tolerance 1)%n",
                    differ, ref.data().length, maxDiff);
            assertTrue(maxDiff <= 1, "decoded PNG within one grey level: " + maxDiff);
        }
        assertTrue(PngText.read(Files.readAllBytes(png)).get("Software").startsWith("anyrefill-jvm"));
    }

    @Test
    void encodeThenDecodeRoundTripsThroughFiles() {
        Path z = tmp.resolve("z.safetensors");
        Path png = tmp.resolve("out.webp");
        assertEquals(0, Main.run("vae", "encode", Golden.tiny("canvas.png").toString(), "--ae", ae,
                "--out", z.toString(), "--tile", "8", "--tile-overlap", "4"));
        assertEquals(0, Main.run("vae", "decode", z.toString(), "--ae", ae, "--out", png.toString()));
        assertEquals(128, ImageFiles.readRgb(png).width());
    }

    @Test
    void unreadableImageExitsTwoWithOneLine() throws IOException {
        Path broken = tmp.resolve("broken.png");
        Files.write(broken, new byte[]{1, 2, 3, 4});
        String err = runCapturingErr(2, "vae", "encode", broken.toString(), "--ae", ae, "--out", tmp.resolve("z.safetensors").toString());
        assertTrue(err.contains("broken.png") && err.contains("cannot decode") && err.strip().lines().count() == 1, err);
        assertTrue(Files.notExists(tmp.resolve("z.safetensors")), "no output for a failed command");
    }

    @Test
    void imageSidesNotMultiplesOfEightAreRefused() {
        Path odd = tmp.resolve("odd.png");
        ImageFiles.writePixels(odd, new Pixels(12, 20, 3, new byte[12 * 20 * 3]), java.util.Map.of());
        String err = runCapturingErr(2, "vae", "encode", odd.toString(), "--ae", ae, "--out", tmp.resolve("z.safetensors").toString());
        assertTrue(err.contains("odd.png") && err.contains("multiples of 8"), err);
    }

    @Test
    void missingLatentTensorIsNamed() {
        String err = runCapturingErr(2, "vae", "decode", Golden.tiny("expected.safetensors").toString(),
                "--ae", ae, "--out", tmp.resolve("x.png").toString());
        assertTrue(err.contains("no tensor 'z'"), err);
    }

    @Test
    void memoryProbeRunsAtFluxWidthsOnASmallImage() {
        // shape-only: the buffers of a FLUX-width decode of 32x64 pixels, no arithmetic
        PrintStream old = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true));
        int code;
        try {
            code = Main.run("vae", "memory", "--height", "32", "--width", "64", "--shape-only");
        } finally {
            System.setOut(old);
        }
        String out = buffer.toString();
        System.out.print(out);
        assertEquals(0, code, out);
        assertTrue(out.contains("decoded [3, 32, 64]") && out.contains("peak live heap above baseline"), out);
    }

    private static String runCapturingErr(int expectedCode, String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buffer, true));
        int code;
        try {
            code = Main.run(args);
        } finally {
            System.setErr(old);
        }
        String err = buffer.toString();
        System.out.println("stderr: " + err.strip());
        assertEquals(expectedCode, code, err);
        return err;
    }
}
