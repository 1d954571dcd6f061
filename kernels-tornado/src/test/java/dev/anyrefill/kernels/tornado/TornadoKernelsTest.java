package dev.anyrefill.kernels.tornado;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Backends;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Floats;
import dev.anyrefill.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every device kernel against the pure-Java backend on awkward sizes (nothing a multiple of
 * the work-group size). A kernel TornadoVM failed to compile either throws (the build runs
 * with tornado.recover.bailout=False) or, run in Java, computes only work-item 0, which these
 * comparisons catch.
 */
class TornadoKernelsTest extends OnTornado {
    /** A BF16 tensor over a heap buffer, like a weight viewed in a mapped checkpoint. */
    Tensor bf16(float scale, int... shape) {
        short[] words = new short[Math.toIntExact(Tensor.count(shape))];
        for (int i = 0; i < words.length; i++) {
            words[i] = Floats.f32ToBf16((float) random.nextGaussian() * scale);
        }
        return Tensor.view(DType.BF16, shape, MemorySegment.ofArray(words));
    }

    @Test
    void linearWithEveryActivation() {
        Tensor x = randn(37, 133);
        Tensor w = bf16(0.1f, 70, 133);
        Tensor b = bf16(1f, 70);
        for (Activation act : Activation.values()) {
            close("linear [37,133]x[70,133]^T+b " + act, tornado.linear(x, w, b, act), cpu.linear(x, w, b, act));
        }
        close("linear without bias", tornado.linear(x, w, null), cpu.linear(x, w, null));
    }

