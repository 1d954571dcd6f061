package dev.anyrefill.kernels;

import dev.anyrefill.tensor.Tensor;

/**
 * Every piece of arithmetic the models do. The FLUX transformer, the VAE, the text encoders
 * and the sampler are written once against this interface; a backend (pure Java, TornadoVM)
 * decides where and how the arithmetic runs, never what it computes.
 *
 * <p>Conventions: activations are F32 tensors, row-major, tokens first ({@code [L, C]}, or
 * {@code [L, H, D]} for attention heads); images are {@code [C, H, W]}. Weights come in the
 * type they are stored in (BF16, F16, F8, F32) and are widened inside the kernel. Operations
 * return new tensors and never modify their inputs, unless the name says {@code InPlace}.
 */
public interface Kernels {

    /** A short name for logs and benchmarks ("java", "tornado"). */
    String name();

    // ---- lifetimes ------------------------------------------------------------------------

    /**
     * A stretch of work (a transformer block, a whole forward pass) whose intermediate tensors
     * are not used after it ends, except those it {@linkplain Scope#keep keeps}. A backend
     * that holds tensors in device memory keeps them there for the whole scope, runs its
     * operations when the host first reads a result, and frees the rest when the scope closes;
     * the Java backend, whose tensors the garbage collector frees, does nothing (unless it
     * {@linkplain ScopeCheckingKernels checks} the protocol). Scopes nest.
     */
    default Scope scope() {
        return scopeFreeing(null);
    }

    /**
     * A {@linkplain #scope() scope} named after the part of the model it runs (a module's BFL
     * name, {@code double_blocks.3} or {@code double_blocks.3.img_attn.qkv}): a device backend
     * names its launches after it, so that a profile maps back to the model. An unnamed scope
     * takes its enclosing scope's name.
     */
    default Scope scope(String name) {
        return scopeFreeing(name);
    }

    /**
     * A named {@linkplain #scope(String) scope} that also frees, when it closes, the listed
     * tensors of the enclosing scopes: a block's input activations, which nothing reads after
     * the block.
     */
    default Scope scopeFreeing(String name, Tensor... freedWithIt) {
        return Scope.NONE;
    }

    /** See {@link Kernels#scope()}. */
    interface Scope extends AutoCloseable {
        /** The scope of a backend without device memory: keeps everything, frees nothing. */
        Scope NONE = new Scope() {
            @Override
            public Tensor keep(Tensor t) {
                return t;
            }

            @Override
            public void close() {
            }
        };

        /**
         * Keeps t past the end of this scope, in the enclosing one, and returns it; the outermost
         * scope returns it as a heap tensor (its values brought to the host).
         */
        Tensor keep(Tensor t);

        /** Ends the scope: its tensors that were not kept may no longer be read. */
        @Override
        void close();
    }

    // ---- linear algebra -------------------------------------------------------------------

    /**
     * {@code act(x W^T + b)}: x [M, K], w [N, K] in its stored type, bias [N] or null;
     * returns [M, N]. x may have more leading dimensions; they are flattened into M and kept.
     */
    Tensor linear(Tensor x, Tensor w, Tensor bias, Activation act);

    default Tensor linear(Tensor x, Tensor w, Tensor bias) {
        return linear(x, w, bias, Activation.NONE);
    }

    /**
     * Scaled dot-product attention over all tokens, per head:
     * softmax(scale * Q K^T + bias) V. q [Lq, H, D], k and v [Lk, H, D]; returns [Lq, H * D].
     *
     * @param bias   additive, broadcastable [H or 1, Lq, Lk], or null (T5's position bias,
     *               padding masks as -infinity)
     * @param causal token i attends only to tokens j <= i (CLIP)
     */
    Tensor attention(Tensor q, Tensor k, Tensor v, float scale, Tensor bias, boolean causal);

