package dev.anyrefill.vae;

import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.testing.GoldenFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The tiny AutoEncoder against BFL's float64 outputs (testdata/golden/tiny). */
class AutoEncoderGoldenTest {
    @RegisterExtension
    static final TinyAutoEncoder ae = new TinyAutoEncoder();
    @RegisterExtension
    static final GoldenFile expected = GoldenFile.expected();

    @Test
    void infersTheTinyConfig() {
        AutoEncoderParams p = ae.model().params();
        assertEquals(32, p.ch());
        assertArrayEquals(new int[]{1, 2, 2, 2}, p.chMult());
        assertEquals(1, p.numResBlocks());
        assertEquals(16, p.zChannels());
        assertEquals(0.3611f, p.scaleFactor());
        assertEquals(0.1159f, p.shiftFactor());
        assertEquals(ae.file().names().size(), p.parameterShapes().size(), "every checkpoint tensor is accounted for");
    }

    @Test
    void encodesTheCanvas() {
        Tensor z = ae.model().encode(expected.get("vae.canvas").toF32());
        Golden.assertClose("vae.encoded", z, expected.get("vae.encoded"));
    }

    @Test
    void decodesTheLatent() {
        Tensor image = ae.model().decode(expected.get("vae.encoded").toF32());
        Golden.assertClose("vae.decoded", image, expected.get("vae.decoded"));
    }

    @Test
    void decodesTheDenoisedLatent() {
        Tensor image = ae.model().decode(expected.get("denoise.latent").toF32());
        Golden.assertClose("denoise.image", image, expected.get("denoise.image"));
    }
}
