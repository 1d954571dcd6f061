package dev.anyrefill.sampler;

import dev.anyrefill.tensor.Tensor;

/**
 * The starting noise: standard normal samples drawn exactly as PyTorch's CPU generator draws
 * {@code torch.randn(shape, dtype=..., generator=torch.Generator().manual_seed(seed))} in
 * float32 or float64, so a seed gives the same noise here as in PyTorch tools (up to the last
 * bits of log and cos). The golden reference drew its noise in float64, which is why
 * {@link #randn} defaults to that.
 *
 * <p>The generator is MT19937 seeded with the low 32 bits of the seed (the standard
 * initialisation). A float32 uniform in [0, 1) is the low 24 bits of one 32-bit draw times
 * 2^-24; a float64 uniform is the low 53 bits of two draws (first draw high) times 2^-53.
 * PyTorch fills the whole tensor with uniforms first, then turns each block of 16 into
 * normals by Box-Muller: u1 = 1 - data[j], u2 = data[j + 8] (j < 8), r = sqrt(-2 ln u1),
 * data[j] = r cos(2 pi u2), data[j + 8] = r sin(2 pi u2). When the size is not a multiple of
 * 16, the last 16 values are drawn again and transformed the same way. (Tensors of fewer than
 * 16 elements use another path in PyTorch, which this class does not reproduce; it refuses them.)
 */
public final class TorchRandom {
    private static final int N = 624;
    private static final int M = 397;
    private final int[] state = new int[N];
    private int next = N;

    public TorchRandom(long seed) {
        state[0] = (int) seed;
        for (int j = 1; j < N; j++) {
            state[j] = 1812433253 * (state[j - 1] ^ (state[j - 1] >>> 30)) + j;
        }
    }

    /** Standard normal noise as {@code torch.randn(shape, dtype=torch.float64)} on the CPU draws it. */
    public static Tensor randn(long seed, int... shape) {
        return new TorchRandom(seed).normal(true, shape);
    }

    /** Standard normal noise as {@code torch.randn(shape, dtype=torch.float32)} on the CPU draws it. */
    public static Tensor randnFloat32(long seed, int... shape) {
        return new TorchRandom(seed).normal(false, shape);
    }

    /** The next 32-bit output of MT19937. */
    public int nextInt() {
        if (next >= N) {
            twist();
        }
        int y = state[next++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    private void twist() {
        for (int i = 0; i < N; i++) {
            int y = (state[i] & 0x80000000) | (state[(i + 1) % N] & 0x7fffffff);
            int v = state[(i + M) % N] ^ (y >>> 1);
            state[i] = (y & 1) != 0 ? v ^ 0x9908b0df : v;
        }
        next = 0;
    }

    /** A float32 uniform in [0, 1) from the low 24 bits of one draw. */
    public float nextUniform() {
        return (nextInt() & 0xFFFFFF) * 0x1p-24f;
    }

    /** A float64 uniform in [0, 1) from the low 53 bits of two draws, the first one high. */
    public double nextUniformDouble() {
        long hi = nextInt() & 0xFFFFFFFFL;
        long lo = nextInt() & 0xFFFFFFFFL;
        return (((hi << 32) | lo) & ((1L << 53) - 1)) * 0x1p-53;
    }

    /**
     * Fills a new F32 tensor of the shape with normal samples, as torch.randn does in float64
     * ({@code float64 true}, then rounded to float32) or in float32.
     */
    public Tensor normal(boolean float64, int... shape) {
        int size = Math.toIntExact(Tensor.count(shape));
        if (size < 16) {
            throw new IllegalArgumentException("torch-compatible noise needs at least 16 elements, got shape "
                    + java.util.Arrays.toString(shape));
        }
        double[] data = new double[size];
        fillUniform(data, 0, size, float64);
        for (int i = 0; i + 16 <= size; i += 16) {
            boxMuller16(data, i, float64);
        }
        if (size % 16 != 0) {
            int from = size - 16;
            fillUniform(data, from, size, float64);
            boxMuller16(data, from, float64);
        }
        float[] out = new float[size];
        for (int i = 0; i < size; i++) {
            out[i] = (float) data[i];
        }
        return Tensor.wrap(out, shape);
    }

    private void fillUniform(double[] data, int from, int to, boolean float64) {
        for (int i = from; i < to; i++) {
            data[i] = float64 ? nextUniformDouble() : nextUniform();
        }
    }

    /** Box-Muller on 16 uniforms, in double or with float32 rounding after each step as PyTorch does. */
    private static void boxMuller16(double[] data, int at, boolean float64) {
        for (int j = 0; j < 8; j++) {
            double u1 = 1 - data[at + j]; // (0, 1] for the log
            double u2 = data[at + j + 8];
            if (float64) {
                double radius = Math.sqrt(-2 * Math.log(u1));
                double theta = 2.0 * Math.PI * u2;
                data[at + j] = radius * Math.cos(theta);
                data[at + j + 8] = radius * Math.sin(theta);
            } else {
                float radius = (float) Math.sqrt(-2 * (float) Math.log((float) u1));
                float theta = (float) (2.0 * Math.PI * u2);
                data[at + j] = radius * (float) Math.cos(theta);
                data[at + j + 8] = radius * (float) Math.sin(theta);
            }
        }
    }
}