    /** Non-causal attention with the usual 1/sqrt(D) scale and no bias (FLUX). */
    default Tensor attention(Tensor q, Tensor k, Tensor v) {
        return attention(q, k, v, (float) (1 / Math.sqrt(q.dim(-1))), null, false);
    }

    // ---- normalisation --------------------------------------------------------------------

    /** Layer norm over the last dimension; weight and bias [C] or null for none (FLUX's norms). */
    Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps);

    /** x * rsqrt(mean(x^2) + eps) * scale over the last dimension; scale [C]. */
    Tensor rmsNorm(Tensor x, Tensor scale, float eps);

    /** Group norm of an image [C, H, W] with affine weight and bias [C]. */
    Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps);

    /**
     * FLUX's pre-attention and pre-MLP step, fused: {@code (1 + scale) * layerNorm(x) + shift}
     * with a non-affine layer norm; x [L, C], shift and scale [C].
     */
    Tensor layerNormModulate(Tensor x, Tensor shift, Tensor scale, float eps);

    // ---- element-wise ---------------------------------------------------------------------

    Tensor activation(Tensor x, Activation act);

    /** a + b, same shapes, or b of one row broadcast over every row of a. */
    Tensor add(Tensor a, Tensor b);

    /** a * b element-wise, same shapes, or b of one row broadcast over every row of a. */
    Tensor mul(Tensor a, Tensor b);

    /** a * s. */
    Tensor scale(Tensor a, float s);

    /** {@code residual + gate * x}: x and residual [L, C], gate [C] (FLUX's gated residuals). */
    Tensor gatedResidual(Tensor residual, Tensor gate, Tensor x);

    /** {@code x += s * y} in place (the Euler step, accumulating gradients); x must be a heap F32 tensor. */
    void axpyInPlace(Tensor x, float s, Tensor y);

    // ---- positions --------------------------------------------------------------------------

    /**
     * Rotary embedding: x [L, H, D], pe [L, D/2, 2, 2] (BFL's rotation matrices); each pair
     * (x[2i], x[2i+1]) of every head is multiplied by the 2x2 matrix pe[l, i].
     */
    Tensor rope(Tensor x, Tensor pe);

    // ---- layout -----------------------------------------------------------------------------

    /** Concatenation along the first dimension (tokens). */
    Tensor concatRows(Tensor... parts);

    /** Concatenation along the last dimension (channels); all parts have the same row count. */
    Tensor concatColumns(Tensor... parts);

    /** Columns [from, to) of every row: [L, C] to [L, to - from]. */
    Tensor sliceColumns(Tensor x, int from, int to);

    /** Rows [from, to) of the first dimension. */
    Tensor sliceRows(Tensor x, int from, int to);

    /** [R, C] to [C, R]. */
    Tensor transpose(Tensor x);

    /** Rows of a table (an embedding, in its stored type) picked by ids: [N] ids to [N, C]. */
    Tensor gatherRows(Tensor table, int[] ids);

    // ---- images -----------------------------------------------------------------------------

    /**
     * 2-D convolution of x [C, H, W] with w [O, C, kh, kw] and bias [O] or null, the given
     * stride, and zero padding {top, bottom, left, right}; returns [O, H', W'].
     */
    Tensor conv2d(Tensor x, Tensor w, Tensor bias, int stride, int[] padding);

    /** Nearest-neighbour 2x upsampling of [C, H, W] to [C, 2H, 2W]. */
    Tensor upsampleNearest2x(Tensor x);

    // ---- fused group norm + activation (the VAE's norm, then SiLU) --------------------------

    /** {@code act(groupNorm(x))} in one result buffer (the VAE's norm + swish; saves a full-size tensor). */
    default Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps, Activation act) {
        return activation(groupNorm(x, groups, weight, bias, eps), act);
    }

    // ---- backward (training) ----------------------------------------------------------------
    // Each operation's backward takes the forward's inputs (and what the forward saved, where
    // recomputing it would cost a pass of its own: attention's log-sum-exp) and the gradient of
    // the forward's output; it returns the gradients of the inputs. Weights are read in their
    // stored type, as in the forward.

    /** Attention's output and, per head and query, the log-sum-exp of its scaled scores. */
    record AttentionOutput(Tensor out, Tensor lse) {
    }

    /** The gradients of attention's q, k, v, each of its input's shape. */
    record AttentionGrads(Tensor dq, Tensor dk, Tensor dv) {
    }

    /** The gradients of a norm's input and of its per-channel parameters ([C]; null where none). */
    record NormGrads(Tensor dx, Tensor dScale, Tensor dShift) {
    }

    /** The gradients of a convolution: dx of x's shape, dw [O, C, kh, kw] (F32) and db [O]. */
    record ConvGrads(Tensor dx, Tensor dw, Tensor db) {
    }

    /** The backward of {@link #conv2d}: x, w, stride and padding as the forward had them, dy [O, H', W']. */
    ConvGrads conv2dBackward(Tensor x, Tensor w, int stride, int[] padding, Tensor dy);

    /** The backward of {@link #groupNorm(Tensor, int, Tensor, Tensor, float)}: dx, d weight and d bias ([C]). */
    NormGrads groupNormBackward(Tensor x, int groups, Tensor weight, float eps, Tensor dy);

    /** The backward of {@link #upsampleNearest2x}: dy [C, 2H, 2W] summed over each pixel's 2x2 copies, [C, H, W]. */
    Tensor upsampleNearest2xBackward(Tensor dy);

    /**
     * {@link #attention(Tensor, Tensor, Tensor)} (FLUX's: non-causal, no bias, 1/sqrt(D)) that
     * also returns lse [H, Lq], which {@link #attentionBackward} needs.
     */
    AttentionOutput attentionWithLogSumExp(Tensor q, Tensor k, Tensor v);

    /**
     * The backward of {@link #attentionWithLogSumExp}: q [Lq, H, D], k and v [Lk, H, D], out and
     * dOut [Lq, H * D], lse [H, Lq]; never forms an L x L matrix.
     */
    AttentionGrads attentionBackward(Tensor q, Tensor k, Tensor v, AttentionOutput out, Tensor dOut);

    /** dx = dy W, the input gradient of {@link #linear}: dy [M, N], w [N, K] in its stored type; returns [M, K]. */
    Tensor linearBackwardInput(Tensor dy, Tensor w);

    /** dW = dy^T x, the weight gradient of {@link #linear}: dy [M, N], x [M, K]; returns [N, K]. */
    Tensor linearBackwardWeight(Tensor dy, Tensor x);

    /** The sum over rows: [rows, C] to [C] (bias gradients; modulation gradients over tokens). */
    Tensor sumRows(Tensor x);

    /** dx = dy * act'(x), the backward of {@link #activation} (and of a linear's fused activation). */
    Tensor activationBackward(Tensor x, Tensor dy, Activation act);

    /** The backward of {@link #layerNormModulate}: dx, d scale and d shift (both [C]). */
    NormGrads layerNormModulateBackward(Tensor x, Tensor shift, Tensor scale, float eps, Tensor dy);

    /** The backward of {@link #rmsNorm}: dx and d scale. */
    NormGrads rmsNormBackward(Tensor x, Tensor scale, float eps, Tensor dy);

    /**
     * The backward of {@link #rope}: each 2x2 rotation is orthogonal, so the input gradient is
     * the output gradient rotated back, i.e. multiplied by the transposed matrices.
     */
    Tensor ropeBackward(Tensor dy, Tensor pe);

    /**
     * The backward of {@link #gatedResidual} ({@code residual + gate * x}): returns {dx, d gate};
     * the residual's gradient is dOut itself.
     */
    default Tensor[] gatedResidualBackward(Tensor gate, Tensor x, Tensor dOut) {
        return new Tensor[]{mul(dOut, gate), sumRows(mul(dOut, x))};
    }
}
