package dev.anyrefill.text.clip;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

/** CLIP's MLP: fc2(act(fc1 x)), quick-GELU for CLIP-L. */
final class ClipMlp {
    private final Tensor fc1W;
    private final Tensor fc1B;
    private final Tensor fc2W;
    private final Tensor fc2B;
    private final ClipTextConfig config;

    ClipMlp(TensorSource w, String p, ClipTextConfig c) {
        this.fc1W = w.get(p + "fc1.weight", c.intermediate(), c.hidden());
        this.fc1B = w.get(p + "fc1.bias", c.intermediate());
        this.fc2W = w.get(p + "fc2.weight", c.hidden(), c.intermediate());
        this.fc2B = w.get(p + "fc2.bias", c.hidden());
        this.config = c;
    }

    /** x [L, hidden] (already normed); returns [L, hidden]. */
    Tensor forward(Kernels k, Tensor x) {
        Tensor h = k.linear(x, fc1W, fc1B, config.act()); // [L, intermediate]
        return k.linear(h, fc2W, fc2B);
    }
}
