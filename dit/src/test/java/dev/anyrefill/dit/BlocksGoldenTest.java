package dev.anyrefill.dit;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.testing.Golden;
import dev.anyrefill.testing.GoldenFile;
import dev.anyrefill.weights.FluxCheckpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The transformer's pieces one at a time against BFL's trace of the tiny model
 * (testdata/golden/tiny/expected.safetensors, float64): each block is fed the reference's own
 * input for it, so an error shows in the block that makes it, not only in the velocity.
 */
class BlocksGoldenTest {
    @RegisterExtension
    static final GoldenFile expected = GoldenFile.expected();
    /** Same bound as the whole-model golden tests: F32 arithmetic against float64. */
    private static final double TOLERANCE = Golden.TOLERANCE;

    private static FluxCheckpoint checkpoint;
    private static FluxModel model;
    private static final Kernels K = Backends.java();

    @BeforeAll
    static void open() {
        checkpoint = FluxCheckpoint.open(Golden.tiny("flux-fill.safetensors"));
        model = new FluxModel(checkpoint, K);
    }

    @AfterAll
    static void close() {
        checkpoint.close();
    }

    private static Tensor ref(String name) {
        return expected.get(name).toF32();
    }

    @Test
    void embedNDGivesTheReferencePositions() {
        Tensor ids = K.concatRows(ref("txt_ids"), ref("img_ids"));
        Golden.assertClose("EmbedND(txt_ids ++ img_ids)", model.peEmbedder.forward(ids), ref("forward.pe"), TOLERANCE);
    }

    /** Modulation against the formula computed here in double: lin(silu(vec)) cut into six chunks. */
    @Test
    void modulationIsLinOfSiluCutIntoChunks() {
        DoubleStreamBlock block = model.doubleBlocks.getFirst();
        Tensor vec = ref("forward.vec");
        Modulation.ModulationOut[] mods = block.imgMod.forward(K, vec);
        assertEquals(2, mods.length, "a double block's modulation sets");
        Tensor w = block.imgMod.lin.baseWeight().toF32();  // [6 hidden, hidden]
        Tensor b = block.imgMod.lin.baseBias().toF32();    // [6 hidden]
        int hidden = vec.cols();
        float[] expectedOut = new float[6 * hidden];
        for (int o = 0; o < 6 * hidden; o++) {
            double sum = b.getFloat(o);
            for (int i = 0; i < hidden; i++) {
                double v = vec.getFloat(i);
                sum += w.getFloat((long) o * hidden + i) * (v / (1 + Math.exp(-v)));
            }
            expectedOut[o] = (float) sum;
        }
        Tensor[] chunks = {mods[0].shift(), mods[0].scale(), mods[0].gate(), mods[1].shift(), mods[1].scale(),
                mods[1].gate()};
        for (int c = 0; c < 6; c++) {
            float[] part = java.util.Arrays.copyOfRange(expectedOut, c * hidden, (c + 1) * hidden);
            Golden.assertClose("img_mod chunk " + c, chunks[c], Tensor.wrap(part, hidden), 1e-5);
        }
        // the single block's modulation cuts three chunks, the same way
        assertEquals(1, model.singleBlocks.getFirst().modulation.forward(K, vec).length, "a single block's sets");
    }

    @Test
    void doubleBlockOneFromTheReferenceInputs() {
        Tensor[] out = model.doubleBlocks.get(1).forward(K, ref("trace.double_blocks.0.img"),
                ref("trace.double_blocks.0.txt"), ref("forward.vec"), ref("forward.pe"));
        Golden.assertClose("double_blocks.1 img", out[0], ref("trace.double_blocks.1.img"), TOLERANCE);
        Golden.assertClose("double_blocks.1 txt", out[1], ref("trace.double_blocks.1.txt"), TOLERANCE);
    }

    @Test
    void singleBlockOneFromTheReferenceInput() {
        Tensor out = model.singleBlocks.get(1).forward(K, ref("trace.single_blocks.0"), ref("forward.vec"),
                ref("forward.pe"));
        Golden.assertClose("single_blocks.1", out, ref("trace.single_blocks.1"), TOLERANCE);
    }
}
