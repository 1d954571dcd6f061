package dev.anyrefill.cli;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.Pixels;
import dev.anyrefill.pipeline.Task;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * A task's preparation alone: the left condition of a generation or restoration task made
 * from a photo, or the right-hand map of a perception task; also how training pairs are made.
 */
@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = "Make a task's prepared image from a photo (Canny edges, greyscale, blur, low resolution).")
final class PrepareCommand implements Callable<Integer> {
    @Option(names = "--task", required = true, paramLabel = "TASK", description = "The task (see refill --help).")
    String task;

    @Option(names = "--image", required = true, paramLabel = "IMAGE", description = "The photo.")
    Path image;

    @Option(names = "--out", required = true, paramLabel = "IMAGE", description = "The prepared image.")
    Path out;

    @Override
    public Integer call() {
        Task t = Task.fromCliName(task);
        Outputs.requireNotInput(out, image);
        Pixels photo = ImageFiles.readRgb(image);
        Pixels prepared = t.prepare(photo);
        ImageFiles.writePixels(out, prepared, out.toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png")
                ? Map.of("Software", "anyrefill-jvm " + Main.VERSION, "anyrefill.task", t.cliName()) : Map.of());
        System.out.println(t.cliName() + ": wrote the " + (t.preparedSide() == Task.Side.LEFT ? "left condition" : "right-hand map")
                + " " + out + " (" + prepared.size() + ")");
        return 0;
    }
}
