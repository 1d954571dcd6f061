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
        // the first series' colour (0x143CA0) at its last point: the right end of the x axis, the top of the y axis
        int blueNearTopRight = 0;
        for (int y = 30; y < 60; y++) {
            for (int x = 760; x < 790; x++) {
                blueNearTopRight += p.get(y, x, 0) == 0x14 && p.get(y, x, 1) == 0x3C && p.get(y, x, 2) == 0xA0 ? 1 : 0;
            }
        }
        assertTrue(blueNearTopRight > 5, "the dot of (200, 23): " + blueNearTopRight + " pixels");
        CliRun bad = CliRun.of("plot", "--log-x", "--out", tmp.resolve("x.png").toString(), "--series", "a=0:1,2:3");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("a log x axis needs positive x"), bad.err());
        assertEquals(2, CliRun.of("plot", "--out", tmp.resolve("y.png").toString(), "--series", "a=1;2").exitCode());
    }
}
