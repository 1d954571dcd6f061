package dev.anyrefill.vae;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * BFL's Decoder: conv_in; the mid block; per resolution level from the deepest,
 * {@code num_res_blocks + 1} ResnetBlocks and an Upsample (except at level 0); norm_out,
 * swish, conv_out to RGB.
 */
final class Decoder {
    private final Conv2d convIn;
    private final ResnetBlock midBlock1;
    private final AttnBlock midAttn1;
    private final ResnetBlock midBlock2;
    /** Indexed by level as BFL's {@code up} (up[0] is the full resolution, run last). */
    private final List<List<ResnetBlock>> up = new ArrayList<>();
    private final List<Upsample> upsample = new ArrayList<>();
    private final GroupNorm normOut;
    private final Conv2d convOut;

    Decoder(TensorSource source, AutoEncoderParams params) {
        convIn = Conv2d.same(source, "decoder.conv_in");
        midBlock1 = new ResnetBlock(source, "decoder.mid.block_1");
        midAttn1 = new AttnBlock(source, "decoder.mid.attn_1");
        midBlock2 = new ResnetBlock(source, "decoder.mid.block_2");
        for (int i = 0; i < params.levels(); i++) {
            List<ResnetBlock> blocks = new ArrayList<>();
            for (int b = 0; b < params.numResBlocks() + 1; b++) {
                blocks.add(new ResnetBlock(source, "decoder.up." + i + ".block." + b));
            }
            up.add(blocks);
            upsample.add(i == 0 ? null : new Upsample(source, "decoder.up." + i + ".upsample"));
        }
        normOut = new GroupNorm(source, "decoder.norm_out");
        convOut = Conv2d.same(source, "decoder.conv_out");
    }

    /** Latent [z, h, w] (unscaled) to image [3, h * 2^(levels-1), w * 2^(levels-1)]. */
    Tensor forward(Kernels k, Tensor z) {
        Tensor h = convIn.forward(k, z);
        h = midBlock1.forward(k, h);
        h = midAttn1.forward(k, h);
        h = midBlock2.forward(k, h);
        for (int i = up.size() - 1; i >= 0; i--) {
            for (ResnetBlock block : up.get(i)) {
                h = block.forward(k, h);
            }
            if (upsample.get(i) != null) {
                h = upsample.get(i).forward(k, h); // twice the height and width
            }
        }
        h = normOut.forward(k, h, Activation.SILU);
        return convOut.forward(k, h); // [3, H, W]
    }

    /** {@link #forward} that pushes every stage's input onto {@code saved}, as the encoder's. */
    Tensor forwardForTraining(Kernels k, Tensor z, Deque<Tensor> saved) {
        saved.push(z);
        Tensor h = convIn.forward(k, z);
        saved.push(h);
        h = midBlock1.forward(k, h);
        saved.push(h);
        h = midAttn1.forward(k, h);
        saved.push(h);
        h = midBlock2.forward(k, h);
        for (int i = up.size() - 1; i >= 0; i--) {
            for (ResnetBlock block : up.get(i)) {
                saved.push(h);
                h = block.forward(k, h);
            }
            if (upsample.get(i) != null) {
                saved.push(h);
                h = upsample.get(i).forward(k, h);
            }
        }
        saved.push(h);
        h = normOut.forward(k, h, Activation.SILU);
        saved.push(h);
        return convOut.forward(k, h);
    }

    /** The latent's gradient from the image's, popping what the forward pushed. */
    Tensor backward(Kernels k, Deque<Tensor> saved, Tensor dImage, ParameterGradients grads) {
        Tensor d = convOut.backward(k, saved.pop(), dImage, grads);
        d = normOut.backward(k, saved.pop(), Activation.SILU, d, grads);
        for (int i = 0; i < up.size(); i++) {
            if (upsample.get(i) != null) {
                d = upsample.get(i).backward(k, saved.pop(), d, grads);
            }
            List<ResnetBlock> blocks = up.get(i);
            for (int b = blocks.size() - 1; b >= 0; b--) {
                d = blocks.get(b).backward(k, saved.pop(), d, grads);
            }
        }
        d = midBlock2.backward(k, saved.pop(), d, grads);
        d = midAttn1.backward(k, saved.pop(), d, grads);
        d = midBlock1.backward(k, saved.pop(), d, grads);
        return convIn.backward(k, saved.pop(), d, grads);
    }
}
