package dev.anyrefill.kernels;

/** Element-wise non-linearities, applied alone or fused into the end of a linear layer. */
public enum Activation {
    /** Identity. */
    NONE,
    /** GELU, tanh approximation (FLUX's MLPs, T5's gated feed-forward). */
    GELU_TANH,
    /** x * sigmoid(x), also called swish (FLUX's modulation and embedders, the VAE). */
    SILU,
    /** x * sigmoid(1.702 x) (CLIP). */
    QUICK_GELU;

    private static final float SQRT_2_OVER_PI = 0.7978845608028654f;

    public float apply(float x) {
        return switch (this) {
            case NONE -> x;
            case GELU_TANH -> 0.5f * x * (1f + (float) Math.tanh(SQRT_2_OVER_PI * (x + 0.044715f * x * x * x)));
            case SILU -> x / (1f + (float) Math.exp(-x));
            case QUICK_GELU -> x / (1f + (float) Math.exp(-1.702f * x));
        };
    }
}
