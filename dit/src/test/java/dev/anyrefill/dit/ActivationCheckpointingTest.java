package dev.anyrefill.dit;

import dev.anyrefill.weights.FluxConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** What auto keeps: the miniature whole, FLUX.1-Fill-dev checkpointed, a bench pair whole on a 6 GB heap. */
class ActivationCheckpointingTest {
    private static FluxConfig flux(int hidden, int heads, int depth, int single) {
        return new FluxConfig(384, 64, 768, 4096, hidden, 4.0, heads, depth, single, new int[] {16, 56, 56}, 10000, true, true);
    }

    @Test
    void autoKeepsEverythingWhereItTakesAtMostHalfTheHeap() {
        long gb = 1L << 30;
        FluxConfig fillDev = flux(3072, 24, 19, 38);
        // 1024 x 1024 with 512 text tokens: 4608 tokens, 57 blocks, about 126 GiB of activations
        System.out.printf("FLUX.1-Fill-dev at 4608 tokens would keep %.1f GB%n",
                ActivationCheckpointing.keptBytes(fillDev, 4608) / (double) gb);
        assertEquals(ActivationCheckpointing.BLOCKS, ActivationCheckpointing.AUTO.resolve(fillDev, 4608, 14 * gb));
        FluxConfig pair = flux(3072, 24, 1, 1);
        assertEquals(2L * 2560 * 3072 * 42 * 4, ActivationCheckpointing.keptBytes(pair, 2560), "42 floats a token and channel");
        assertEquals(ActivationCheckpointing.NONE, ActivationCheckpointing.AUTO.resolve(pair, 2560, 6 * gb), "2.5 GiB of 6");
        assertEquals(ActivationCheckpointing.BLOCKS, ActivationCheckpointing.AUTO.resolve(pair, 2560, 4 * gb), "2.5 GiB of 4");
        FluxConfig miniature = flux(256, 2, 2, 2);
        assertEquals(ActivationCheckpointing.NONE, ActivationCheckpointing.AUTO.resolve(miniature, 512 + 64, gb / 2));
        assertEquals(ActivationCheckpointing.BLOCKS, ActivationCheckpointing.BLOCKS.resolve(miniature, 512 + 64, gb),
                "an explicit choice stays");
    }

    @Test
    void namesAreTheCommandLines() {
        assertEquals(ActivationCheckpointing.NONE, ActivationCheckpointing.fromCliName("none"));
        assertEquals("blocks", ActivationCheckpointing.BLOCKS.cliName());
        assertEquals("--activation-checkpointing 'all': auto, blocks or none",
                assertThrows(IllegalArgumentException.class, () -> ActivationCheckpointing.fromCliName("all")).getMessage());
    }
}
