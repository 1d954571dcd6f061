package dev.anyrefill.vae;

import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.testing.GoldenFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The tiny AutoEncoder against BFL's float64 outputs (testdata/golden/tiny). */
class AutoEncoderGoldenTest {
    @RegisterExtension
    static final GoldenFile ae = GoldenFile.tiny("ae.safetensors");
    @RegisterExtension
    static final GoldenFile expected = GoldenFile.expected();
    static AutoEncoder autoEncoder;

    @BeforeAll
    static void build() {
        autoEncoder = new AutoEncoder(ae.file(), new JavaKernels());
    }

    @Test
    void infersTheTinyConfig() {
        AutoEncoderParams p = autoEncoder.params();
        assertEquals(32, p.ch());
        assertArrayEquals(new int[]{1, 2, 2, 2}, p.chMult());
        assertEquals(1, p.numResBlocks());
        assertEquals(16, p.zChannels());
        assertEquals(0.3611f, p.scaleFactor());
        assertEquals(0.1159f, p.shiftFactor());
        assertEquals(ae.names().size(), p.parameterShapes().size(), "every checkpoint tensor is accounted for");
    }

    @Test
    void encodesTheCanvas() {
        Tensor z = autoEncoder.encode(expected.get("vae.canvas").toF32());
        Golden.assertClose("vae.encoded", z, expected.get("vae.encoded"));
    }

    @Test
    void decodesTheLatent() {
        Tensor image = autoEncoder.decode(expected.get("vae.encoded").toF32());
        Golden.assertClose("vae.decoded", image, expected.get("vae.decoded"));
    }

    @Test
    void decodesTheDenoisedLatent() {
        Tensor image = autoEncoder.decode(expected.get("denoise.latent").toF32());
        Golden.assertClose("denoise.image", image, expected.get("denoise.image"));
    }
}
