package dev.anyrefill.pipeline;

import dev.anyrefill.image.ImageOps;
import dev.anyrefill.image.Pixels;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.UnaryOperator;

/**
 * The tasks of AnyRefill's Table I. Each says whether the target is masked fully (every task
 * but Ref-inpainting: the model paints the whole right half) and, where the paper builds one
 * side of a pair from a photo, how.
 *
 * <p>Generation and restoration tasks ({@code canny-to-image}, {@code colorization},
 * {@code deblur}, {@code super-resolution-*}) take a condition on the left and paint a photo on
 * the right; their preparation turns a photo into that left condition. Perception tasks
 * ({@code image-to-*}) run the other way: the photo is the left image and the map is what the
 * model paints, so their preparation turns a photo into the right-hand map of a training pair.
 * Depth and segmentation maps need a model of their own; those tasks have no preparation.
 */
public enum Task {
    CANNY_TO_IMAGE(Side.LEFT, p -> ImageOps.canny(p, 100, 200)),
    DEPTH_TO_IMAGE(Side.NONE, null),
    SEGMENT_TO_IMAGE(Side.NONE, null),
    COLORIZATION(Side.LEFT, ImageOps::greyscale),
    DEBLUR(Side.LEFT, p -> ImageOps.gaussianBlur(p, Task.DEBLUR_SIGMA)),
    SUPER_RESOLUTION_4X(Side.LEFT, p -> ImageOps.downUp(p, 4)),
    SUPER_RESOLUTION_8X(Side.LEFT, p -> ImageOps.downUp(p, 8)),
    SUPER_RESOLUTION_16X(Side.LEFT, p -> ImageOps.downUp(p, 16)),
    AGE(Side.NONE, null),
    GENDER(Side.NONE, null),
    RELIGHTING(Side.NONE, null),
    IMAGE_TO_CANNY(Side.RIGHT, p -> ImageOps.canny(p, 100, 200)),
    IMAGE_TO_DEPTH(Side.NONE, null),
    IMAGE_TO_SEGMENT(Side.NONE, null),
    REF_INPAINTING(Side.NONE, null);

    /** The Gaussian sigma of the deblur degradation, in pixels of a 512-pixel image. */
    static final double DEBLUR_SIGMA = 3.0;

    /** Which side of a pair the preparation makes from a photo. */
    public enum Side { LEFT, RIGHT, NONE }

    private final Side prepares;
    private final UnaryOperator<Pixels> preparation;

    Task(Side prepares, UnaryOperator<Pixels> preparation) {
        this.prepares = prepares;
        this.preparation = preparation;
    }

    /** The command-line name: {@code super-resolution-4x}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static Task fromCliName(String name) {
        for (Task t : values()) {
            if (t.cliName().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown task '" + name + "'; one of "
                + Arrays.stream(values()).map(Task::cliName).toList());
    }

    /** Every task but Ref-inpainting repaints the whole right half. */
    public boolean fullyMasked() {
        return this != REF_INPAINTING;
    }

    /** Perception tasks paint a map from a photo; the others paint a photo. */
    public boolean isPerception() {
        return name().startsWith("IMAGE_TO_");
    }

    public Side preparedSide() {
        return prepares;
    }

    public boolean hasPreparation() {
        return preparation != null;
    }

    /** The prepared image: the left condition, or for perception tasks the right-hand map. */
    public Pixels prepare(Pixels photo) {
        if (preparation == null) {
            throw new IllegalArgumentException("task " + cliName() + " has no preparation: "
                    + switch (this) {
                        case DEPTH_TO_IMAGE, IMAGE_TO_DEPTH -> "depth maps come from a depth model";
                        case SEGMENT_TO_IMAGE, IMAGE_TO_SEGMENT -> "segmentation maps come from a segmentation model";
                        case REF_INPAINTING -> "its inputs are a reference photo and a masked target";
                        default -> "its left image is the photo itself, edited by the task's LoRA";
                    });
        }
        return preparation.apply(photo);
    }
}
