package dev.anyrefill.vae;

import dev.anyrefill.kernels.Activation;
import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.TensorSource;

import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * BFL's Encoder: conv_in; per resolution level {@code num_res_blocks} ResnetBlocks and a
 * Downsample (except at the last level); the mid block (ResnetBlock, AttnBlock, ResnetBlock);
 * norm_out, swish, conv_out to 2 x z_channels (mean and log-variance).
 */
final class Encoder {
    private final Conv2d convIn;
    private final List<List<ResnetBlock>> down = new ArrayList<>();
    private final List<Downsample> downsample = new ArrayList<>();
    private final ResnetBlock midBlock1;
    private final AttnBlock midAttn1;
    private final ResnetBlock midBlock2;
    private final GroupNorm normOut;
    private final Conv2d convOut;

    Encoder(TensorSource source, AutoEncoderParams params) {
        convIn = Conv2d.same(source, "encoder.conv_in");
        for (int i = 0; i < params.levels(); i++) {
            List<ResnetBlock> blocks = new ArrayList<>();
            for (int b = 0; b < params.numResBlocks(); b++) {
                blocks.add(new ResnetBlock(source, "encoder.down." + i + ".block." + b));
            }
            down.add(blocks);
            downsample.add(i == params.levels() - 1 ? null : new Downsample(source, "encoder.down." + i + ".downsample"));
        }
        midBlock1 = new ResnetBlock(source, "encoder.mid.block_1");
        midAttn1 = new AttnBlock(source, "encoder.mid.attn_1");
        midBlock2 = new ResnetBlock(source, "encoder.mid.block_2");
        normOut = new GroupNorm(source, "encoder.norm_out");
        convOut = Conv2d.same(source, "encoder.conv_out");
    }

    /** Image [3, H, W] to moments [2 z, H / 2^(levels-1), W / 2^(levels-1)]. */
    Tensor forward(Kernels k, Tensor x) {
        Tensor h = convIn.forward(k, x); // [ch, H, W]
        for (int i = 0; i < down.size(); i++) {
            for (ResnetBlock block : down.get(i)) {
                h = block.forward(k, h);
            }
            if (downsample.get(i) != null) {
                h = downsample.get(i).forward(k, h); // half the height and width
            }
        }
        h = midBlock1.forward(k, h);
        h = midAttn1.forward(k, h);
        h = midBlock2.forward(k, h);
        h = normOut.forward(k, h, Activation.SILU);
        return convOut.forward(k, h); // [2 z, h, w]
    }

    /**
     * {@link #forward} that pushes every stage's input onto {@code saved} (activation
     * checkpointing per block: each block's backward recomputes its inside from its input).
     */
    Tensor forwardForTraining(Kernels k, Tensor x, Deque<Tensor> saved) {
        saved.push(x);
        Tensor h = convIn.forward(k, x);
        for (int i = 0; i < down.size(); i++) {
            for (ResnetBlock block : down.get(i)) {
                saved.push(h);
                h = block.forward(k, h);
            }
            if (downsample.get(i) != null) {
                saved.push(h);
                h = downsample.get(i).forward(k, h);
            }
        }
        saved.push(h);
        h = midBlock1.forward(k, h);
        saved.push(h);
        h = midAttn1.forward(k, h);
        saved.push(h);
        h = midBlock2.forward(k, h);
        saved.push(h);
        h = normOut.forward(k, h, Activation.SILU);
        saved.push(h);
        return convOut.forward(k, h);
    }

    /** The gradient of the image from the moments' gradient, popping what the forward pushed. */
    Tensor backward(Kernels k, Deque<Tensor> saved, Tensor dMoments, ParameterGradients grads) {
        Tensor d = convOut.backward(k, saved.pop(), dMoments, grads);
        d = normOut.backward(k, saved.pop(), Activation.SILU, d, grads);
        d = midBlock2.backward(k, saved.pop(), d, grads);
        d = midAttn1.backward(k, saved.pop(), d, grads);
        d = midBlock1.backward(k, saved.pop(), d, grads);
        for (int i = down.size() - 1; i >= 0; i--) {
            if (downsample.get(i) != null) {
                d = downsample.get(i).backward(k, saved.pop(), d, grads);
            }
            List<ResnetBlock> blocks = down.get(i);
            for (int b = blocks.size() - 1; b >= 0; b--) {
                d = blocks.get(b).backward(k, saved.pop(), d, grads);
            }
        }
        return convIn.backward(k, saved.pop(), d, grads);
    }
}
