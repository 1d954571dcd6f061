package dev.anyrefill.text.clip;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/** One CLIP encoder layer: pre-LayerNorm causal self-attention and pre-LayerNorm MLP, each with a residual. */
final class ClipEncoderLayer {
    private final Tensor layerNorm1W;
    private final Tensor layerNorm1B;
    private final ClipAttention selfAttn;
    private final Tensor layerNorm2W;
    private final Tensor layerNorm2B;
    private final ClipMlp mlp;
    private final float eps;

    ClipEncoderLayer(TensorSource w, int index, ClipTextConfig c) {
        String p = ClipTextConfig.PREFIX + "encoder.layers." + index + ".";
        this.layerNorm1W = w.get(p + "layer_norm1.weight", c.hidden());
        this.layerNorm1B = w.get(p + "layer_norm1.bias", c.hidden());
        this.selfAttn = new ClipAttention(w, p + "self_attn.", c);
        this.layerNorm2W = w.get(p + "layer_norm2.weight", c.hidden());
        this.layerNorm2B = w.get(p + "layer_norm2.bias", c.hidden());
        this.mlp = new ClipMlp(w, p + "mlp.", c);
        this.eps = c.eps();
    }

    /** x [L, hidden]; returns [L, hidden]. */
    Tensor forward(Kernels k, Tensor x, Tensor maskBias) {
        Tensor h = k.add(x, selfAttn.forward(k, k.layerNorm(x, layerNorm1W, layerNorm1B, eps), maskBias));
        return k.add(h, mlp.forward(k, k.layerNorm(h, layerNorm2W, layerNorm2B, eps)));
    }
}
