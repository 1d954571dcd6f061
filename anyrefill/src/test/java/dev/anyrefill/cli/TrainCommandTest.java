package dev.anyrefill.cli;

import dev.anyrefill.kernels.Backends;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.Pixels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.training.SyntheticPhotos;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.SafetensorsFile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code anyrefill train} on the tiny golden model, from pairs that {@code prepare --pairs-from}
 * makes of small synthetic photos (colorization): the validation loss falls, the LoRA loads
 * in refill and changes its result, a resumed run ends in the same bytes, and the written keys
 * are what kohya's, ComfyUI's and diffusers' loaders expect.
 */
class TrainCommandTest {
    /** The validation loss after 30 steps at lr 1e-3 must be below this fraction of the loss before. */
    private static final double MAX_VAL_RATIO = 0.8;

    @TempDir
    Path tmp;
    private Path pairs;

    @BeforeEach
    void makePairs() {
        Path photos = tmp.resolve("photos");
        SyntheticPhotos.write(mkdirs(photos), 12, 64, 7);
        pairs = tmp.resolve("pairs");
        CliRun r = CliRun.of("prepare", "--task", "colorization", "--pairs-from", photos.toString(), "--out", pairs.toString());
        assertEquals(0, r.exitCode(), r.err());
    }

    private CliRun train(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--model", Golden.tiny("flux-fill.safetensors").toString(),
                "--ae", Golden.tiny("ae.safetensors").toString(), "--task", "colorization", "--pairs", pairs.toString(),
                "--prompt-embeddings", Golden.tiny("expected.safetensors").toString(), "--out", out.toString(),
                "--alpha", "8"));
        if (!List.of(extra).contains("--rank")) {
            args.addAll(List.of("--rank", "8"));
        }
        args.addAll(List.of(extra));
        return CliRun.of(args.toArray(String[]::new));
    }

    @Test
    void theValidationLossFallsAndTheLoraChangesRefill() throws IOException {
        Path out = tmp.resolve("run/lora.safetensors");
        CliRun r = train(out, "--steps", "30", "--lr", "1e-3", "--validation-split", "0.25", "--validate-every", "30", "--sample-every", "30", "--sample-steps", "2");
        assertEquals(0, r.exitCode(), r.err());
        List<JsonObject> lines = metrics(tmp.resolve("run/lora.metrics.jsonl"));
        double before = lines.getFirst().get("val_loss").getAsDouble();
        double after = lines.getLast().get("val_loss").getAsDouble();
        System.out.printf("train: validation loss %.4f before, %.4f after 30 steps: ratio %.3f (must be below %.2f)%n",
                before, after, after / before, MAX_VAL_RATIO);
        assertEquals(0, lines.getFirst().get("step").getAsInt());
        assertEquals(31, lines.size(), "a line before training and one per step");
        for (String key : new String[]{"step", "loss", "lr", "grad_norm", "seconds"}) {
            assertTrue(lines.get(1).has(key), key);
        }
        assertTrue(after < MAX_VAL_RATIO * before, "validation loss " + before + " -> " + after);
        assertTrue(Files.size(tmp.resolve("run/lora.metrics.png")) > 1000, "the loss curve PNG");
        Pixels panel = ImageFiles.readRgb(tmp.resolve("run/lora-samples/step000030.png"));
        assertEquals(3 * 64, panel.width(), "reference | target | result");
        assertEquals(2 * 64, panel.height(), "a row per sample pair");

        byte[] plain = refill(tmp.resolve("plain.png"));
        byte[] withLora = refill(tmp.resolve("lora.png"), "--lora", out.toString());
        assertFalse(Arrays.equals(plain, withLora), "the trained LoRA changes refill's result");
    }

    private byte[] refill(Path out, String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("refill", "--model", Golden.tiny("flux-fill.safetensors").toString(),
                "--ae", Golden.tiny("ae.safetensors").toString(), "--task", "colorization",
                "--reference", pairs.resolve("photo-00.ref.png").toString(),
                "--target", pairs.resolve("photo-00.target.png").toString(),
                "--prompt-embeddings", Golden.tiny("expected.safetensors").toString(), "--steps", "2",
                "--out", out.toString()));
        args.addAll(List.of(extra));
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        return ImageFiles.readRgb(out).data();
    }

    @Test
    void resumingFromAMidRunCheckpointGivesTheSameBytes() throws IOException {
        Path whole = tmp.resolve("a/lora.safetensors");
        assertEquals(0, train(whole, "--validation-split", "0.25", "--steps", "6", "--save-every", "3", "--batch", "2", "--lr-schedule", "cosine",
                "--warmup-steps", "2", "--validate-every", "3").exitCode());
        Path resumed = tmp.resolve("b/lora.safetensors");
        CliRun r = train(resumed, "--validation-split", "0.25", "--steps", "6", "--save-every", "3", "--batch", "2", "--lr-schedule", "cosine",
                "--warmup-steps", "2", "--validate-every", "3", "--resume", tmp.resolve("a/lora-step000003.safetensors").toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("resumed"), r.out());
        assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(resumed), "LoRA after 3 + 3 steps vs 6 steps");
        assertArrayEquals(Files.readAllBytes(tmp.resolve("a/lora.state.safetensors")),
                Files.readAllBytes(tmp.resolve("b/lora.state.safetensors")), "training state");
        System.out.println("train: the resumed run's LoRA and state equal the uninterrupted run's, byte for byte");
    }

    @Test
    void keepingEveryActivationTrainsTheSameLoraAsCheckpointingTheBlocks() throws IOException {
        Path none = tmp.resolve("keep-none/lora.safetensors");
        Path blocks = tmp.resolve("keep-blocks/lora.safetensors");
        assertEquals(0, train(none, "--steps", "2", "--batch", "2", "--activation-checkpointing", "none").exitCode());
        assertEquals(0, train(blocks, "--steps", "2", "--batch", "2", "--activation-checkpointing", "blocks").exitCode());
        assertArrayEquals(Files.readAllBytes(none), Files.readAllBytes(blocks), "LoRA after 2 steps, none vs blocks");
        String header = new String(Files.readAllBytes(none), 8, 200, java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"ss_network_module\":"),
                "metadata in the writer's order, the same in every JVM: " + header);
        System.out.println("train: --activation-checkpointing none and blocks write the same LoRA, byte for byte");
        CliRun bad = train(tmp.resolve("keep-bad/lora.safetensors"), "--steps", "1", "--activation-checkpointing", "some");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("--activation-checkpointing 'some': auto, blocks or none"), bad.err());
    }

    @Test
    void kohyaKeysMapOntoFluxModulesWithAlphaAndShapes() {
        Path out = tmp.resolve("k/lora.safetensors");
        assertEquals(0, train(out, "--steps", "1").exitCode());
        Map<String, int[]> linears = linearShapes();
        Pattern key = Pattern.compile("lora_unet_(.+)\\.(lora_down\\.weight|lora_up\\.weight|alpha)");
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            Set<String> modules = f.names().stream().map(n -> {
                Matcher m = key.matcher(n);
                assertTrue(m.matches(), "kohya key " + n);
                return m.group(1);
            }).collect(Collectors.toSet());
            assertEquals(20, modules.size(), "every AnyRefill target of 2 double + 2 single blocks");
            for (String module : modules) {
                // kohya's FLUX loader replaces '_' by '.' back at the known block/layer boundaries
                String bfl = linears.keySet().stream().filter(n -> n.replace('.', '_').equals(module)).findFirst()
                        .orElseThrow(() -> new AssertionError(module + " names no FLUX linear"));
                int[] outIn = linears.get(bfl);
                Tensor down = f.get("lora_unet_" + module + ".lora_down.weight");
                Tensor up = f.get("lora_unet_" + module + ".lora_up.weight");
                assertArrayEquals(new int[]{8, outIn[1]}, down.shape(), module + " lora_down");
                assertArrayEquals(new int[]{outIn[0], 8}, up.shape(), module + " lora_up");
                assertEquals(8f, f.get("lora_unet_" + module + ".alpha").toF32().data()[0], module + " alpha");
            }
            Map<String, String> meta = f.metadata();
            assertEquals("8", meta.get("ss_network_dim"));
            assertEquals("colorization", meta.get("anyrefill.task"));
            assertEquals("1", meta.get("anyrefill.steps"));
            assertEquals(64, meta.get("anyrefill.base_model_hash").length());
        }
    }

    @Test
    void peftKeysAreDiffusersModulesAndRunLikeTheKohyaFile() throws IOException {
        Path kohya = tmp.resolve("k/lora.safetensors");
        Path peft = tmp.resolve("p/lora.safetensors");
        assertEquals(0, train(kohya, "--steps", "2").exitCode());
        assertEquals(0, train(peft, "--steps", "2", "--format", "peft").exitCode());
        try (SafetensorsFile f = SafetensorsFile.open(peft)) {
            assertTrue(f.contains("transformer.transformer_blocks.0.attn.to_q.lora_A.weight"), f.names().toString());
            assertTrue(f.contains("transformer.single_transformer_blocks.1.proj_mlp.lora_B.weight"), f.names().toString());
            assertTrue(f.names().stream().allMatch(n -> n.startsWith("transformer.") && n.matches(".*\\.lora_[AB]\\.weight")));
        }
        byte[] a = refill(tmp.resolve("k.png"), "--lora", kohya.toString());
        byte[] b = refill(tmp.resolve("p.png"), "--lora", peft.toString());
        int max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs((a[i] & 0xFF) - (b[i] & 0xFF)));
        }
        System.out.printf("train: refill with the peft file vs the kohya file: max difference %d/255 (tolerance 1)%n", max);
        assertTrue(max <= 1, max + " levels");
    }

    @Test
    void refInpaintingDrawsMasksOnceAndASecondRunEncodesNothing() {
        Path out = tmp.resolve("inpaint/lora.safetensors");
        String[] options = {"--task", "ref-inpainting", "--steps", "2", "--masks-per-pair", "2", "--loss-region", "target",
                "--shift", "auto", "--timestep-sampling", "logit-normal"};
        CliRun first = CliRun.of(withTask(out, options));
        assertEquals(0, first.exitCode(), first.err());
        assertTrue(first.out().contains("(64x64 halves, 2 Fill conditions)"), first.out());
        // --shift auto at 32 tokens: mu = 0.5 + (1.15 - 0.5) (32 - 256) / (4096 - 256) = 0.46208, e^mu = 1.5874
        assertTrue(first.out().contains("timestep shift 1.587"), first.out());
        CliRun second = CliRun.of(withTask(out, options));
        assertEquals(0, second.exitCode(), second.err());
        assertFalse(second.out().contains("encoded"), "every latent comes from the cache: " + second.out());
    }

    /** train's arguments with another task (the base arguments' --task left out). */
    private String[] withTask(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--model", Golden.tiny("flux-fill.safetensors").toString(),
                "--ae", Golden.tiny("ae.safetensors").toString(), "--pairs", pairs.toString(),
                "--prompt-embeddings", Golden.tiny("expected.safetensors").toString(), "--out", out.toString(),
                "--rank", "4", "--alpha", "4"));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void fullTrainingOfANewModelLowersTheValidationLossAndWritesABflCheckpoint() throws IOException {
        Path out = tmp.resolve("full/flux.safetensors");
        CliRun r = CliRun.of(full(out, "--steps", "20", "--lr", "1e-3", "--validation-split", "0.25",
                "--validate-every", "20"));
        assertEquals(0, r.exitCode(), r.err());
        List<JsonObject> lines = metrics(tmp.resolve("full/flux.metrics.jsonl"));
        double before = lines.getFirst().get("val_loss").getAsDouble();
        double after = lines.getLast().get("val_loss").getAsDouble();
        System.out.printf("train --full: validation loss %.4f before, %.4f after 20 steps: ratio %.3f (must be below %.2f)%n",
                before, after, after / before, MAX_VAL_RATIO);
        assertTrue(after < MAX_VAL_RATIO * before, before + " -> " + after);
        try (FluxCheckpoint c = FluxCheckpoint.open(out)) {
            assertEquals(dev.anyrefill.weights.FluxShapes.of(c.config()).keySet(), c.names(), "BFL's names, every one");
            assertEquals(256, c.config().hiddenSize());
        }
        byte[] plain = refill(tmp.resolve("golden-model.png"));
        List<String> args = new ArrayList<>(List.of("refill", "--model", out.toString(),
                "--ae", Golden.tiny("ae.safetensors").toString(), "--task", "colorization",
                "--reference", pairs.resolve("photo-00.ref.png").toString(),
                "--target", pairs.resolve("photo-00.target.png").toString(),
                "--prompt-embeddings", Golden.tiny("expected.safetensors").toString(), "--steps", "2",
                "--out", tmp.resolve("trained-model.png").toString()));
        CliRun refill = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, refill.exitCode(), refill.err());
        assertFalse(Arrays.equals(plain, ImageFiles.readRgb(tmp.resolve("trained-model.png")).data()));
    }

    @Test
    void fullTrainingResumesToTheSameBytesAndRefusesWhatTheHeapCannotHold() throws IOException {
        Path whole = tmp.resolve("fa/flux.safetensors");
        assertEquals(0, CliRun.of(full(whole, "--steps", "4", "--save-every", "2")).exitCode());
        Path resumed = tmp.resolve("fb/flux.safetensors");
        CliRun r = CliRun.of(full(resumed, "--steps", "4", "--save-every", "2", "--resume",
                tmp.resolve("fa/flux-step000002.safetensors").toString()));
        assertEquals(0, r.exitCode(), r.err());
        assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(resumed), "model after 2 + 2 steps vs 4");

        r = CliRun.of(full(tmp.resolve("big.safetensors"), "--steps", "1", "--hidden", "3072", "--heads", "24",
                "--double", "19", "--single", "38", "--context", "4096", "--vec", "768"));
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("full training is for small models, train a LoRA instead"), r.err());
    }

    @Test
    void fillPretrainingOnSingleImagesLowersTheValidationLoss() throws IOException {
        Path out = tmp.resolve("fill/flux.safetensors");
        List<String> args = new ArrayList<>(List.of("train", "--full", "--images", tmp.resolve("photos").toString(),
                "--ae", Golden.tiny("ae.safetensors").toString(), "--prompt-embeddings",
                Golden.tiny("expected.safetensors").toString(), "--out", out.toString(), "--steps", "30", "--lr", "1e-3",
                "--validation-split", "0.25", "--validate-every", "30", "--masks-per-pair", "4"));
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("on 9 images (3 held out), 16 tokens per canvas"), r.out());
        List<JsonObject> lines = metrics(tmp.resolve("fill/flux.metrics.jsonl"));
        double before = lines.getFirst().get("val_loss").getAsDouble();
        double after = lines.getLast().get("val_loss").getAsDouble();
        System.out.printf("train --full --images: validation loss %.4f before, %.4f after 30 steps: ratio %.3f (must be "
                + "below %.2f)%n", before, after, after / before, MAX_VAL_RATIO);
        assertTrue(after < MAX_VAL_RATIO * before, before + " -> " + after);
        args.addAll(List.of("--task", "colorization"));
        r = CliRun.of(args.toArray(String[]::new));
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--images trains plain inpainting"), r.err());
    }

    /** train --full on a new model of the golden model's shape, the base arguments' --model, rank and alpha left out. */
    private String[] full(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--full", "--ae", Golden.tiny("ae.safetensors").toString(),
                "--task", "colorization", "--pairs", pairs.toString(),
                "--prompt-embeddings", Golden.tiny("expected.safetensors").toString(), "--out", out.toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void aResumeOfAnotherRankIsRefused() {
        Path out = tmp.resolve("a/lora.safetensors");
        assertEquals(0, train(out, "--steps", "2", "--save-every", "1").exitCode());
        CliRun r = train(tmp.resolve("b/lora.safetensors"), "--steps", "2", "--rank", "4",
                "--resume", tmp.resolve("a/lora-step000001.safetensors").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("made for another run: anyrefill.rank is '8' there, '4' here"), r.err());
        assertFalse(Files.exists(tmp.resolve("b/lora.safetensors")));
    }

    @Test
    void aDivergingLossStopsNamingTheStepAndTheLastGoodCheckpoint() {
        Path out = tmp.resolve("nan/lora.safetensors");
        CliRun r = train(out, "--steps", "20", "--lr", "1e30", "--max-grad-norm", "0", "--save-every", "1",
                "--validation-split", "0");
        assertEquals(2, r.exitCode(), r.out());
        assertTrue(r.err().matches("(?s).*step \\d+: .*not finite.*|(?s).*step \\d+: the loss is .*"), r.err());
        assertTrue(r.err().contains("the last good checkpoint is " + out.resolveSibling("lora-step000001.safetensors")),
                r.err());
        assertFalse(Files.exists(out), "no final LoRA from a diverged run");
    }

    @Test
    void badPairsFoldersAreOneLineErrors() throws IOException {
        Path empty = mkdirs(tmp.resolve("empty"));
        CliRun r = CliRun.of("train", "--model", Golden.tiny("flux-fill.safetensors").toString(), "--ae",
                Golden.tiny("ae.safetensors").toString(), "--task", "colorization", "--pairs", empty.toString(),
                "--prompt-embeddings", Golden.tiny("expected.safetensors").toString(), "--out", tmp.resolve("x.safetensors").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("no training pairs"), r.err());

        Files.delete(pairs.resolve("photo-03.target.png"));
        r = train(tmp.resolve("y.safetensors"), "--steps", "1");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("pair photo-03 has no photo-03.target.* (the target)"), r.err());

        Files.delete(pairs.resolve("photo-03.ref.png"));
        SyntheticPhotos.write(tmp, 1, 32, 3); // a 32x32 pair among 64x64 ones
        Files.copy(tmp.resolve("photo-00.png"), pairs.resolve("small.ref.png"));
        Files.copy(tmp.resolve("photo-00.png"), pairs.resolve("small.target.png"));
        r = train(tmp.resolve("z.safetensors"), "--steps", "1");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("give --size HxW to bring pairs to one size"), r.err());
        assertEquals(0, train(tmp.resolve("z.safetensors"), "--steps", "1", "--size", "32x32").exitCode(),
                "with --size every pair is brought to one size");

        Path folder = Files.createDirectories(tmp.resolve("a-folder"));
        r = train(folder, "--steps", "1");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains(folder + ": is a folder; --out names a file"), r.err());
    }

    private Map<String, int[]> linearShapes() {
        try (FluxCheckpoint c = FluxCheckpoint.open(Golden.tiny("flux-fill.safetensors"))) {
            FluxModel m = new FluxModel(c, Backends.java());
            return m.linears().values().stream().collect(Collectors.toMap(l -> l.name(),
                    l -> new int[]{l.outFeatures(), l.inFeatures()}));
        }
    }

    private static List<JsonObject> metrics(Path file) throws IOException {
        return Files.readAllLines(file, StandardCharsets.UTF_8).stream()
                .map(l -> JsonParser.parseString(l).getAsJsonObject()).toList();
    }

    private static Path mkdirs(Path p) {
        try {
            return Files.createDirectories(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
