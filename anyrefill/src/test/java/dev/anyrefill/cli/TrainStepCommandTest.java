package dev.anyrefill.cli;

import dev.anyrefill.tensor.Compare;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.weights.SafetensorsFile;
import dev.anyrefill.weights.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `anyrefill train-step` on testdata/golden/train writes what BFL's code on PyTorch autograd
 * computed (losses, velocity, every gradient, the LoRA after three AdamW steps), and refuses
 * bad input with one line naming the file and the tensor, exit code 2, and no output.
 */
class TrainStepCommandTest {
    private static final Path TRAIN = Golden.dir().resolve("train");

    @TempDir
    Path tmp;

    /** The golden run's arguments, with the given option-value pairs replaced or added. */
    private List<String> args(Path inputs, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("train-step", "--model", TRAIN.resolve("flux-fill.safetensors").toString(),
                "--lora", TRAIN.resolve("lora-init.safetensors").toString(), "--inputs", inputs.toString(),
                "--steps", "3", "--lr", "1e-3", "--beta1", "0.9", "--beta2", "0.999", "--eps", "1e-8",
                "--weight-decay", "0.5", "--out", out.toString()));
        for (int i = 0; i < extra.length; i += 2) {
            int at = a.indexOf(extra[i]);
            if (at >= 0) {
                a.set(at + 1, extra[i + 1]);
            } else {
                a.addAll(List.of(extra[i], extra[i + 1]));
            }
        }
        return a;
    }

    @Test
    void writesTheReferenceLossesGradientsAndTrainedLora() {
        Path out = tmp.resolve("trained.safetensors");
        CliRun r = CliRun.of(args(TRAIN.resolve("batches.safetensors"), out).toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        try (SafetensorsFile got = SafetensorsFile.open(out);
             SafetensorsFile ref = SafetensorsFile.open(TRAIN.resolve("expected.safetensors"))) {
            for (int s = 0; s < 3; s++) {
                Golden.assertClose("cli train-step step." + s + ".loss", got.get("step." + s + ".loss"),
                        ref.get("step." + s + ".loss"));
            }
            Golden.assertClose("cli train-step step.0.velocity", got.get("step.0.velocity"), ref.get("step.0.velocity"));
            double worst = 0;
            for (String name : ref.names()) {
                assertTrue(got.contains(name), "missing " + name);
                if (name.startsWith("grad.")) {
                    double err = Compare.relativeError(got.get(name), ref.get(name));
                    assertTrue(err < Golden.TOLERANCE, name + ": " + err);
                    worst = Math.max(worst, err);
                }
            }
            System.out.printf("cli train-step: every grad.* within %.3e of autograd (tolerance %.0e)%n", worst,
                    Golden.TOLERANCE);
            // the trained LoRA itself (the AdamW update is compared more finely in TrainStepGoldenTest)
            Golden.assertClose("cli train-step final.single_blocks.1.linear2.lora_B",
                    got.get("final.single_blocks.1.linear2.lora_B"), ref.get("final.single_blocks.1.linear2.lora_B"));
        }
    }

    @Test
    void refusesBadSettings() {
        Path in = TRAIN.resolve("batches.safetensors");
        expectUserError(args(in, tmp.resolve("a.safetensors"), "--steps", "0"), "--steps must be at least 1");
        expectUserError(args(in, tmp.resolve("b.safetensors"), "--lr", "-1"), "learning rate must be a positive finite");
        expectUserError(args(in, tmp.resolve("c.safetensors"), "--lr", "NaN"), "learning rate must be a positive finite");
        expectUserError(args(in, in), "is an input of this command");
        expectUserError(args(in, tmp.resolve("d.safetensors"), "--steps", "4"), "no tensor 'step.3.t'");
    }

    @Test
    void refusesMissingMisshapedAndNonFiniteInputs() {
        expectUserError(args(edited("no-x0", t -> t.remove("x0")), tmp.resolve("e.safetensors")), "no tensor 'x0'");
        expectUserError(args(edited("bad-vec", t -> t.put("vec", Tensor.zeros(2, 15))), tmp.resolve("f.safetensors")),
                "tensor 'vec' has shape [2, 15]");
        expectUserError(args(edited("nan-noise", t -> {
            Tensor noise = t.get("step.1.noise").toF32();
            noise.data()[5] = Float.NaN;
            t.put("step.1.noise", noise);
        }), tmp.resolve("g.safetensors")), "tensor 'step.1.noise' holds NaN");
    }

    @Test
    void stopsOnANonFiniteUpdateWithoutWritingALora() {
        Path out = tmp.resolve("h.safetensors");
        expectUserError(args(TRAIN.resolve("batches.safetensors"), out, "--lr", "1e38", "--weight-decay", "0"),
                "step 1: the loss is NaN");
    }

    @Test
    void refusesALoraMadeForAnotherModel() {
        List<String> a = args(TRAIN.resolve("batches.safetensors"), tmp.resolve("i.safetensors"));
        a.set(a.indexOf("--lora") + 1, Golden.tiny("lora-bfl.safetensors").toString());
        CliRun r = CliRun.of(a.toArray(String[]::new));
        assertEquals(2, r.exitCode(), r.out() + r.err());
        assertTrue(r.err().contains("does not fit"), r.err());
    }

    private void expectUserError(List<String> args, String message) {
        Path out = Path.of(args.get(args.indexOf("--out") + 1));
        boolean existed = Files.exists(out);
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(2, r.exitCode(), "exit code for '" + message + "': " + r.out() + r.err());
        assertTrue(r.err().contains(message), "expected '" + message + "' in: " + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        if (!existed) {
            assertFalse(Files.exists(out), "no output written for '" + message + "'");
        }
    }

    /** A copy of the golden batches with some tensors changed. */
    private Path edited(String name, Consumer<Map<String, Tensor>> edit) {
        Path p = tmp.resolve(name + ".safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(TRAIN.resolve("batches.safetensors"))) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String n : f.names()) {
                tensors.put(n, f.get(n).toF32());
            }
            edit.accept(tensors);
            SafetensorsWriter.write(p, tensors, f.metadata(), dev.anyrefill.tensor.DType.F32);
        }
        return p;
    }
}
