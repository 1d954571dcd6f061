package dev.anyrefill.cli;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.Pixels;
import dev.anyrefill.image.PngText;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.weights.SafetensorsFile;
import dev.anyrefill.weights.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The refill command end to end against BFL's reference: the golden tiny model, its images,
 * its text embeddings and noise, 4 steps at guidance 30. The decoded canvas must equal
 * {@code denoise.image} to 2/255 per channel after 8-bit rounding.
 */
class RefillCommandTest {
    /** The tolerance: at most 2 levels of 255 per channel after 8-bit rounding. */
    private static final int MAX_LEVELS = 2;

    @TempDir
    Path tmp;

    private String[] goldenRun(Path out, Path canvas, String... extra) {
        String[] base = {"refill", "--model", Golden.tiny("flux-fill.safetensors").toString(),
                "--ae", Golden.tiny("ae.safetensors").toString(),
                "--reference", Golden.tiny("reference.png").toString(),
                "--target", Golden.tiny("target.png").toString(),
                "--mask", Golden.tiny("target-mask.png").toString(),
                "--prompt-embeddings", Golden.tiny("expected.safetensors").toString(),
                "--noise", Golden.tiny("expected.safetensors").toString(),
                "--steps", "4", "--guidance", "30", "--save-canvas", canvas.toString(), "--out", out.toString()};
        String[] all = Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    private static int maxLevelDifference(Pixels got, Tensor reference) {
        Pixels ref = ImageFiles.toPixels(reference);
        assertEquals(ref.height(), got.height());
        assertEquals(ref.width(), got.width());
        int max = 0;
        for (int i = 0; i < ref.data().length; i++) {
            max = Math.max(max, Math.abs((ref.data()[i] & 0xFF) - (got.data()[i] & 0xFF)));
        }
        return max;
    }

    private void assertCanvasMatches(String what, Path canvas, Path golden, String tensor) {
        try (SafetensorsFile expected = SafetensorsFile.open(golden)) {
            int levels = maxLevelDifference(ImageFiles.readRgb(canvas), expected.get(tensor).toF32());
            System.out.printf("golden %-40s max 8-bit difference = %d/255 (tolerance %d/255)%n", what, levels, MAX_LEVELS);
            assertTrue(levels <= MAX_LEVELS, what + ": " + levels + " levels");
        }
    }

    @Test
    void reproducesTheReferenceDenoisedImage() throws IOException {
        Path out = tmp.resolve("right.png");
        Path canvas = tmp.resolve("canvas.png");
        CliRun run = CliRun.of(goldenRun(out, canvas));
        assertEquals(0, run.exitCode(), run.err());
        assertCanvasMatches("refill --save-canvas vs denoise.image", canvas, Golden.tiny("expected.safetensors"), "denoise.image");
        // the answer is the right half of the decoded canvas
        Pixels right = ImageFiles.readRgb(out);
        Pixels whole = ImageFiles.readRgb(canvas);
        assertEquals(64, right.width());
        assertEquals(whole.get(10, 64 + 7, 1), right.get(10, 7, 1));
        int levels = maxLevelDifference(right, ImageFiles.toTensor(ImageFiles.readRgb(Golden.tiny("denoised-right.png"))));
        System.out.printf("golden refill answer vs denoised-right.png   max 8-bit difference = %d/255 (tolerance %d/255)%n",
                levels, MAX_LEVELS);
        assertTrue(levels <= MAX_LEVELS);
        Map<String, String> text = PngText.read(Files.readAllBytes(out));
        assertEquals("4", text.get("anyrefill.steps"));
        assertEquals("flux-fill.safetensors", text.get("anyrefill.model"));
        assertTrue(text.get("Software").startsWith("anyrefill-jvm"));
        for (String stage : new String[]{"load model", "encode", "denoise 4 steps", "decode", "write"}) {
            assertTrue(run.out().contains(stage), "stage timing '" + stage + "' in: " + run.out());
        }
    }

    @Test
    void reproducesTheReferenceWithAKohyaLora() {
        Path out = tmp.resolve("right.png");
        Path canvas = tmp.resolve("canvas.png");
        CliRun run = CliRun.of(goldenRun(out, canvas, "--lora", Golden.tiny("lora-kohya.safetensors").toString()));
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("applied 60 of 60 LoRA tensors"), run.out());
        assertCanvasMatches("refill --lora kohya vs denoise.image", canvas, Golden.tiny("expected-lora.safetensors"),
                "denoise.image");
    }

