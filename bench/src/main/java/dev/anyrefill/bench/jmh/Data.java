package dev.anyrefill.bench.jmh;

import dev.anyrefill.kernels.cpu.CpuInfo;
import dev.anyrefill.kernels.cpu.KernelParameters;
import dev.anyrefill.tensor.DType;
import dev.anyrefill.tensor.Floats;
import dev.anyrefill.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/** Seeded random inputs for the benchmarks: F32 activations on the heap, BF16 weights off it. */
final class Data {
    /**
     * Prints, once per trial, the CPU and the kernels' parameters beside the scores that follow:
     * a score is only comparable with the machine and blocking it ran with.
     */
    static void printMachine() {
        System.out.println("# cpu: " + CpuInfo.detect().describe());
        System.out.println("# kernels: " + KernelParameters.describe());
    }

    private Data() {
    }

    static Tensor activations(long seed, int... shape) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(Tensor.count(shape))];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return Tensor.wrap(v, shape);
    }

    /** BF16 weights in an off-heap segment, like a view of a mapped checkpoint; values ~ U(-s, s). */
    static Tensor bf16Weights(Arena arena, long seed, float scale, int... shape) {
        long n = Tensor.count(shape);
        MemorySegment seg = arena.allocate(n * 2, 64);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long i = 0; i < n; i++) {
            seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i,
                    Floats.f32ToBf16((float) ((rnd.nextDouble() * 2 - 1) * scale)));
        }
        return Tensor.view(DType.BF16, shape, seg);
    }

    static int[] dims(String spec) {
        String[] parts = spec.split("x");
        int[] d = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            d[i] = Integer.parseInt(parts[i]);
        }
        return d;
    }
}
