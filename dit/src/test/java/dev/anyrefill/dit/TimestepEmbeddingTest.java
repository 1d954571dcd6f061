package dev.anyrefill.dit;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The float32 exponential behind the timestep embedding, against Math.exp. */
class TimestepEmbeddingTest {
    @Test
    void expfIsWithinOneUlpOfTheExactValue() {
        double worst = 0;
        for (float d = -103f; d < 88.7f; d += 0.0037f) {
            double exact = Math.exp(d);
            double ulps = Math.abs(TimestepEmbedding.expf(d) - exact) / Math.ulp((float) exact);
            worst = Math.max(worst, ulps);
        }
        System.out.printf("expf: worst error %.3f float32 ulps over [-103, 88.7] (tolerance 1)%n", worst);
        assertTrue(worst <= 1.0, "expf error " + worst + " ulps");
        assertEquals(1f, TimestepEmbedding.expf(0f));
        assertEquals(0f, TimestepEmbedding.expf(-200f));
        assertEquals(Float.POSITIVE_INFINITY, TimestepEmbedding.expf(100f));
    }
}
