package dev.anyrefill.kernels.tornado;

import dev.anyrefill.dit.FluxModel;
import dev.anyrefill.dit.LoraMode;
import dev.anyrefill.dit.Loras;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.SafetensorsFile;
import dev.anyrefill.weights.lora.LoraFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The golden tests of the transformer (dit's FluxModelGoldenTest, LoraGoldenTest) on the tornado
 * backend: BFL's reference forward pass of the tiny model (float64), at the project's tolerance.
 */
class FluxGoldenOnTornadoTest {
    private static SafetensorsFile expected;
    private static SafetensorsFile expectedLora;
    private static TornadoKernels tornado;
    /** Kept open across the tests, so that its weights are sent and its kernels compiled once. */
    private static FluxCheckpoint bfl;

    @BeforeAll
    static void open() {
        expected = Golden.expected();
        expectedLora = SafetensorsFile.open(Golden.tiny("expected-lora.safetensors"));
        tornado = new TornadoKernels();
        bfl = FluxCheckpoint.open(Golden.tiny("flux-fill.safetensors"));
    }

    @AfterAll
    static void close() {
        tornado.close();
        bfl.close();
        expected.close();
        expectedLora.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"flux-fill.safetensors", "flux-fill-diffusers.safetensors"})
    void forwardMatchesReference(String file) {
        boolean shared = file.equals("flux-fill.safetensors");
        FluxCheckpoint ckpt = shared ? bfl : FluxCheckpoint.open(Golden.tiny(file));
        try {
            FluxModel model = new FluxModel(ckpt, tornado);
            Map<String, Tensor> trace = new HashMap<>();
            forward(model, trace); // the first pass compiles the kernels and sends the weights
            DeviceTraffic.Snapshot before = tornado.traffic().snapshot();
            trace.clear();
            Tensor velocity = forward(model, trace);
            System.out.println("tornado, one forward pass of the tiny model: " + tornado.traffic().snapshot().minus(before));
            int traced = 0;
            for (String name : expected.names()) {
                if (name.startsWith("trace.")) {
                    Golden.assertClose("tornado " + file + " " + name, trace.get(name), expected.get(name));
                    traced++;
                }
            }
            assertEquals(6, traced, "trace.* tensors in the golden file");
            Golden.assertClose("tornado " + file + " forward.velocity", velocity, expected.get("forward.velocity"));
        } finally {
            if (!shared) {
                ckpt.close();
            }
        }
    }

    @ParameterizedTest(name = "{0}:{1} {2}")
    @CsvSource({"lora-bfl.safetensors, 0.75, RUNTIME", "lora-peft.safetensors, 0.75, RUNTIME",
            "lora-kohya.safetensors, 1.0, RUNTIME", "lora-bfl.safetensors, 0.75, MERGED"})
    void forwardWithLoraMatchesReference(String loraFile, double weight, LoraMode mode) {
        try (LoraFile lora = LoraFile.open(Golden.tiny(loraFile))) {
            FluxModel model = new FluxModel(bfl, tornado);
            String report = Loras.apply(model, List.of(new Loras.Weighted(lora, weight)), mode);
            assertTrue(report.startsWith("applied " + lora.tensorCount() + " of " + lora.tensorCount() + " "), report);
            Golden.assertClose("tornado + " + loraFile + " " + mode + " forward.velocity", forward(model, new HashMap<>()),
                    expectedLora.get("forward.velocity"));
        }
    }

    /** Each launch is named after the module it computes (from the model's scopes), so a profile maps back. */
    @Test
    void launchesAreNamedAfterTheModelParts() {
        FluxModel model = new FluxModel(bfl, tornado);
        String launches;
        Tensor velocity;
        try (Kernels.Scope outer = tornado.scope()) {
            Tensor img = tornado.concatColumns(expected.get("img_packed").toF32(), expected.get("img_cond").toF32());
            Tensor v = model.forward(img, expected.get("img_ids"), expected.get("txt").toF32(), expected.get("txt_ids"),
                    expected.get("forward.t").getFloat(0), expected.get("vec").toF32(), 30.0, FluxModel.Trace.NONE);
            launches = tornado.recordedLaunches(); // the whole pass, recorded and not yet run
            velocity = outer.keep(v);
        }
        System.out.print(launches.lines().limit(12).collect(Collectors.joining("\n", "", "\n")));
        for (String name : List.of("double_blocks.0.img_attn.qkv:linear", "double_blocks.0:attention",
                "double_blocks.1.txt_mlp.2:linear", "single_blocks.1.linear2:linear", "single_blocks.0:rope",
                "final_layer.linear:linear")) {
            assertTrue(launches.contains(" " + name + " "), "no launch named " + name);
        }
        Golden.assertClose("tornado, recorded as one program: forward.velocity", velocity,
                expected.get("forward.velocity"));
    }

    private static Tensor forward(FluxModel model, Map<String, Tensor> trace) {
        Tensor img = model.kernels().concatColumns(expected.get("img_packed").toF32(), expected.get("img_cond").toF32());
        return model.forward(img, expected.get("img_ids"), expected.get("txt").toF32(), expected.get("txt_ids"),
                expected.get("forward.t").getFloat(0), expected.get("vec").toF32(), 30.0, trace::put);
    }
}
