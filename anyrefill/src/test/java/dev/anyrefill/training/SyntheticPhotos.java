package dev.anyrefill.training;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.Pixels;

import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/** Small seeded "photos" for training tests: a colour gradient with a few coloured discs and boxes. */
public final class SyntheticPhotos {
    private SyntheticPhotos() {
    }

    /** Writes n PNG photos of size x size into dir as photo-00.png, ... */
    public static void write(Path dir, int n, int size, long seed) {
        for (int i = 0; i < n; i++) {
            ImageFiles.writePixels(dir.resolve(String.format("photo-%02d.png", i)), photo(size, seed + i), Map.of());
        }
    }

    static Pixels photo(int size, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] top = colour(rnd);
        int[] bottom = colour(rnd);
        byte[] data = new byte[size * size * 3];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                for (int c = 0; c < 3; c++) {
                    data[(y * size + x) * 3 + c] = (byte) (top[c] + (bottom[c] - top[c]) * y / (size - 1));
                }
            }
        }
        int shapes = 2 + rnd.nextInt(3);
        for (int s = 0; s < shapes; s++) {
            int[] col = colour(rnd);
            int cx = rnd.nextInt(size);
            int cy = rnd.nextInt(size);
            int r = size / 10 + rnd.nextInt(size / 4);
            boolean disc = rnd.nextBoolean();
            for (int y = Math.max(0, cy - r); y < Math.min(size, cy + r); y++) {
                for (int x = Math.max(0, cx - r); x < Math.min(size, cx + r); x++) {
                    if (!disc || (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r) {
                        for (int c = 0; c < 3; c++) {
                            data[(y * size + x) * 3 + c] = (byte) col[c];
                        }
                    }
                }
            }
        }
        return new Pixels(size, size, 3, data);
    }

    private static int[] colour(SplittableRandom rnd) {
        return new int[]{rnd.nextInt(256), rnd.nextInt(256), rnd.nextInt(256)};
    }
}
