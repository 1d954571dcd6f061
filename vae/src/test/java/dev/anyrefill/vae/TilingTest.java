package dev.anyrefill.vae;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.kernels.Backends;
import dev.anyrefill.kernels.JavaKernels;
import dev.anyrefill.tensor.Compare;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.testing.GoldenFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tiled encode and decode of the golden 64x128 canvas (latent 8x16) against the untiled
 * result. Tiles are not exact (GroupNorm statistics are per tile), so the comparison uses a
 * looser, stated tolerance on the project's error measure.
 */
class TilingTest {
    /**
     * max |tiled - untiled| allowed, in image units ([-1, 1]) and latent units. Tiles see their
     * own GroupNorm statistics; with this tiny random AutoEncoder and 64-pixel tiles that is
     * worth about 0.1 (13 of 255 grey levels); real weights and 512-pixel tiles do far better.
     */
    static final double PIXEL_TOLERANCE = 0.15;
    static final double LATENT_TOLERANCE = 0.1;

    @RegisterExtension
    static final TinyAutoEncoder ae = new TinyAutoEncoder();
    @RegisterExtension
    static final GoldenFile expected = GoldenFile.expected();

    @Test
    void spansCoverTheSideWithTheGivenOverlap() {
        Tiling tiling = new Tiling(8, 4);
        List<int[]> spans = tiling.spans(16);
        assertEquals(3, spans.size());
        assertArrayEquals(new int[]{0, 8}, spans.get(0));
        assertArrayEquals(new int[]{4, 12}, spans.get(1));
        assertArrayEquals(new int[]{8, 16}, spans.get(2));
        List<int[]> uneven = new Tiling(8, 2).spans(17); // the last tile is flush with the end
        assertArrayEquals(new int[]{9, 17}, uneven.get(uneven.size() - 1));
        assertThrows(IllegalArgumentException.class, () -> new Tiling(8, 8));
    }

    @Test
    void tilesOfAPointwiseOperationReassembleExactly() {
        // Nearest 8x upsampling has no context across tiles, so tiling must reproduce it
        // exactly: this checks the cropping, placing and seam blending themselves.
        Kernels k = Backends.java();
        Tensor z = expected.get("vae.encoded").toF32(); // [16, 8, 16]
        UnaryOperator<Tensor> up8 = t -> k.upsampleNearest2x(k.upsampleNearest2x(k.upsampleNearest2x(t)));
        Tensor tiled = new Tiling(6, 3).apply(k, z, 1, 8, 16, up8);
        double err = Compare.relativeError(tiled, up8.apply(z));
        System.out.printf("tiling: 6/3 tiles of nearest 8x upsampling vs whole, error %.3e (tolerance 1e-5, the rounding of the blend weights)%n", err);
        assertTrue(err < 1e-5, "tiles reassemble exactly: " + err);
    }

    @Test
    void oneTileTakesTheUntiledPath() {
        Tensor z = expected.get("vae.encoded").toF32();
        Tensor tiled = new Tiling(16, 4).decode(ae.model(), z);
        // two runs of the same decode are not bit-identical (JavaKernels' vector reductions
        // round differently before and after JIT compilation): about 5e-6 apart
        Golden.assertClose("one tile vs untiled decode", tiled, ae.model().decode(z), 1e-4);
    }

    @Test
    void tiledDecodeIsCloseToUntiledAndBlendingHelps() {
        Tensor z = expected.get("vae.encoded").toF32();
        Tensor whole = ae.model().decode(z);
        double blended = Compare.maxAbsDiff(new Tiling(8, 4).decode(ae.model(), z), whole); // 1 x 3 tiles
        double cut = Compare.maxAbsDiff(new Tiling(8, 0).decode(ae.model(), z), whole); // 1 x 2 tiles, no overlap
        System.out.printf("tiled decode vs untiled, max |diff| in [-1, 1] pixels: 8/4 tiles %.3e (tolerance %.2f),"
                + " 8/0 tiles %.3e%n", blended, PIXEL_TOLERANCE, cut);
        assertTrue(blended < PIXEL_TOLERANCE, "tiled decode within " + PIXEL_TOLERANCE + ": " + blended);
        assertTrue(blended < cut, "overlapping, blended tiles beat abutting ones");
    }

    @Test
    void tiledEncodeIsCloseToUntiled() {
        Tensor canvas = expected.get("vae.canvas").toF32();
        Tensor whole = ae.model().encode(canvas);
        double err = Compare.maxAbsDiff(new Tiling(8, 4).encode(ae.model(), canvas), whole); // 1 x 3 tiles of 64x64 px
        System.out.printf("tiled encode vs untiled, max |diff| of latents: 8/4 tiles %.3e (tolerance %.2f)%n",
                err, LATENT_TOLERANCE);
        assertTrue(err < LATENT_TOLERANCE, "tiled encode within " + LATENT_TOLERANCE + ": " + err);
    }
}
