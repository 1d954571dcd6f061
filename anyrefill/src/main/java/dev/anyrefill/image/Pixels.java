package dev.anyrefill.image;

/**
 * An 8-bit image as files hold it: {@code height x width} pixels of {@code channels} bytes
 * (3 = RGB in that order, 1 = grey), row by row, interleaved.
 */
public record Pixels(int height, int width, int channels, byte[] data) {
    public Pixels {
        if ((long) height * width * channels != data.length) {
            throw new IllegalArgumentException(height + "x" + width + "x" + channels + " pixels need "
                    + (long) height * width * channels + " bytes, got " + data.length);
        }
    }

    /** Channel {@code c} of the pixel at (y, x), 0..255. */
    public int get(int y, int x, int c) {
        return data[(y * width + x) * channels + c] & 0xFF;
    }

    public String size() {
        return width + "x" + height;
    }
}
