package dev.anyrefill.dit;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.tensor.Compare;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.testing.GoldenFile;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.SafetensorsWriter;
import dev.anyrefill.weights.lora.LoraFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LoRA-augmented forward passes against BFL's reference (expected-lora.safetensors) and by hand. */
class LoraGoldenTest {
    @RegisterExtension
    static final GoldenFile expected = GoldenFile.expected();
    @RegisterExtension
    static final GoldenFile expectedLora = GoldenFile.tiny("expected-lora.safetensors");

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0} + {1}:{2} {3}")
    @MethodSource("dev.anyrefill.dit.FluxGolden#loraCases")
    void forwardWithLoraMatchesReference(String modelFile, String loraFile, double weight, LoraMode mode) {
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(Golden.tiny(modelFile));
             LoraFile lora = LoraFile.open(Golden.tiny(loraFile))) {
            FluxModel model = new FluxModel(ckpt, Backends.java());
            String report = Loras.apply(model, List.of(new Loras.Weighted(lora, weight)), mode);
            System.out.println(loraFile + ": " + report);
            assertTrue(report.startsWith("applied " + lora.tensorCount() + " of " + lora.tensorCount() + " "), report);
            Golden.assertClose(modelFile + " + " + loraFile + " " + mode + " forward.velocity", forward(model),
                    expectedLora.get("forward.velocity"));
        }
    }

    /** The LoRA reference differs from the plain one far beyond the tolerance, so the tests above can fail. */
    @Test
    void theLoraChangesTheReferenceVelocity() {
        double effect = Compare.relativeError(expected.get("forward.velocity"), expectedLora.get("forward.velocity"));
        System.out.printf("forward.velocity with vs without the LoRA: %.3e%n", effect);
        assertTrue(effect > 10 * Golden.TOLERANCE, "LoRA effect " + effect);
    }

    @Test
    void twoLorasAddUpLikeAHandMergedWeight() throws Exception {
        Path second = writeRandomLora(tmp.resolve("second.safetensors"));
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(Golden.tiny("flux-fill.safetensors"));
             LoraFile first = LoraFile.open(Golden.tiny("lora-bfl.safetensors"));
             LoraFile other = LoraFile.open(second)) {
            FluxModel handMerged = new FluxModel(ckpt, Backends.java());
            // W0 + 0.5 * (4/4) B1 A1 + 0.8 * (1/2) B2 A2, by plain loops, independent of Loras.merge
            Map<String, double[]> deltas = new LinkedHashMap<>();
            Map<String, double[]> biasDeltas = new LinkedHashMap<>();
            for (var m : first.modules()) {
                accumulate(handMerged, deltas, biasDeltas, m, 0.5 * m.alpha() / m.rank());
            }
            for (var m : other.modules()) {
                accumulate(handMerged, deltas, biasDeltas, m, 0.8 * m.alpha() / m.rank());
            }
            for (var e : deltas.entrySet()) {
                Linear l = handMerged.linears().get(e.getKey());
                float[] w = l.baseWeight().toF32().data();
                double[] d = e.getValue();
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) (w[i] + d[i]);
                }
                float[] b = l.baseBias().toF32().data();
                double[] db = biasDeltas.get(e.getKey());
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) (b[i] + db[i]);
                }
                l.setMergedWeight(Tensor.wrap(w, l.outFeatures(), l.inFeatures()), Tensor.wrap(b, b.length));
            }
            Tensor reference = forward(handMerged);
            List<Loras.Weighted> both = List.of(new Loras.Weighted(first, 0.5), new Loras.Weighted(other, 0.8));
            for (LoraMode mode : LoraMode.values()) {
                FluxModel model = new FluxModel(ckpt, Backends.java());
                String report = Loras.apply(model, both, mode);
                int n = first.tensorCount() + other.tensorCount();
                assertTrue(report.startsWith("applied " + n + " of " + n), report);
                Golden.assertClose("two LoRAs " + mode + " vs hand-merged weights", forward(model), reference, 1e-5);
            }
            // and the second LoRA really changes the result: without it we are far from the reference
            FluxModel firstOnly = new FluxModel(ckpt, Backends.java());
            Loras.apply(firstOnly, List.of(new Loras.Weighted(first, 0.5)), LoraMode.RUNTIME);
            double without = Compare.relativeError(forward(firstOnly), reference);
            System.out.printf("without the second LoRA the error would be %.3e%n", without);
            assertTrue(without > 1e-3, "the second LoRA has no visible effect: " + without);
        }
    }

    /** Merged mode copies exactly the touched weights (F32) and leaves every other layer on W0. */
    @Test
    void mergedModeCopiesOnlyTheTouchedWeights() {
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(Golden.tiny("flux-fill.safetensors"));
             LoraFile lora = LoraFile.open(Golden.tiny("lora-peft.safetensors"))) {
            FluxModel model = new FluxModel(ckpt, Backends.java());
            var touched = lora.modules().stream().map(m -> m.bflModule()).collect(java.util.stream.Collectors.toSet());
            Loras.apply(model, List.of(new Loras.Weighted(lora, 0.75)), LoraMode.MERGED);
            long copied = 0;
            long loraBytes = 0;
            for (Linear l : model.linears().values()) {
                assertEquals(touched.contains(l.name()), l.isMerged(), l.name());
                if (l.isMerged()) {
                    copied += l.weight().size() * 4;
                    assertTrue(l.adapters().isEmpty(), l.name());
                } else {
                    assertTrue(l.weight() == l.baseWeight(), l.name() + " must stay the mapped W0");
                }
            }
            for (var m : lora.modules()) {
                loraBytes += (m.down().size() + m.up().size()) * m.down().dtype().bytes();
            }
            System.out.printf("merged mode: %d layers copied, %,d bytes of F32 weights; runtime mode instead keeps "
                    + "the LoRA's %,d bytes mapped%n", touched.size(), copied, loraBytes);
            assertEquals(20, touched.size());
        }
    }

    @Test
    void aLayerThatDoesNotFitIsAnErrorNamingTheKey() {
        Path bad = tmp.resolve("misfit.safetensors");
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("double_blocks.0.img_mlp.2.lora_A.weight", Tensor.zeros(2, 256)); // img_mlp.2 takes 1024 inputs
        t.put("double_blocks.0.img_mlp.2.lora_B.weight", Tensor.zeros(256, 2));
        SafetensorsWriter.write(bad, t);
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(Golden.tiny("flux-fill.safetensors"));
             LoraFile lora = LoraFile.open(bad)) {
            FluxModel model = new FluxModel(ckpt, Backends.java());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Loras.apply(model, List.of(new Loras.Weighted(lora, 1.0)), LoraMode.RUNTIME));
            System.out.println("misfit LoRA: " + e.getMessage());
            assertTrue(e.getMessage().contains("double_blocks.0.img_mlp.2.lora_A.weight"), e.getMessage());
            assertTrue(Loras.apply(model, List.of(), LoraMode.RUNTIME).startsWith("applied 0 of 0"));
        }
    }

    private static void accumulate(FluxModel model, Map<String, double[]> deltas, Map<String, double[]> biasDeltas,
                                   dev.anyrefill.weights.lora.LoraModule m, double s) {
        Linear l = model.linears().get(m.bflModule());
        int in = l.inFeatures();
        double[] d = deltas.computeIfAbsent(m.bflModule(), n -> new double[l.outFeatures() * in]);
        double[] db = biasDeltas.computeIfAbsent(m.bflModule(), n -> new double[l.outFeatures()]);
        int rank = m.rank();
        for (int r = 0; r < m.up().dim(0); r++) {
            int row = m.rowOffset() + r;
            for (int c = 0; c < in; c++) {
                double sum = 0;
                for (int j = 0; j < rank; j++) {
                    sum += (double) m.up().get(r, j) * m.down().get(j, c);
                }
                d[row * in + c] += s * sum;
            }
            if (m.upBias() != null) {
                db[row] += s * m.upBias().getFloat(r);
            }
        }
    }

    /** A rank-2 LoRA (alpha 1) in PEFT naming: a slice (to_k) with a B bias, a whole layer, a single block's proj_mlp. */
    private static Path writeRandomLora(Path path) {
        Random random = new Random(7);
        Map<String, Tensor> t = new LinkedHashMap<>();
        String[][] modules = {
                {"transformer.transformer_blocks.1.attn.to_k", "256", "256"},
                {"transformer.transformer_blocks.0.ff.net.2", "1024", "256"},
                {"transformer.single_transformer_blocks.1.proj_mlp", "256", "1024"},
        };
        for (String[] m : modules) {
            int in = Integer.parseInt(m[1]);
            int out = Integer.parseInt(m[2]);
            t.put(m[0] + ".lora_A.weight", randomTensor(random, 0.05, 2, in));
            t.put(m[0] + ".lora_B.weight", randomTensor(random, 0.05, out, 2));
            t.put(m[0] + ".alpha", Tensor.wrap(new float[]{1f}));
        }
        t.put(modules[0][0] + ".lora_B.bias", randomTensor(random, 0.1, 256));
        SafetensorsWriter.write(path, t);
        return path;
    }

    private static Tensor randomTensor(Random random, double std, int... shape) {
        float[] v = new float[Math.toIntExact(Tensor.count(shape))];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * std);
        }
        return Tensor.wrap(v, shape);
    }

    private static Tensor forward(FluxModel model) {
        return FluxGolden.forward(model, expected, FluxModel.Trace.NONE);
    }
}
