package dev.anyrefill.image;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Size;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC1;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_GRAY2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_RGB2GRAY;
import static org.bytedeco.opencv.global.opencv_imgproc.Canny;
import static org.bytedeco.opencv.global.opencv_imgproc.GaussianBlur;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_AREA;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_LANCZOS4;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_NEAREST;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;

/**
 * The image operations of the pipeline and of the task preparations, through OpenCV, on 8-bit
 * {@link Pixels} (RGB or grey). Every result is RGB, three channels, as the model's inputs are.
 */
public final class ImageOps {
    private ImageOps() {
    }

    /** An operation on an OpenCV matrix writing into a second one. */
    private interface MatOp {
        void apply(Mat in, Mat out);
    }

    private static Pixels run(Pixels in, MatOp op) {
        int type = in.channels() == 3 ? CV_8UC3 : CV_8UC1;
        try (BytePointer raw = new BytePointer(in.data());
             Mat mat = new Mat(in.height(), in.width(), type, raw);
             Mat out = new Mat()) {
            op.apply(mat, out);
            byte[] data = new byte[Math.toIntExact(out.total() * out.channels())];
            out.data().get(data);
            return new Pixels(out.rows(), out.cols(), out.channels(), data);
        }
    }

    /**
     * Resized to height x width: area interpolation when shrinking (it averages, no aliasing),
     * Lanczos when enlarging (sharpest of OpenCV's interpolations).
     */
    public static Pixels resize(Pixels in, int height, int width) {
        if (in.height() == height && in.width() == width) {
            return in;
        }
        boolean shrinking = (long) height * width < (long) in.height() * in.width();
        return run(in, (a, b) -> opencv_imgproc.resize(a, b, new Size(width, height), 0, 0, shrinking ? INTER_AREA : INTER_LANCZOS4));
    }

    /** Canny edges (white on black) of the grey image, as RGB. */
    public static Pixels canny(Pixels in, double low, double high) {
        Pixels edges = run(grey(in), (a, b) -> Canny(a, b, low, high));
        return toRgb(edges);
    }

    /** ITU-R 601 grey, repeated in the three channels (the colorization task's input). */
    public static Pixels greyscale(Pixels in) {
        return toRgb(grey(in));
    }

    /** Gaussian blur with the given sigma (the deblur task's degradation). */
    public static Pixels gaussianBlur(Pixels in, double sigma) {
        int k = 2 * (int) Math.ceil(3 * sigma) + 1; // the kernel covers three sigmas each side
        return run(in, (a, b) -> GaussianBlur(a, b, new Size(k, k), sigma));
    }

    /**
     * Down-sampled by {@code factor} with area interpolation, then back up with nearest
     * neighbour: the blocky low-resolution input of the super-resolution tasks.
     */
    public static Pixels downUp(Pixels in, int factor) {
        int h = Math.max(1, in.height() / factor);
        int w = Math.max(1, in.width() / factor);
        Pixels small = run(in, (a, b) -> opencv_imgproc.resize(a, b, new Size(w, h), 0, 0, INTER_AREA));
        return run(small, (a, b) -> opencv_imgproc.resize(a, b, new Size(in.width(), in.height()), 0, 0, INTER_NEAREST));
    }

    private static Pixels grey(Pixels in) {
        return in.channels() == 1 ? in : run(in, (a, b) -> cvtColor(a, b, COLOR_RGB2GRAY));
    }

    private static Pixels toRgb(Pixels greyPixels) {
        return run(greyPixels, (a, b) -> cvtColor(a, b, COLOR_GRAY2RGB));
    }

    /** The centred h x w region of {@code in}. */
    public static Pixels cropCentre(Pixels in, int h, int w) {
        return crop(in, (in.height() - h) / 2, (in.width() - w) / 2, h, w);
    }

    /** The h x w region of {@code in} from row y, column x (inside the image). */
    public static Pixels crop(Pixels in, int y, int x, int h, int w) {
        if (y < 0 || x < 0 || y + h > in.height() || x + w > in.width()) {
            throw new IllegalArgumentException("crop " + w + "x" + h + " at (" + x + ", " + y + ") is outside a "
                    + in.size() + " image");
        }
        int c = in.channels();
        byte[] data = new byte[h * w * c];
        for (int row = 0; row < h; row++) {
            System.arraycopy(in.data(), ((y + row) * in.width() + x) * c, data, row * w * c, w * c);
        }
        return new Pixels(h, w, c, data);
    }
}
