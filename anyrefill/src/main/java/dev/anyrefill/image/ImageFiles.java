package dev.anyrefill.image;

import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.AtomicFiles;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.opencv_core.Mat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC1;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_COLOR;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_IGNORE_ORIENTATION;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imdecode;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imencode;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_BGR2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_RGB2BGR;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;

/**
 * Reading and writing PNG, JPEG and WebP files through OpenCV, and the conversions BFL's
 * pipeline uses between 8-bit pixels and tensors: images to [3, H, W] in [-1, 1]
 * ({@code pixel / 127.5 - 1}), masks to [1, H, W] in [0, 1] ({@code pixel / 255}), and back
 * ({@code (x + 1) * 127.5}, clamped and truncated). OpenCV's BGR order stays inside this class; everything
 * outside is RGB. Files are read as PIL's {@code convert("RGB")} / {@code convert("L")} would:
 * alpha dropped, EXIF orientation ignored, grey by ITU-R 601 luma.
 *
 * <p>Every failure is an {@link IllegalArgumentException} naming the file and the reason.
 */
public final class ImageFiles {
    private ImageFiles() {
    }

    // ---- reading ----------------------------------------------------------------------------

    /** The file's pixels as 8-bit RGB. */
    public static Pixels readRgb(Path file) {
        try {
            return decodeRgb(file, readBytes(file));
        } catch (OutOfMemoryError e) {
            throw new IllegalArgumentException(file + ": the image does not fit this JVM's heap ("
                    + Runtime.getRuntime().maxMemory() / (1 << 20) + " MB, -Xmx) once decoded");
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("CV_IO_MAX_IMAGE_PIXELS")) {
                throw new IllegalArgumentException(file + ": the image has more pixels than OpenCV decodes "
                        + "(CV_IO_MAX_IMAGE_PIXELS, 2^30)");
            }
            String reason = m.contains("error: ") ? m.substring(m.indexOf("error: ") + 7) : m;
            throw new IllegalArgumentException(file + ": OpenCV cannot decode the image: "
                    + reason.lines().findFirst().orElse("").strip());
        }
    }

    private static Pixels decodeRgb(Path file, byte[] bytes) {
        try (BytePointer encoded = new BytePointer(bytes);
             Mat buffer = new Mat(1, bytes.length, CV_8UC1, encoded);
             Mat bgr = imdecode(buffer, IMREAD_COLOR | IMREAD_IGNORE_ORIENTATION);
             Mat rgb = new Mat()) {
            if (bgr == null || bgr.empty()) {
                throw new IllegalArgumentException(file + ": cannot decode the image (not a readable PNG, JPEG or WebP file)");
            }
            cvtColor(bgr, rgb, COLOR_BGR2RGB);
            byte[] data = new byte[Math.multiplyExact(rgb.rows() * rgb.cols(), 3)];
            rgb.data().get(data);
            return new Pixels(rgb.rows(), rgb.cols(), 3, data);
        }
    }

    /** The file's pixels as 8-bit grey, by PIL's "L" conversion: (19595 R + 38470 G + 7471 B + 2^15) >> 16. */
    public static Pixels readGrey(Path file) {
        Pixels rgb = readRgb(file);
        byte[] grey = new byte[rgb.height() * rgb.width()];
        byte[] d = rgb.data();
        for (int i = 0; i < grey.length; i++) {
            int r = d[3 * i] & 0xFF;
            int g = d[3 * i + 1] & 0xFF;
            int b = d[3 * i + 2] & 0xFF;
            grey[i] = (byte) ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
        }
        return new Pixels(rgb.height(), rgb.width(), 1, grey);
    }

    /** An image file as [3, H, W] in [-1, 1]. */
    public static Tensor readImage(Path file) {
        return toTensor(readRgb(file));
    }

    /**
     * A mask file as [1, H, W] in [0, 1] (255 = to fill). Kept soft, as BFL does, unless
     * {@code binarize} (diffusers' behaviour: 1 where the pixel is at least 128, else 0).
     */
    public static Tensor readMask(Path file, boolean binarize) {
        return toMask(readGrey(file), binarize);
    }

    /** Grey pixels as a mask [1, H, W] in [0, 1], soft or binarized as {@link #readMask}. */
    public static Tensor toMask(Pixels grey, boolean binarize) {
        if (grey.channels() != 1) {
            throw new IllegalArgumentException("expected grey pixels for a mask, got " + grey.channels() + " channels");
        }
        byte[] d = grey.data();
        float[] out = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            int p = d[i] & 0xFF;
            out[i] = binarize ? (p >= 128 ? 1f : 0f) : (float) (p / 255.0);
        }
        return Tensor.wrap(out, 1, grey.height(), grey.width());
    }

    private static byte[] readBytes(Path file) {
        try {
            if (Files.isDirectory(file)) {
                throw new IllegalArgumentException(file + ": is a folder, not an image file");
            }
            byte[] bytes = Files.readAllBytes(file);
            if (bytes.length == 0) {
                throw new IllegalArgumentException(file + ": empty file, not an image");
            }
            return bytes;
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such image file");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read the image: " + e.getMessage());
        }
    }

    // ---- conversions ------------------------------------------------------------------------

    /** RGB pixels to [3, H, W] in [-1, 1]: pixel / 127.5 - 1, computed in double as BFL's reference. */
    public static Tensor toTensor(Pixels rgb) {
        if (rgb.channels() != 3) {
            throw new IllegalArgumentException("expected RGB pixels, got " + rgb.channels() + " channels");
        }
        int h = rgb.height();
        int w = rgb.width();
        float[] out = new float[3 * h * w];
        byte[] d = rgb.data();
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < h * w; i++) {
                out[c * h * w + i] = (float) ((d[3 * i + c] & 0xFF) / 127.5 - 1.0);
            }
        }
        return Tensor.wrap(out, 3, h, w);
    }

    /**
     * [3, H, W] nominally in [-1, 1] to 8-bit RGB: clamp to [-1, 1], then {@code (x + 1) * 127.5}
     * truncated to an integer, as BFL's {@code (127.5 * (x + 1.0)).byte()} (the golden
     * denoised.png matches this to the byte; rounding would differ in half the bytes). So
     * {@code toPixels(toTensor(p))} can be one level below p: keep original pixels where they
     * must survive unchanged rather than sending them through a tensor.
     */
    public static Pixels toPixels(Tensor image) {
        if (image.rank() != 3 || image.dim(0) != 3) {
            throw new IllegalArgumentException("expected an image tensor [3, H, W], got " + Arrays.toString(image.shape()));
        }
        int h = image.dim(1);
        int w = image.dim(2);
        byte[] out = new byte[3 * h * w];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < h * w; i++) {
                float x = Math.clamp(image.getFloat((long) c * h * w + i), -1f, 1f);
                out[3 * i + c] = (byte) (int) (127.5 * (x + 1.0));
            }
        }
        return new Pixels(h, w, 3, out);
    }

    // ---- checks -----------------------------------------------------------------------------

    /** Fails unless the image's height and width are multiples of {@code multiple}. */
    public static void requireMultipleOf(Path file, Tensor image, int multiple) {
        int h = image.dim(-2);
        int w = image.dim(-1);
        if (h % multiple != 0 || w % multiple != 0) {
            throw new IllegalArgumentException(file + ": image is " + w + "x" + h + "; width and height must be "
                    + "multiples of " + multiple + " (e.g. " + (w / multiple * multiple) + "x" + (h / multiple * multiple) + ")");
        }
    }

    /** Fails unless the mask has the image's height and width. */
    public static void requireSameSize(Path maskFile, Tensor mask, Path imageFile, Tensor image) {
        if (mask.dim(-2) != image.dim(-2) || mask.dim(-1) != image.dim(-1)) {
            throw new IllegalArgumentException(maskFile + ": mask is " + mask.dim(-1) + "x" + mask.dim(-2)
                    + " but the image " + imageFile + " is " + image.dim(-1) + "x" + image.dim(-2)
                    + "; they must be the same size");
        }
    }

    // ---- writing ----------------------------------------------------------------------------

    /** Writes an image tensor [3, H, W] in [-1, 1]; the format follows the file name. */
    public static void writeImage(Path file, Tensor image) {
        writeImage(file, image, Map.of());
    }

    /** As {@link #writeImage(Path, Tensor)}, with text entries (PNG only) such as model, LoRAs, seed. */
    public static void writeImage(Path file, Tensor image, Map<String, String> text) {
        writePixels(file, toPixels(image), text);
    }

    /**
     * Encodes 8-bit pixels as PNG, JPEG (quality 95) or WebP (lossless) by the file's
     * extension and writes them through a temporary file renamed into place.
     */
    public static void writePixels(Path file, Pixels pixels, Map<String, String> text) {
        String ext = extension(file);
        if (!text.isEmpty() && !ext.equals(".png")) {
            throw new IllegalArgumentException(file + ": text metadata can only be written to PNG files");
        }
        byte[] encoded = encode(file, pixels, ext);
        if (!text.isEmpty()) {
            encoded = PngText.insert(encoded, text);
        }
        writeAtomically(file, encoded);
    }

    private static String extension(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot);
        return switch (ext) {
            case ".png", ".webp" -> ext;
            case ".jpg", ".jpeg" -> ".jpg";
            default -> throw new IllegalArgumentException(file + ": unknown image type '" + ext
                    + "'; use .png, .jpg, .jpeg or .webp");
        };
    }

    private static byte[] encode(Path file, Pixels pixels, String ext) {
        int type = pixels.channels() == 3 ? CV_8UC3 : CV_8UC1;
        try (BytePointer raw = new BytePointer(pixels.data());
             Mat mat = new Mat(pixels.height(), pixels.width(), type, raw);
             Mat bgr = new Mat();
             BytePointer out = new BytePointer()) {
            Mat toEncode = mat;
            if (pixels.channels() == 3) {
                cvtColor(mat, bgr, COLOR_RGB2BGR);
                toEncode = bgr;
            }
            if (!imencode(ext, toEncode, out)) {
                throw new IllegalArgumentException(file + ": OpenCV could not encode a " + pixels.size() + " " + ext + " image");
            }
            byte[] bytes = new byte[Math.toIntExact(out.limit())];
            out.get(bytes);
            return bytes;
        }
    }

    private static void writeAtomically(Path file, byte[] bytes) {
        try {
            AtomicFiles.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write the image: " + e.getMessage(), e);
        }
    }
}
