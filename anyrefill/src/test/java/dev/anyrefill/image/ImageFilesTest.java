package dev.anyrefill.image;

import dev.anyrefill.tensor.Compare;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.weights.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageFilesTest {
    @TempDir
    Path tmp;

    @Test
    void canvasReadsExactlyAsTheReference() {
        Tensor canvas = ImageFiles.readImage(Golden.tiny("canvas.png"));
        try (SafetensorsFile expected = Golden.expected()) {
            Tensor ref = expected.get("vae.canvas");
            assertArrayEquals(ref.shape(), canvas.shape());
            double err = Compare.maxAbsDiff(canvas, ref);
            System.out.printf("canvas.png through OpenCV vs vae.canvas: max |diff| = %.1e (tolerance 0, exact)%n", err);
            assertEquals(0.0, err);
        }
    }

    @Test
    void maskIsSoftInZeroOneUnlessBinarized() {
        Tensor mask = ImageFiles.readMask(Golden.tiny("canvas-mask.png"), false);
        assertArrayEquals(new int[]{1, 64, 128}, mask.shape());
        for (long i = 0; i < mask.size(); i++) {
            float v = mask.getFloat(i);
            assertTrue(v >= 0 && v <= 1, "mask value in [0, 1]");
        }
        // the left half (the reference) is never masked
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                assertEquals(0f, mask.get(0, y, x));
            }
        }
        Pixels grey = new Pixels(1, 3, 1, new byte[]{0, (byte) 127, (byte) 128});
        Path file = tmp.resolve("m.png");
        ImageFiles.writePixels(file, grey, Map.of());
        assertArrayEquals(new float[]{0f, 127 / 255f, 128 / 255f}, ImageFiles.readMask(file, false).data());
        assertArrayEquals(new float[]{0f, 0f, 1f}, ImageFiles.readMask(file, true).data());
    }

    @Test
    void decodedImageWritesAsTheReferencePng() {
        // denoised.png is the reference's 8-bit rendering of denoise.image
        try (SafetensorsFile expected = Golden.expected()) {
            Pixels ours = ImageFiles.toPixels(expected.get("denoise.image").toF32());
            Pixels ref = ImageFiles.readRgb(Golden.tiny("denoised.png"));
            int differ = 0;
            int maxDiff = 0;
            for (int i = 0; i < ref.data().length; i++) {
                int d = Math.abs((ours.data()[i] & 0xFF) - (ref.data()[i] & 0xFF));
                differ += d == 0 ? 0 : 1;
                maxDiff = Math.max(maxDiff, d);
            }
            System.out.printf("toPixels(denoise.image) vs denoised.png: %d of %d bytes differ, max by %d (tolerance 0)%n",
                    differ, ref.data().length, maxDiff);
            assertEquals(0, maxDiff);
        }
    }

    @Test
    void pixelsToTensorAndBackLosesAtMostOneLevelAsBflDoes() {
        // (p / 127.5 - 1 + 1) * 127.5 can land just below p in floating point; BFL's .byte()
        // truncates it to p - 1, and so does toPixels (the reference's denoised.png requires it)
        byte[] all = new byte[256 * 3];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) (i / 3);
        }
        Pixels back = ImageFiles.toPixels(ImageFiles.toTensor(new Pixels(1, 256, 3, all)));
        int lost = 0;
        for (int i = 0; i < all.length; i++) {
            int d = (all[i] & 0xFF) - (back.data()[i] & 0xFF);
            assertTrue(d == 0 || d == 1, "at most one level lower");
            lost += d;
        }
        System.out.printf("pixels -> tensor -> pixels: %d of 768 values one level lower (truncation as BFL)%n", lost);
    }

    @Test
    void pngRoundTripIsExactAndCarriesText() throws IOException {
        Tensor canvas = ImageFiles.readImage(Golden.tiny("canvas.png"));
        Map<String, String> text = new LinkedHashMap<>();
        text.put("model", "flux1-fill-dev");
        text.put("seed", "42");
        text.put("prompt", "ein Bild – mit Umlauten und Gedankenstrich"); // not Latin-1: iTXt
        Path file = tmp.resolve("out.png");
        ImageFiles.writeImage(file, canvas, text);
        assertArrayEquals(ImageFiles.toPixels(canvas).data(), ImageFiles.readRgb(file).data(), "PNG is lossless");
        byte[] bytes = Files.readAllBytes(file);
        assertEquals(text, PngText.read(bytes)); // also checks every chunk's CRC
        bytes[40] ^= 1; // inside the first text chunk
        byte[] corrupt = bytes;
        assertThrows(IllegalArgumentException.class, () -> PngText.read(corrupt));
        try (var files = Files.list(tmp)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void jpegAndWebpRoundTrip() {
        Tensor canvas = ImageFiles.readImage(Golden.tiny("canvas.png"));
        for (String name : new String[]{"out.jpg", "out.jpeg", "out.webp"}) {
            Path file = tmp.resolve(name);
            ImageFiles.writeImage(file, canvas);
            Tensor back = ImageFiles.toTensor(ImageFiles.readRgb(file));
            assertArrayEquals(canvas.shape(), back.shape());
            // against what was written: toPixels truncates as BFL, so compare with its pixels
            double err = Compare.maxAbsDiff(back, ImageFiles.toTensor(ImageFiles.toPixels(canvas)));
            System.out.printf("%s round trip: max |diff| = %.3f in [-1, 1] (tolerance %s)%n", name, err,
                    name.endsWith("webp") ? "0, lossless" : "0.5, lossy");
            assertTrue(name.endsWith("webp") ? err == 0 : err < 0.5, name + ": " + err);
        }
    }

    @Test
    void unreadableImageIsOneClearError() throws IOException {
        Path garbage = tmp.resolve("broken.png");
        Files.writeString(garbage, "this is not an image");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageFiles.readImage(garbage));
        assertTrue(e.getMessage().contains("broken.png") && e.getMessage().contains("cannot decode"), e.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> ImageFiles.readImage(tmp.resolve("missing.png")));
        assertTrue(missing.getMessage().contains("missing.png") && missing.getMessage().contains("no such"), missing.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ImageFiles.writeImage(tmp.resolve("x.bmp"),
                Tensor.zeros(3, 16, 16)));
    }

    @Test
    void sizeChecksNameTheFileAndTheSizes() {
        Path img = Golden.tiny("canvas.png");
        Path maskFile = Golden.tiny("target-mask.png");
        Tensor image = ImageFiles.readImage(img);
        Tensor mask = ImageFiles.readMask(maskFile, false); // 64x64 against a 128x64 canvas
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageFiles.requireSameSize(maskFile, mask, img, image));
        assertTrue(e.getMessage().contains("target-mask.png") && e.getMessage().contains("64x64")
                && e.getMessage().contains("128x64"), e.getMessage());
        ImageFiles.requireMultipleOf(img, image, 16);
        IllegalArgumentException odd = assertThrows(IllegalArgumentException.class,
                () -> ImageFiles.requireMultipleOf(img, Tensor.zeros(3, 40, 64), 16));
        assertTrue(odd.getMessage().contains("multiples of 16"), odd.getMessage());
    }
}
