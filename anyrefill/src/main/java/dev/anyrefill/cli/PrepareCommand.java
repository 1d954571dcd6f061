package dev.anyrefill.cli;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.ImageOps;
import dev.anyrefill.image.Pixels;
import dev.anyrefill.pipeline.LpgImages;
import dev.anyrefill.pipeline.Task;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * A task's preparation: from one photo, the left condition of a generation or restoration task
 * or the right-hand map of a perception task; from a folder of photos, a folder of training
 * pairs for {@code train} (how the paper built its DIV2K / Flickr2K pairs).
 */
@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = "Make a task's prepared image from a photo (Canny edges, greyscale, blur, low resolution), "
                + "or training pairs from a folder of photos (--pairs-from).")
final class PrepareCommand implements Callable<Integer> {
    @Option(names = "--task", required = true, paramLabel = "TASK", description = "The task (see refill --help).")
    String task;

    static final class Source {
        @Option(names = "--image", paramLabel = "IMAGE", description = "The photo.")
        Path image;

        @Option(names = "--pairs-from", paramLabel = "DIR",
                description = "A folder of photos: write NAME.ref.png, NAME.target.png and NAME.txt per photo into --out.")
        Path photos;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--size", paramLabel = "HxW",
            description = "With --pairs-from: centre-crop each photo to this aspect and resize it (default: as it is).")
    String size;

    @Option(names = "--caption", defaultValue = "", paramLabel = "TEXT",
            description = "With --pairs-from: the caption written for every pair (default: empty).")
    String caption;

    @Option(names = "--canny", paramLabel = "LOW,HIGH", split = ",",
            description = "With canny-to-image or image-to-canny: Canny's hysteresis thresholds (default: 100,200); "
                    + "smooth or small images want lower ones.")
    int[] canny;

    @Option(names = "--blur-sigma", paramLabel = "S",
            description = "With deblur: the Gaussian blur's sigma in pixels (default: 3).")
    Double blurSigma;

    @Option(names = "--out", required = true, paramLabel = "IMAGE|DIR",
            description = "The prepared image, or with --pairs-from the pairs folder.")
    Path out;

    @Override
    public Integer call() {
        Task t = Task.fromCliName(task);
        if (canny != null && (canny.length != 2 || canny[0] < 0 || canny[0] > canny[1]
                || (t != Task.CANNY_TO_IMAGE && t != Task.IMAGE_TO_CANNY))) {
            throw new IllegalArgumentException("--canny LOW,HIGH (0 <= LOW <= HIGH) is for canny-to-image and image-to-canny");
        }
        if (blurSigma != null && (t != Task.DEBLUR || !(blurSigma > 0 && blurSigma <= 64))) {
            throw new IllegalArgumentException("--blur-sigma S (0 < S <= 64) is for deblur");
        }
        if (source.photos != null) {
            return pairs(t);
        }
        Outputs.requireNotInput(out, source.image);
        Outputs.requireWritable(out);
        Pixels photo = ImageFiles.readRgb(source.image);
        Pixels prepared = prepare(t, photo);
        ImageFiles.writePixels(out, prepared, isPng(out) ? metadata(t) : Map.of());
        System.out.println(t.cliName() + ": wrote the " + (t.preparedSide() == Task.Side.LEFT ? "left condition" : "right-hand map")
                + " " + out + " (" + prepared.size() + ")");
        return 0;
    }

    private int pairs(Task t) {
        if (!t.hasPreparation()) {
            t.prepare(null); // the error saying why this task has no preparation
        }
        Path photos = source.photos;
        if (!Files.isDirectory(photos)) {
            throw new IllegalArgumentException(photos + ": --pairs-from must be a folder of photos");
        }
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IllegalArgumentException(out + ": --out must be a folder for --pairs-from");
        }
        if (out.toAbsolutePath().normalize().equals(photos.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException(out + ": write the pairs into another folder than the photos");
        }
        LpgImages.Size s = size == null ? null : LpgImages.Size.parse(size);
        List<Path> files = dev.anyrefill.training.ImageFolder.list(photos);
        if (files.isEmpty()) {
            throw new IllegalArgumentException(photos + ": no photos (" + dev.anyrefill.training.ImageFolder.EXTENSIONS + ")");
        }
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new IllegalArgumentException(out + ": cannot create the folder: " + e.getMessage(), e);
        }
        for (Path f : files) {
            Pixels photo = ImageFiles.readRgb(f);
            if (s != null) {
                photo = ImageOps.resize(centreCrop(photo, s), s.height(), s.width());
            }
            Pixels prepared = prepare(t, photo);
            boolean left = t.preparedSide() == Task.Side.LEFT;
            String name = stem(f);
            ImageFiles.writePixels(out.resolve(name + ".ref.png"), left ? prepared : photo, metadata(t));
            ImageFiles.writePixels(out.resolve(name + ".target.png"), left ? photo : prepared, metadata(t));
            writeCaption(out.resolve(name + ".txt"));
        }
        System.out.println(t.cliName() + ": wrote " + files.size() + " training pairs into " + out);
        return 0;
    }

    /** The task's preparation, with --canny's thresholds or --blur-sigma where given. */
    private Pixels prepare(Task t, Pixels photo) {
        if (canny != null) {
            return ImageOps.canny(photo, canny[0], canny[1]);
        }
        return blurSigma != null ? ImageOps.gaussianBlur(photo, blurSigma) : t.prepare(photo);
    }

    private void writeCaption(Path file) {
        try {
            dev.anyrefill.weights.AtomicFiles.write(file, caption.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** The largest centred region of the photo with the aspect of {@code s}. */
    static Pixels centreCrop(Pixels p, LpgImages.Size s) {
        int w = p.width();
        int h = (int) Math.min(p.height(), Math.round((double) w * s.height() / s.width()));
        w = (int) Math.min(w, Math.round((double) h * s.width() / s.height()));
        return ImageOps.cropCentre(p, h, w);
    }

    private static String stem(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? n : n.substring(0, dot);
    }

    private static boolean isPng(Path p) {
        return dev.anyrefill.training.ImageFolder.extension(p).equals("png");
    }

    private static Map<String, String> metadata(Task t) {
        return Map.of("Software", "anyrefill-jvm " + Main.VERSION, "anyrefill.task", t.cliName());
    }
}
