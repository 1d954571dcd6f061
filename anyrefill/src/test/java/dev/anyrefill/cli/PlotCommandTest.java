package dev.anyrefill.cli;

import dev.anyrefill.image.ImageFiles;
import dev.anyrefill.image.Pixels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code anyrefill plot}: the series land where their values say, in their colours. */
class PlotCommandTest {
    @TempDir
    Path tmp;

    @Test
    void aLogPlotPutsTheHighestPointAtTheTopAndTheLastAtTheRight() {
        Path png = tmp.resolve("psnr.png");
        CliRun r = CliRun.of("plot", "--log-x", "--title", "colorization", "--x-label", "training pairs", "--out",
                png.toString(), "--series", "LoRA=10:18,50:21,200:23", "--series", "input=10:15,50:15,200:15");
        assertEquals(0, r.exitCode(), r.err());
        Pixels p = ImageFiles.readRgb(png);
        assertEquals(800, p.width());
        // the first series' colour (0x143CA0) at its last point: the right end of the x axis
        // (x 550, where the legend's column begins), the top of the y axis
        int dot = pixelsNear(p, 0x143CA0, 0, 30, 60, 530, 560);
        assertTrue(dot > 5, "the dot of (200, 23): " + dot + " pixels");
        // its label in the column right of the axis, where no line runs (anti-aliased text: no
        // pixel has the colour exactly, its strokes' cores lie within 40 of it in each channel)
        int label = pixelsNear(p, 0x143CA0, 40, 45, 62, 570, 620);
        assertTrue(label > 5, "the legend's 'LoRA': " + label + " pixels");
        CliRun bad = CliRun.of("plot", "--log-x", "--out", tmp.resolve("x.png").toString(), "--series", "a=0:1,2:3");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("a log x axis needs positive x"), bad.err());
        assertEquals(2, CliRun.of("plot", "--out", tmp.resolve("y.png").toString(), "--series", "a=1;2").exitCode());
    }

    /** How many pixels within {@code tolerance} of this colour in every channel lie in rows [y0, y1), columns [x0, x1). */
    private static int pixelsNear(Pixels p, int rgb, int tolerance, int y0, int y1, int x0, int x1) {
        int n = 0;
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                boolean near = true;
                for (int c = 0; c < 3; c++) {
                    near &= Math.abs(p.get(y, x, c) - ((rgb >> (16 - 8 * c)) & 255)) <= tolerance;
                }
                n += near ? 1 : 0;
            }
        }
        return n;
    }
}
