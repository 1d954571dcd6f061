package dev.anyrefill.kernels.cpu;

import dev.anyrefill.kernels.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The backward of the norms of {@link Norms}, one row per pass. The forwards keep nothing
 * (they are fused with their modulation or scale); each backward recomputes a row's
 * statistics from its input, which costs one sweep of the row, as the forward did.
 *
 * <p>With {@code xhat} the normalised row and {@code g} the gradient reaching it, both norms'
 * input gradients have the same shape: {@code dx = inv * (g - mean(g) - xhat * mean(g * xhat))}
 * for the layer norm, {@code dx = inv * (g - xhat * mean(g * xhat))} for the RMS norm (no mean
 * was subtracted). Per-channel parameter gradients are products summed over the rows; they
 * are written per row into a buffer and summed by {@link Elementwise#columnSums}.
 */
public final class NormsBackward {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private NormsBackward() {
    }

    /**
     * {@code y = (1 + scale) * layerNorm(x) + shift}, x [rows, c]: writes dx [rows, c] and
     * {@code dyXhat} [rows, c] = dy * xhat (whose column sums are d scale; d shift is the column
     * sums of dy).
     */
    public static void layerNormModulate(float[] x, float[] dy, int rows, int c, float eps, float[] scale,
                                         float[] dx, float[] dyXhat) {
        Parallel.forChunks(rows, 8, (from, to) -> {
            for (int r = from; r < to; r++) {
                int off = r * c;
                float mean = (float) (Norms.sum(x, off, c) / c);
                float var = (float) (Norms.sumSquaredDeviations(x, off, c, mean) / c);
                float inv = (float) (1 / Math.sqrt(var + (double) eps));
                double sumG = 0;
                double sumGXhat = 0;
                for (int i = 0; i < c; i++) {
                    float xhat = (x[off + i] - mean) * inv;
                    float g = dy[off + i] * (1 + scale[i]);
                    dyXhat[off + i] = dy[off + i] * xhat;
                    dx[off + i] = g;              // g for now; becomes dx below
                    sumG += g;
                    sumGXhat += g * xhat;
                }
                float meanG = (float) (sumG / c);
                float meanGXhat = (float) (sumGXhat / c);
                for (int i = 0; i < c; i++) {
                    float xhat = (x[off + i] - mean) * inv;
                    dx[off + i] = inv * (dx[off + i] - meanG - xhat * meanGXhat);
                }
            }
        });
    }

    /**
     * {@code y = x * inv * scale}, {@code inv = rsqrt(mean(x^2) + eps)}, x [rows, c]: writes dx
     * and {@code dyXhat} = dy * x * inv (whose column sums are d scale).
     */
    public static void rmsNorm(float[] x, float[] dy, int rows, int c, float eps, float[] scale,
                               float[] dx, float[] dyXhat) {
        Parallel.forChunks(rows, 8, (from, to) -> {
            for (int r = from; r < to; r++) {
                int off = r * c;
                double sq = VectorMath.dot(x, off, x, off, c);
                float inv = (float) (1 / Math.sqrt(sq / c + eps));
                double sumGXhat = 0;
                for (int i = 0; i < c; i++) {
                    float xhat = x[off + i] * inv;
                    float g = dy[off + i] * scale[i];
                    dyXhat[off + i] = dy[off + i] * xhat;
                    sumGXhat += g * xhat;
                }
                float meanGXhat = (float) (sumGXhat / c);
                for (int i = 0; i < c; i++) {
                    dx[off + i] = inv * (dy[off + i] * scale[i] - x[off + i] * inv * meanGXhat);
                }
            }
        });
    }

    /**
     * GroupNorm's backward over x [channels, plane] in {@code groups} groups of consecutive
     * channels, y = xhat w + b with xhat = (x - mean) rstd per group. With g = dy w:
     * dx = rstd (g - mean(g) - xhat mean(g xhat)) over the group; dw[c] = sum dy xhat and
     * db[c] = sum dy over the channel's plane. Mean and rstd are recomputed in double.
     */
    public static void groupNorm(float[] x, float[] dy, int channels, int plane, int groups, float[] w, float eps,
                                 float[] dx, float[] dw, float[] db) {
        int per = channels / groups;
        Parallel.forRange(groups, grp -> {
            int start = grp * per * plane;
            int len = per * plane;
            double mean = 0;
            for (int i = start; i < start + len; i++) {
                mean += x[i];
            }
            mean /= len;
            double var = 0;
            for (int i = start; i < start + len; i++) {
                double d = x[i] - mean;
                var += d * d;
            }
            double rstd = 1 / Math.sqrt(var / len + eps);
            double sumG = 0;
            double sumGXhat = 0;
            for (int ch = grp * per; ch < (grp + 1) * per; ch++) {
                double sdy = 0;
                double sdyXhat = 0;
                for (int i = ch * plane; i < (ch + 1) * plane; i++) {
                    double xhat = (x[i] - mean) * rstd;
                    sdy += dy[i];
                    sdyXhat += dy[i] * xhat;
                }
                dw[ch] = (float) sdyXhat;
                db[ch] = (float) sdy;
                sumG += w[ch] * sdy;
                sumGXhat += w[ch] * sdyXhat;
            }
            double meanG = sumG / len;
            double meanGXhat = sumGXhat / len;
            for (int ch = grp * per; ch < (grp + 1) * per; ch++) {
                for (int i = ch * plane; i < (ch + 1) * plane; i++) {
                    double xhat = (x[i] - mean) * rstd;
                    dx[i] = (float) (rstd * (dy[i] * w[ch] - meanG - xhat * meanGXhat));
                }
            }
        });
    }
}