    @Test
    void theStitchedCanvasIsTheReferencesCanvas() {
        var images = dev.anyrefill.pipeline.LpgImages.read(Golden.tiny("reference.png"), Golden.tiny("target.png"),
                Golden.tiny("target-mask.png"), null, false);
        var canvas = dev.anyrefill.pipeline.Canvas.of(images.reference(), images.target(), images.targetMask(), false);
        try (SafetensorsFile expected = Golden.expected()) {
            Golden.assertClose("canvas from reference.png | target.png", canvas.image(), expected.get("vae.canvas").toF32(), 1e-7);
        }
        Tensor goldenMask = ImageFiles.readMask(Golden.tiny("canvas-mask.png"), false);
        Golden.assertClose("canvas mask from target-mask.png", canvas.mask(), goldenMask, 1e-7);
    }

    @Test
    void sameInputsAndSeedGiveIdenticalBytes() throws IOException {
        byte[][] outputs = new byte[2][];
        for (int i = 0; i < 2; i++) {
            Path out = tmp.resolve("seeded-" + i + ".png");
            CliRun run = CliRun.of("refill", "--model", Golden.tiny("flux-fill.safetensors").toString(),
                    "--ae", Golden.tiny("ae.safetensors").toString(),
                    "--reference", Golden.tiny("reference.png").toString(), "--target", Golden.tiny("target.png").toString(),
                    "--task", "colorization", "--prompt-embeddings", Golden.tiny("expected.safetensors").toString(),
                    "--seed", "7", "--steps", "2", "--out", out.toString());
            assertEquals(0, run.exitCode(), run.err());
            outputs[i] = Files.readAllBytes(out);
        }
        assertArrayEquals(outputs[0], outputs[1]);
    }

    // ---- bad inputs: one line, exit code 2 ----------------------------------------------------

    private void assertUserError(String fragment, String... args) {
        CliRun run = CliRun.of(args);
        assertEquals(2, run.exitCode(), run.out() + run.err());
        String[] lines = run.err().strip().split("\n");
        assertEquals(1, lines.length, run.err());
        assertTrue(lines[0].contains(fragment), "'" + fragment + "' in: " + lines[0]);
        assertFalse(run.err().contains("\tat "));
    }

    private String[] withReplaced(String option, String value) {
        String[] args = goldenRun(tmp.resolve("o.png"), tmp.resolve("c.png"));
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals(option)) {
                args[i + 1] = value;
            }
        }
        return args;
    }

    @Test
    void aMissingFileIsNamed() {
        Path missing = tmp.resolve("nope.png");
        assertUserError("nope.png: no such image file", withReplaced("--reference", missing.toString()));
    }

    @Test
    void aSizeThatIsNoMultipleOf16IsRefusedWithAHint() {
        Pixels odd = ImageFiles.readRgb(Golden.tiny("reference.png"));
        Path oddFile = tmp.resolve("odd.png");
        ImageFiles.writePixels(oddFile, dev.anyrefill.image.ImageOps.resize(odd, 60, 70), Map.of());
        assertUserError("give --size HxW", withReplaced("--reference", oddFile.toString()));
        assertUserError("--size 60x64: height and width must be multiples of 16",
                append(goldenRun(tmp.resolve("o.png"), tmp.resolve("c.png")), "--size", "60x64"));
    }

    @Test
    void aMaskOfAnotherSizeIsRefused() {
        Path small = tmp.resolve("small-mask.png");
        ImageFiles.writePixels(small, dev.anyrefill.image.ImageOps.resize(
                ImageFiles.readGrey(Golden.tiny("target-mask.png")), 32, 32), Map.of());
        assertUserError("they must be the same size", withReplaced("--mask", small.toString()));
    }

    @Test
    void aLoraForAnotherWidthIsRefused() {
        Path wide = tmp.resolve("wide-lora.safetensors");
        SafetensorsWriter.write(wide, Map.of(
                "double_blocks.0.img_attn.qkv.lora_A.weight", Tensor.zeros(4, 512),
                "double_blocks.0.img_attn.qkv.lora_B.weight", Tensor.zeros(1536, 4)), Map.of(), DType.BF16);
        assertUserError("double_blocks.0.img_attn.qkv", append(goldenRun(tmp.resolve("o.png"), tmp.resolve("c.png")),
                "--lora", wide.toString()));
    }

    @Test
    void embeddingsForAnotherWidthAreRefused() {
        Path wrong = tmp.resolve("wrong-embeddings.safetensors");
        SafetensorsWriter.write(wrong, Map.of("txt", Tensor.zeros(8, 4096), "vec", Tensor.zeros(768)));
        assertUserError("'txt'", withReplaced("--prompt-embeddings", wrong.toString()));
    }

    @Test
    void theOutputMayNotOverwriteAnInput() {
        assertUserError("is an input of this command", withReplaced("--out", Golden.tiny("target.png").toString()));
    }

    private static String[] append(String[] args, String... more) {
        String[] all = Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return all;
    }
}
