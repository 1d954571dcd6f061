package dev.anyrefill.vae;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Tiled encode and decode for canvases too large to hold the full-resolution feature maps at
 * once: the input is cut into overlapping tiles, each tile goes through the AutoEncoder on its
 * own, and the results are blended with weights that ramp linearly across the overlaps, so
 * seams fade rather than cut. Peak memory then follows the tile size, not the canvas size.
 *
 * <p>Tiles are not exact: GroupNorm's statistics and the convolutions' view near a tile border
 * differ from the whole image's, so a tiled result differs slightly from the untiled one
 * (measured in TilingTest). A canvas that fits in one tile takes the untiled path.
 *
 * @param tile    tile side in latent elements (pixel tiles are 8 times as large)
 * @param overlap overlap of neighbouring tiles in latent elements, less than {@code tile}
 */
public record Tiling(int tile, int overlap) {
    /**
     * 32-latent (256-pixel) tiles overlapping by 8 latents (64 pixels): at FLUX's widths a
     * decode then needs about 180 MB of heap whatever the canvas size (1.34 GB untiled at 512x1024).
     */
    public static final Tiling DEFAULT = new Tiling(32, 8);

    public Tiling {
        if (tile < 2 || overlap < 0 || overlap >= tile) {
            throw new IllegalArgumentException("tiling needs tile >= 2 and 0 <= overlap < tile, got tile "
                    + tile + ", overlap " + overlap);
        }
    }

    /** {@link AutoEncoder#decode} tile by tile; same result shape. */
    public Tensor decode(AutoEncoder ae, Tensor z) {
        int f = ae.params().downscale();
        return apply(ae.kernels(), z, 1, f, ae.params().outCh(), ae::decode);
    }

    /** {@link AutoEncoder#encode} tile by tile; same result shape. */
    public Tensor encode(AutoEncoder ae, Tensor image) {
        int f = ae.params().downscale();
        if (image.rank() != 3 || image.dim(1) % f != 0 || image.dim(2) % f != 0) {
            throw new IllegalArgumentException("encode: image height and width must be multiples of " + f
                    + ", got " + Arrays.toString(image.shape()));
        }
        return apply(ae.kernels(), image, f, 1, ae.params().zChannels(), ae::encode);
    }

    /**
     * Runs {@code op} over tiles of x [C, H, W]. {@code in} input elements per latent element,
     * {@code out} output elements per latent element (8 and 1 to encode, 1 and 8 to decode).
     */
    Tensor apply(Kernels k, Tensor x, int in, int out, int outChannels, UnaryOperator<Tensor> op) {
        int latentH = x.dim(1) / in;
        int latentW = x.dim(2) / in;
        if (latentH <= tile && latentW <= tile) {
            return op.apply(x);
        }
        List<int[]> rows = spans(latentH);
        List<int[]> cols = spans(latentW);
        int outH = latentH * out;
        int outW = latentW * out;
        float[] sum = new float[outChannels * outH * outW];
        float[] weightSum = new float[outH * outW];
        for (int[] r : rows) {
            for (int[] c : cols) {
                Tensor piece = crop(k, x, r[0] * in, r[1] * in, c[0] * in, c[1] * in);
                Tensor result = op.apply(piece); // [outChannels, th * out, tw * out]
                piece = null;
                float[] wy = ramp(r, latentH, out);
                float[] wx = ramp(c, latentW, out);
                accumulate(result.data(), outChannels, wy, wx, r[0] * out, c[0] * out, sum, weightSum, outH, outW);
            }
        }
        for (int i = 0; i < weightSum.length; i++) {
            weightSum[i] = 1f / weightSum[i]; // every element is covered by some tile with a positive weight
        }
        Tensor acc = Tensor.wrap(sum, outChannels, outH * outW);
        Tensor inverse = Tensor.wrap(weightSum, outH * outW);
        return k.mul(acc, inverse).reshape(outChannels, outH, outW);
    }

    /** Tile spans [start, end) along a side of n latent elements: stride tile - overlap, last one flush with the end. */
    List<int[]> spans(int n) {
        List<int[]> spans = new ArrayList<>();
        if (n <= tile) {
            spans.add(new int[]{0, n});
            return spans;
        }
        int stride = tile - overlap;
        for (int start = 0; ; start += stride) {
            if (start + tile >= n) {
                spans.add(new int[]{n - tile, n});
                return spans;
            }
            spans.add(new int[]{start, start + tile});
        }
    }

    /**
     * Blend weights along one side of a tile's output: 1 inside, rising linearly over the
     * overlap on each side that has a neighbour (never 0, so every element is covered).
     */
    private float[] ramp(int[] span, int n, int out) {
        int len = (span[1] - span[0]) * out;
        int ov = Math.max(1, overlap * out);
        float[] w = new float[len];
        for (int i = 0; i < len; i++) {
            float v = 1f;
            if (span[0] > 0) {
                v = Math.min(v, (i + 0.5f) / ov);
            }
            if (span[1] < n) {
                v = Math.min(v, (len - i - 0.5f) / ov);
            }
            w[i] = v;
        }
        return w;
    }

    /** Rows [y0, y1) and columns [x0, x1) of x [C, H, W], through the kernels' slicing. */
    private static Tensor crop(Kernels k, Tensor x, int y0, int y1, int x0, int x1) {
        int c = x.dim(0);
        int h = x.dim(1);
        int w = x.dim(2);
        int tw = x1 - x0;
        Tensor columns = k.sliceColumns(x.reshape(c * h, w), x0, x1).reshape(c, h * tw);
        return k.sliceColumns(columns, y0 * tw, y1 * tw).reshape(c, y1 - y0, tw);
    }

    /** Adds the weighted tile into the canvas sums at (top, left). */
    private static void accumulate(float[] tile, int channels, float[] wy, float[] wx, int top, int left,
                                   float[] sum, float[] weightSum, int outH, int outW) {
        int th = wy.length;
        int tw = wx.length;
        for (int y = 0; y < th; y++) {
            for (int x = 0; x < tw; x++) {
                float w = wy[y] * wx[x];
                int at = (top + y) * outW + left + x;
                weightSum[at] += w;
                for (int ch = 0; ch < channels; ch++) {
                    sum[ch * outH * outW + at] += w * tile[(ch * th + y) * tw + x];
                }
            }
        }
    }
}
