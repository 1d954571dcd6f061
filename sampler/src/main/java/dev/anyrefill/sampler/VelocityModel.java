package dev.anyrefill.sampler;

import dev.anyrefill.tensor.Tensor;

/**
 * The model the sampler integrates: the velocity of the image tokens at time t. The text, the
 * pooled vector and the position ids are bound in by the caller; {@code img} already holds the
 * Fill conditioning channels.
 */
@FunctionalInterface
public interface VelocityModel {
    /** img [N, in] at time t with the given guidance; returns [N, out]. */
    Tensor velocity(Tensor img, double t, double guidance);
}
