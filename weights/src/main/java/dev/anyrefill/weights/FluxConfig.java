package dev.anyrefill.weights;

import java.util.Arrays;

/**
 * FLUX transformer hyper-parameters, named as BFL's {@code FluxParams}, inferred from the
 * shapes of a checkpoint's tensors so any FLUX-shaped file loads without a config file.
 */
public record FluxConfig(int inChannels, int outChannels, int vecInDim, int contextInDim,
                         int hiddenSize, double mlpRatio, int numHeads, int depth,
                         int depthSingleBlocks, int[] axesDim, int theta, boolean qkvBias,
                         boolean guidanceEmbed) {

    public int headDim() {
        return hiddenSize / numHeads;
    }

    public int mlpHidden() {
        return (int) (hiddenSize * mlpRatio);
    }

    /** The configuration of a checkpoint (BFL names), from its tensor shapes. */
    public static FluxConfig infer(TensorSource w) {
        int[] imgIn = w.get("img_in.weight").shape();          // [hidden, in_channels]
        int hidden = imgIn[0];
        int inChannels = imgIn[1];
        int outChannels = w.get("final_layer.linear.weight").dim(0);
        int vecIn = w.get("vector_in.in_layer.weight").dim(1);
        int contextIn = w.get("txt_in.weight").dim(1);
        int depth = FluxLayout.countBlocks(w.names(), false, false);
        int single = FluxLayout.countBlocks(w.names(), true, false);
        String normName = depth > 0 ? "double_blocks.0.img_attn.norm.query_norm.scale"
                : "single_blocks.0.norm.query_norm.scale";
        int headDim = w.get(normName).dim(0);
        if (hidden % headDim != 0) {
            throw new WeightsException(w.origin() + ": hidden size " + hidden
                    + " is not a multiple of the head size " + headDim + " (length of " + normName + ")");
        }
        int mlpHidden = depth > 0 ? w.get("double_blocks.0.img_mlp.0.weight").dim(0)
                : w.get("single_blocks.0.linear1.weight").dim(0) - 3 * hidden;
        boolean qkvBias = depth > 0 ? w.contains("double_blocks.0.img_attn.qkv.bias")
                : w.contains("single_blocks.0.linear1.bias");
        int[] axes = defaultAxes(headDim);
        int theta = 10000;
        axes = metadataAxes(w, axes);
        if (Arrays.stream(axes).sum() != headDim) {
            throw new WeightsException(w.origin() + ": RoPE axes " + Arrays.toString(axes)
                    + " do not add up to the head size " + headDim);
        }
        return new FluxConfig(inChannels, outChannels, vecIn, contextIn, hidden,
                (double) mlpHidden / hidden, hidden / headDim, depth, single, axes, theta, qkvBias,
                w.contains("guidance_in.in_layer.weight"));
    }

    /**
     * FLUX's axes are [16, 56, 56] for head size 128 (time/index, row, column). For other head
     * sizes we keep the same proportions: an eighth for the first axis, the rest split evenly.
     */
    static int[] defaultAxes(int headDim) {
        if (headDim == 128) {
            return new int[]{16, 56, 56};
        }
        int first = Math.max(2, headDim / 8 / 2 * 2);
        int rest = (headDim - first) / 4 * 2;
        return new int[]{headDim - 2 * rest, rest, rest};
    }

    /** An {@code axes_dim} entry in {@code __metadata__} ("16,56,56" or a JSON list) overrides. */
    private static int[] metadataAxes(TensorSource w, int[] fallback) {
        String v = w.metadata().get("axes_dim");
        if (v == null) {
            return fallback;
        }
        try {
            return Arrays.stream(v.replaceAll("[\\[\\] ]", "").split(",")).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new WeightsException(w.origin() + ": __metadata__ axes_dim '" + v + "' is not a list of integers");
        }
    }

    @Override
    public String toString() {
        return "hidden " + hiddenSize + ", heads " + numHeads + " (head dim " + headDim() + "), double blocks "
                + depth + ", single blocks " + depthSingleBlocks + ", in " + inChannels + ", out " + outChannels
                + ", context " + contextInDim + ", vec " + vecInDim + ", mlp ratio " + mlpRatio
                + ", axes " + Arrays.toString(axesDim) + ", theta " + theta + ", qkv bias " + qkvBias
                + ", guidance " + guidanceEmbed;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FluxConfig c && c.inChannels == inChannels && c.outChannels == outChannels
                && c.vecInDim == vecInDim && c.contextInDim == contextInDim && c.hiddenSize == hiddenSize
                && c.mlpRatio == mlpRatio && c.numHeads == numHeads && c.depth == depth
                && c.depthSingleBlocks == depthSingleBlocks && Arrays.equals(c.axesDim, axesDim)
                && c.theta == theta && c.qkvBias == qkvBias && c.guidanceEmbed == guidanceEmbed;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(axesDim) * 31 + hiddenSize;
    }
}