    @Test
    void everyFiniteBf16WordWidensExactly() {
        // x of ones times a [65536, 1] weight holding every BF16 word: each output is the widened
        // word. One row goes through the few-rows kernel, nine through the tiled one.
        short[] words = new short[65536];
        for (int i = 0; i < words.length; i++) {
            boolean infOrNan = ((i >> 7) & 0xFF) == 0xFF;
            words[i] = infOrNan ? 0 : (short) i;
        }
        Tensor w = Tensor.view(DType.BF16, new int[] {65536, 1}, MemorySegment.ofArray(words));
        for (int rows : new int[] {1, 9}) {
            float[] ones = new float[rows];
            Arrays.fill(ones, 1f);
            float[] got = tornado.linear(Tensor.wrap(ones, rows, 1), w, null).data();
            int wrong = 0;
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < words.length; i++) {
                    float expected = Floats.bf16ToF32(words[i]);
                    float g = got[r * words.length + i];
                    if (Float.floatToRawIntBits(g) != Float.floatToRawIntBits(expected) && !(expected == 0 && g == 0)) {
                        if (wrong++ < 5) {
                            System.out.printf("  word %04x: got %s, expected %s%n", i, g, expected);
                        }
                    }
                }
            }
            System.out.println("tornado BF16 widening, " + rows + " row(s): " + wrong
                    + " of 65536 words differ from Floats.bf16ToF32 (must be 0)");
            assertEquals(0, wrong);
        }
    }

    @Test
    void linearOfOneRowAndOfLeadingDimensions() {
        Tensor vec = randn(1, 48);
        Tensor w = bf16(0.2f, 6 * 48 + 5, 48);
        close("linear of one row (modulation)", tornado.linear(vec, w, null, Activation.SILU),
                cpu.linear(vec, w, null, Activation.SILU));
        Tensor x = randn(3, 5, 48);
        close("linear of [3,5,48]", tornado.linear(x, w, null), cpu.linear(x, w, null));
    }

    @Test
    void weightsAreSentOnce() {
        Tensor x = randn(20, 64);
        Tensor w = bf16(0.1f, 40, 64);
        tornado.linear(x, w, null);
        DeviceTraffic.Snapshot before = tornado.traffic().snapshot();
        Tensor x2 = randn(20, 64);
        close("linear, second call, same weight", tornado.linear(x2, w, null), cpu.linear(x2, w, null));
        DeviceTraffic.Snapshot step = tornado.traffic().snapshot().minus(before);
        System.out.println("second call moved: " + step);
        assertEquals(0, step.weightBytes(), "the weight went to the device again");
        // x [20, 64] and out [20, 40] travel as they are; the padding to whole 64 x 64 tiles
        // happens on the device
        assertEquals(20 * 64 * 4, step.activationBytesToDevice());
        assertEquals(20 * 40 * 4, step.bytesToHost());
    }

    @Test
    void aWeightInMemoryFreedAndAllocatedAgainIsSentAgain() {
        // Each round's weight lives in memory freed at the end of the round; the allocator may
        // hand the next round the same address, which must not find the old device copy.
        Tensor x = randn(20, 64);
        for (int round = 0; round < 3; round++) {
            try (Arena arena = Arena.ofShared()) {
                MemorySegment seg = arena.allocate(2L * 40 * 64, 64);
                for (long i = 0; i < 40 * 64; i++) {
                    seg.setAtIndex(ValueLayout.JAVA_SHORT, i, Floats.f32ToBf16((float) random.nextGaussian() * 0.1f));
                }
                Tensor w = Tensor.view(DType.BF16, new int[] {40, 64}, seg);
                close("linear, weight of round " + round + " at " + Long.toHexString(seg.address()),
                        tornado.linear(x, w, null), cpu.linear(x, w, null));
            }
        }
    }

    @Test
    void flashAttentionOverLongerAndShorterKeys() {
        for (int[] s : new int[][] {{37, 37, 3, 128}, {21, 53, 2, 128}, {40, 9, 2, 64}, {1, 300, 1, 128}}) {
            Tensor q = randn(s[0], s[2], s[3]);
            Tensor k = randn(s[1], s[2], s[3]);
            Tensor v = randn(s[1], s[2], s[3]);
            close(String.format("attention lq %d lk %d heads %d d %d", s[0], s[1], s[2], s[3]),
                    tornado.attention(q, k, v), cpu.attention(q, k, v));
        }
    }

    @Test
    void attentionWithLargeScoresStaysFinite() {
        Tensor q = tornado.scale(randn(33, 2, 128), 8f);
        Tensor k = randn(70, 2, 128);
        Tensor v = randn(70, 2, 128);
        // scores with a spread of ~60: float exp of large arguments differs in the last bits
        close("attention, scores spread ~60 (online rescaling)", tornado.attention(q, k, v), cpu.attention(q, k, v), 1e-4);
    }

    @Test
    void norms() {
        Tensor x = randn(37, 300);
        for (int i = 0; i < x.data().length; i++) {
            x.data()[i] += 3f; // a mean far from 0, as in real activations
        }
        Tensor w = bf16(1f, 300);
        Tensor b = bf16(1f, 300);
        close("layerNorm affine", tornado.layerNorm(x, w, b, 1e-6f), cpu.layerNorm(x, w, b, 1e-6f));
        close("layerNorm plain", tornado.layerNorm(x, null, null, 1e-6f), cpu.layerNorm(x, null, null, 1e-6f));
        close("rmsNorm", tornado.rmsNorm(x, w, 1e-6f), cpu.rmsNorm(x, w, 1e-6f));
        Tensor shift = randn(300);
        Tensor scale = randn(300);
        close("layerNormModulate", tornado.layerNormModulate(x, shift, scale, 1e-6f),
                cpu.layerNormModulate(x, shift, scale, 1e-6f));
        Tensor heads = randn(37, 3, 128);
        close("rmsNorm per head (QKNorm)", tornado.rmsNorm(heads, w.viewRows(0, 128), 1e-6f),
                cpu.rmsNorm(heads, w.viewRows(0, 128), 1e-6f));
    }

    @Test
    void ropeActivationsAndGatedResidual() {
        Tensor x = randn(37, 3, 128);
        Tensor pe = randn(37, 64, 2, 2);
        close("rope [37,3,128]", tornado.rope(x, pe), cpu.rope(x, pe));
        Tensor y = randn(37, 301);
        for (Activation act : Activation.values()) {
            close("activation " + act, tornado.activation(y, act), cpu.activation(y, act));
        }
        Tensor r = randn(37, 301);
        Tensor gate = randn(301);
        close("gatedResidual", tornado.gatedResidual(r, gate, y), cpu.gatedResidual(r, gate, y));
    }

    @Test
    void otherWeightTypesAndBiasedAttentionStayInJava() {
        Tensor x = randn(5, 16);
        Tensor w = randn(7, 16);
        close("linear with F32 weight (Java path)", tornado.linear(x, w, null), cpu.linear(x, w, null));
        Tensor q = randn(6, 1, 16);
        close("causal attention (Java path)", tornado.attention(q, q, q, 0.25f, null, true),
                cpu.attention(q, q, q, 0.25f, null, true));
    }

    @Test
    void theBackendIsFoundByName() {
        Kernels k = Backends.byName("tornado");
        assertInstanceOf(TornadoKernels.class, k);
        assertTrue(Backends.available().contains("tornado"));
        ((TornadoKernels) k).close();
    }
}
