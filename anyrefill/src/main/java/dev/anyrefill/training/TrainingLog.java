package dev.anyrefill.training;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.anyrefill.weights.AtomicFiles;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The metrics file: one JSON object per line, {@code step} (updates done), {@code loss},
 * {@code lr}, {@code grad_norm}, {@code seconds} of the step, and {@code val_loss} on the steps
 * that validate (step 0 holds the validation before training). A resumed run keeps the lines
 * up to its checkpoint's step and continues after them.
 */
public final class TrainingLog implements AutoCloseable {
    /** One line of the file. */
    public record Line(int step, Double loss, Double lr, Double gradNorm, Double seconds, Double valLoss) {
        JsonObject toJson() {
            JsonObject o = new JsonObject();
            o.addProperty("step", step);
            put(o, "loss", loss);
            put(o, "lr", lr);
            put(o, "grad_norm", gradNorm);
            put(o, "seconds", seconds);
            put(o, "val_loss", valLoss);
            return o;
        }

        static Line fromJson(JsonObject o) {
            return new Line(o.get("step").getAsInt(), get(o, "loss"), get(o, "lr"), get(o, "grad_norm"),
                    get(o, "seconds"), get(o, "val_loss"));
        }

        private static void put(JsonObject o, String key, Double v) {
            if (v != null) {
                o.addProperty(key, v);
            }
        }

        private static Double get(JsonObject o, String key) {
            return o.has(key) ? o.get(key).getAsDouble() : null;
        }
    }

    private final Path file;
    private final List<Line> lines = new ArrayList<>();
    private final BufferedWriter writer;

    /** Starts the file anew, or after a resume keeps its lines up to {@code resumedStep}. */
    public TrainingLog(Path file, Integer resumedStep) {
        this.file = file;
        try {
            if (resumedStep != null && Files.exists(file)) {
                for (String text : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    if (!text.isBlank()) {
                        Line l = Line.fromJson(JsonParser.parseString(text).getAsJsonObject());
                        if (l.step() <= resumedStep) {
                            lines.add(l);
                        }
                    }
                }
            }
            StringBuilder kept = new StringBuilder();
            lines.forEach(l -> kept.append(l.toJson()).append('\n'));
            AtomicFiles.write(file, kept.toString().getBytes(StandardCharsets.UTF_8));
            writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(file + ": cannot write the metrics: " + e.getMessage(), e);
        }
    }

    public Path file() {
        return file;
    }

    /** Appends a line and flushes it (a crash loses no logged step). */
    public void add(Line line) {
        lines.add(line);
        try {
            writer.write(line.toJson().toString());
            writer.newLine();
            writer.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write the metrics: " + e.getMessage(), e);
        }
    }

    /** Every line so far, the resumed run's earlier ones included. */
    public List<Line> lines() {
        return List.copyOf(lines);
    }

    /** The mean training loss of the last {@code n} logged steps (NaN before any). */
    public double recentLoss(int n) {
        double sum = 0;
        int count = 0;
        for (int i = lines.size() - 1; i >= 0 && count < n; i--) {
            if (lines.get(i).loss() != null) {
                sum += lines.get(i).loss();
                count++;
            }
        }
        return count == 0 ? Double.NaN : sum / count;
    }

    @Override
    public void close() {
        try {
            writer.close();
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot close the metrics: " + e.getMessage(), e);
        }
    }
}
