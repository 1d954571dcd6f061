package dev.anyrefill.cli;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.Pixels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.weights.SafetensorsFile;
import dev.anyrefill.weights.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Malformed inputs, each made here: every one ends with exit code 2, one line naming the file or
 * option and the reason, and no output file. Also what is only a warning, and the permissions
 * and pace of outputs.
 */
class BadInputTest {
    @TempDir
    Path tmp;

    private Path out() {
        return tmp.resolve("out.png");
    }

    /** A copy of a golden file (as F32) with some tensors changed. */
    private Path modified(Path golden, String name, Consumer<Map<String, Tensor>> edit) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(golden)) {
            for (String n : f.names()) {
                tensors.put(n, f.get(n).toF32());
            }
        }
        edit.accept(tensors);
        Path p = tmp.resolve(name);
        SafetensorsWriter.write(p, tensors);
        return p;
    }

    private static void poison(Map<String, Tensor> t, String name) {
        t.get(name).data()[0] = Float.NaN;
    }

    private List<String> refill(Path model, Path ae, String... extra) {
        List<String> args = new ArrayList<>(List.of("refill", "--model", model.toString(), "--ae", ae.toString(),
                "--reference", Golden.tiny("reference.png").toString(), "--target", Golden.tiny("target.png").toString(),
                "--prompt-embeddings", Golden.tiny("expected.safetensors").toString(), "--steps", "2",
                "--out", out().toString()));
        args.addAll(List.of(extra));
        return args;
    }

    private List<String> refill(String... extra) {
        return refill(Golden.tiny("flux-fill.safetensors"), Golden.tiny("ae.safetensors"), extra);
    }

    /** Runs the command; asserts exit 2, one line on stderr containing {@code expected}, and no --out file. */
    private void fails(List<String> args, String expected) {
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(2, r.exitCode(), r.out() + r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().filter(l -> l.startsWith("anyrefill: ") && !l.contains("warning")).count(), err);
        assertTrue(err.contains(expected), "expected '" + expected + "' in: " + err);
        assertFalse(Files.exists(out()), "no output after a failure");
        System.out.println("bad input: " + err.lines().filter(l -> !l.contains("warning")).reduce((a, b) -> b).orElse(""));
    }

    @Test
    void nonFiniteValuesStopTheRunNamingTheirPlace() {
        Path model = modified(Golden.tiny("flux-fill.safetensors"), "nan-model.safetensors",
                t -> poison(t, "final_layer.linear.bias"));
        fails(refill(model, Golden.tiny("ae.safetensors")), "denoising step 1 of 2: the latent holds NaN");
        Path ae = modified(Golden.tiny("ae.safetensors"), "nan-ae.safetensors", t -> poison(t, "encoder.conv_in.bias"));
        fails(refill(Golden.tiny("flux-fill.safetensors"), ae), "the AutoEncoder's encoding holds NaN");
        Path lora = modified(Golden.tiny("lora-kohya.safetensors"), "nan-lora.safetensors",
                t -> poison(t, t.keySet().stream().filter(n -> n.endsWith("lora_up.weight")).findFirst().orElseThrow()));
        fails(refill("--lora", lora.toString()), "holds NaN or infinity");
        fails(refill("--lora", Golden.tiny("lora-kohya.safetensors") + ":1e30"), "the latent holds");
        fails(refill("--guidance", "NaN"), "--guidance must be a finite number, got NaN");
        Path emb = modified(Golden.tiny("expected.safetensors"), "nan-emb.safetensors", t -> poison(t, "txt"));
        List<String> args = refill();
        args.set(args.indexOf("--prompt-embeddings") + 1, emb.toString());
        fails(args, "tensor 'txt' holds NaN");
        Path noise = modified(Golden.tiny("expected.safetensors"), "nan-noise.safetensors", t -> poison(t, "noise"));
        fails(refill("--noise", noise.toString()), "tensor 'noise' holds NaN");
        Path forwardOut = tmp.resolve("velocity.safetensors");
        CliRun r = CliRun.of("forward", "--model", model.toString(), "--inputs", Golden.tiny("expected.safetensors").toString(),
                "--t", "0.8", "--out", forwardOut.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("the velocity holds NaN"), r.err());
        assertFalse(Files.exists(forwardOut));
    }

    @Test
    void outputsAreCheckedBeforeAnyWork() throws IOException {
        Path folder = Files.createDirectories(tmp.resolve("a-folder"));
        List<String> args = refill();
        args.set(args.indexOf("--out") + 1, folder.toString());
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains(folder + ": is a folder; --out names a file"), r.err());
        assertFalse(r.out().contains("denoise"), "nothing ran: " + r.out());
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        args.set(args.indexOf("--out") + 1, file.resolve("under-a-file.png").toString());
        r = CliRun.of(args.toArray(String[]::new));
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("cannot write into"), r.err());
        fails(refill("--save-canvas", out().toString()), "--save-canvas " + out() + " and --out are the same file");
    }

    @Test
    void incompleteOrMisshapedCheckpointsAreRefusedNamingTheTensor() throws IOException {
        fails(refill(modified(Golden.tiny("flux-fill.safetensors"), "no-bias.safetensors",
                t -> t.remove("final_layer.linear.bias")), Golden.tiny("ae.safetensors")),
                "tensor 'final_layer.linear.bias' is missing");
        fails(refill(modified(Golden.tiny("flux-fill.safetensors"), "no-bias2.safetensors",
                t -> t.remove("single_blocks.1.linear2.bias")), Golden.tiny("ae.safetensors")),
                "tensor 'single_blocks.1.linear2.bias' is missing");
        for (int[] shape : new int[][]{{129}, {120}, {2, 64}}) {
            fails(refill(modified(Golden.tiny("flux-fill.safetensors"), "qk" + shape.length + shape[0] + ".safetensors",
                    t -> t.put("double_blocks.1.img_attn.norm.query_norm.scale", Tensor.zeros(shape))),
                    Golden.tiny("ae.safetensors")), "tensor 'double_blocks.1.img_attn.norm.query_norm.scale' has shape "
                    + Arrays.toString(shape) + ", this configuration needs [128]");
        }
        fails(refill(modified(Golden.tiny("flux-fill.safetensors"), "hole.safetensors",
                t -> t.keySet().removeIf(n -> n.startsWith("double_blocks.0."))), Golden.tiny("ae.safetensors")),
                "double_blocks are not numbered 0..1 without holes: block 0 is missing");
        Path dir = Files.createDirectories(tmp.resolve("index"));
        Files.copy(Golden.tiny("flux-fill.safetensors"), dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"weight_map\": {\"img_in.weight\": \"../../../etc/passwd\"}}");
        fails(refill(dir.resolve("model.safetensors.index.json"), Golden.tiny("ae.safetensors")),
                "shard '../../../etc/passwd' lies outside the index's folder");
        Path f64 = tmp.resolve("f64.safetensors");
        Files.write(f64, safetensors("{\"img_in.weight\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8));
        CliRun r = CliRun.of("inspect", f64.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("'img_in.weight'"), r.err());
    }

    @Test
    void sizesAreBoundedUpFrontWithTheReason() throws IOException {
        fails(refill("--size", "16384x16384"), "--size 16384x16384: at most 8192 pixels a side");
        fails(refill("--size", "0x0"), "--size 0x0: height and width must be positive");
        fails(refill("--size", "-16x-16"), "height and width must be positive");
        Path wide = tmp.resolve("wide.png");
        ImageFiles.writePixels(wide, new Pixels(16, 9000, 3, new byte[16 * 9000 * 3]), Map.of());
        List<String> args = refill();
        args.set(args.indexOf("--reference") + 1, wide.toString());
        fails(args, "more than 8192 pixels a side; give --size HxW");
        Path huge = tmp.resolve("huge.png");
        Files.write(huge, pngHeaderOnly(100_000, 100_000));
        args.set(args.indexOf("--reference") + 1, huge.toString());
        fails(args, huge + ": the image has more pixels than OpenCV decodes (CV_IO_MAX_IMAGE_PIXELS, 2^30)");
        fails(new ArrayList<>(List.of("demo", "--size", "65536", "--out-dir", tmp.resolve("demo").toString())),
                "at most 8192 pixels a side");
    }

    @Test
    void messagesNameTheOptionOrTheFile() throws IOException {
        CliRun r = CliRun.of("--threads", "0", "inspect", Golden.tiny("ae.safetensors").toString());
        assertEquals(2, r.exitCode());
        assertEquals("anyrefill: --threads must be at least 1, got 0 (see 'anyrefill --help')", r.err().strip());
        Path json = tmp.resolve("bad-json.safetensors");
        Files.write(json, safetensors("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, nope}", 4));
        r = CliRun.of("inspect", json.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("header is not valid JSON") && !r.err().contains("JsonReader")
                && !r.err().contains("https://"), r.err());
        Path longHeader = tmp.resolve("long.safetensors");
        byte[] bytes = new byte[16];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MIN_VALUE);
        Files.write(longHeader, bytes);
        r = CliRun.of("inspect", longHeader.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("header length 9223372036854775808 does not fit"), r.err());
        fails(refill("--lora", Golden.tiny("lora-kohya.safetensors") + ":abc"), "'abc' after the colon is not a weight");
        Path rank0 = modified(Golden.tiny("lora-kohya.safetensors"), "rank0.safetensors", t -> {
            for (String n : List.copyOf(t.keySet())) {
                if (n.endsWith("lora_down.weight")) {
                    t.put(n, Tensor.zeros(0, t.get(n).dim(1)));
                } else if (n.endsWith("lora_up.weight")) {
                    t.put(n, Tensor.zeros(t.get(n).dim(0), 0));
                }
            }
        });
        fails(refill("--lora", rank0.toString()), "has rank 0");
        Path empty = modified(Golden.tiny("expected.safetensors"), "empty-txt.safetensors", t -> t.put("txt", Tensor.zeros(0, 64)));
        List<String> args = refill();
        args.set(args.indexOf("--prompt-embeddings") + 1, empty.toString());
        fails(args, "tensor 'txt' is empty [0, 64]");
        r = CliRun.of("refill", "--help");
        for (String option : new String[]{"--t5=FILE", "--clip=FILE", "--t5-tokenizer=DIR", "--clip-tokenizer=DIR"}) {
            String line = r.out().lines().filter(l -> l.contains(option)).findFirst().orElse("");
            assertTrue(line.strip().length() > option.length() + 10, "a description for " + option + ": " + line);
        }
    }

    @Test
    void warningsForWhatIsLikelyAMistake() throws IOException {
        Path mask = tmp.resolve("nothing.png");
        ImageFiles.writePixels(mask, new Pixels(64, 64, 1, new byte[64 * 64]), Map.of());
        CliRun r = CliRun.of(refill("--mask", mask.toString(), "--noise", Golden.tiny("expected.safetensors").toString(),
                "--seed", "7").toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("marks nothing to repaint"), r.err());
        assertTrue(r.err().contains("--seed 7 is not used"), r.err());
        Path noGuidance = modified(Golden.tiny("flux-fill.safetensors"), "no-guidance.safetensors", t -> {
            t.keySet().removeIf(n -> n.startsWith("guidance_in."));
            t.put("some.stray.tensor", Tensor.zeros(2));
        });
        r = CliRun.of(refill(noGuidance, Golden.tiny("ae.safetensors")).toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("1 tensor(s) that no FLUX module reads, ignored: some.stray.tensor"), r.err());
        assertTrue(r.err().contains("a Fill model (384 input channels) without guidance_in"), r.err());
        // the output's permissions are those of any new file here (the umask's), not a private temp file's
        Path plain = Files.createFile(tmp.resolve("plain"));
        assertEquals(PosixFilePermissions.toString(Files.getPosixFilePermissions(plain)),
                PosixFilePermissions.toString(Files.getPosixFilePermissions(out())));
    }

    @Test
    void progressOffATerminalIsALineEveryFewSeconds() {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        long[] now = {0};
        var bar = new dev.anyrefill.pipeline.ProgressBarProbe(new java.io.PrintStream(bytes), () -> now[0]);
        for (int step = 1; step <= 100_000; step++) {
            now[0] += 1_000_000; // 1 ms a step: 100 s in all
            bar.afterStep(step, 100_000, 0, 0);
        }
        long lines = bytes.toString().lines().count();
        System.out.println("progress: 100,000 steps of 1 ms off a terminal printed " + lines + " lines");
        assertTrue(lines >= 20 && lines <= 22, lines + " lines: one per 5 s and the last");
    }

    private static byte[] safetensors(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b.array();
    }

    /** A PNG signature and an IHDR claiming width x height, an empty IDAT and IEND: no pixels. */
    private static byte[] pngHeaderOnly(int width, int height) {
        ByteBuffer b = ByteBuffer.allocate(8 + 25 + 12 + 12);
        b.put(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 2)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(b, "IHDR", ihdr.array());
        chunk(b, "IDAT", new byte[0]);
        chunk(b, "IEND", new byte[0]);
        return b.array();
    }

    private static void chunk(ByteBuffer b, String type, byte[] data) {
        b.putInt(data.length);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        b.put(t).put(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        b.putInt((int) crc.getValue());
    }
}
