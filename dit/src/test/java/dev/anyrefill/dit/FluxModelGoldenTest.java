package dev.anyrefill.dit;

import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.weights.FluxCheckpoint;
import dev.anyrefill.weights.SafetensorsFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The forward pass against BFL's reference (testdata/golden/tiny, float64), both checkpoint layouts. */
class FluxModelGoldenTest {
    private static SafetensorsFile expected;

    @BeforeAll
    static void open() {
        expected = Golden.expected();
    }

    @AfterAll
    static void close() {
        expected.close();
    }

    @Test
    void timestepEmbeddings() {
        int checked = 0;
        for (String name : expected.names()) {
            if (name.startsWith("timestep_embedding.")) {
                double t = Double.parseDouble(name.substring("timestep_embedding.".length()));
                Tensor got = TimestepEmbedding.of(t, 256);
                Tensor ref = expected.get(name);
                if (t * TimestepEmbedding.TIME_FACTOR <= 1000) {
                    Golden.assertClose(name, got, ref);
                } else {
                    assertArgumentsWithinUlps(name, t, ref);
                    // At t = 30 (guidance) the arguments reach 30000 rad, where one float32 ulp is
                    // 2e-3 rad: the reference's float32 exp is off by an ulp from the correctly
                    // rounded one in some frequencies, so the values can differ by one ulp's worth.
                    Golden.assertClose(name + " (float32 arguments up to 3e4 rad)", got, ref, 2e-3);
                }
                checked++;
            }
        }
        assertEquals(4, checked, "timestep_embedding.* tensors in the golden file");
    }

    /**
     * The angle each (cos, sin) pair of the reference encodes must be our float32 argument within
     * two float32 ulps: the reference differs from us only in rounding, never in formula.
     */
    private static void assertArgumentsWithinUlps(String name, double t, Tensor ref) {
        int half = ref.cols() / 2;
        float scaled = (float) (TimestepEmbedding.TIME_FACTOR * t);
        float logPeriod = (float) -Math.log(TimestepEmbedding.MAX_PERIOD);
        double worst = 0;
        for (int i = 0; i < half; i++) {
            float arg = scaled * (float) Math.exp(logPeriod * i / half);
            double implied = Math.atan2(ref.getFloat(half + i), ref.getFloat(i));
            double diff = Math.abs(Math.IEEEremainder(arg - implied, 2 * Math.PI));
            worst = Math.max(worst, diff / Math.ulp(arg));
        }
        System.out.printf("golden %-40s argument error %.2f float32 ulps (tolerance 2.5)%n", name, worst);
        assertTrue(worst <= 2.5, name + ": arguments differ by " + worst + " ulps");
    }

    @ParameterizedTest
    @ValueSource(strings = {"flux-fill.safetensors", "flux-fill-diffusers.safetensors"})
    void forwardMatchesReference(String file) {
        try (FluxCheckpoint ckpt = FluxCheckpoint.open(Golden.tiny(file))) {
            FluxModel model = new FluxModel(ckpt, new JavaKernels());
            Map<String, Tensor> trace = new HashMap<>();
            Tensor img = model.kernels().concatColumns(expected.get("img_packed").toF32(),
                    expected.get("img_cond").toF32());
            Tensor velocity = model.forward(img, expected.get("img_ids"), expected.get("txt").toF32(),
                    expected.get("txt_ids"), expected.get("forward.t").getFloat(0),
                    expected.get("vec").toF32(), 30.0, trace::put);
            Golden.assertClose(file + " forward.vec", trace.get("vec"), expected.get("forward.vec"));
            Golden.assertClose(file + " forward.pe", trace.get("pe"), expected.get("forward.pe"));
            int traced = 0;
            for (String name : expected.names()) {
                if (name.startsWith("trace.")) {
                    assertTrue(trace.containsKey(name), "model did not trace " + name);
                    Golden.assertClose(file + " " + name, trace.get(name), expected.get(name));
                    traced++;
                }
            }
            assertEquals(6, traced, "trace.* tensors in the golden file");
            Golden.assertClose(file + " forward.velocity", velocity, expected.get("forward.velocity"));
        }
    }
}
