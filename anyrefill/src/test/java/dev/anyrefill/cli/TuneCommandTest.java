package dev.anyrefill.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code anyrefill tune}: a tiny tuning run writes this CPU's file, {@code --show} reports it, bad shapes are refused. */
class TuneCommandTest {
    @Test
    void tuneWritesTheChoiceAndShowReportsIt(@TempDir Path cache) throws IOException {
        String old = System.getProperty("anyrefill.cache.dir");
        System.setProperty("anyrefill.cache.dir", cache.toString()); // never the folder other test JVMs read
        try {
            CliRun tune = CliRun.of("tune", "--shapes", "64x256x96", "--attention-shapes", "attention:100x1x64",
                    "--attention-backward-shapes", "attention-backward:100x1x64",
                    "--conv-shapes", "conv:8x16x16", "--passes", "1", "--rounds", "1");
            assertEquals(0, tune.exitCode(), tune.err());
            List<Path> files;
            try (var list = Files.list(cache)) {
                files = list.toList();
            }
            assertEquals(1, files.size(), "one file for this CPU: " + files);
            String text = Files.readString(files.getFirst());
            assertTrue(text.matches("(?s).*\ngemm\\.kc=[0-9]+\ngemm\\.mc=[0-9]+\nattention\\.queries=[0-9]+\n"
                    + "attention\\.keys=[0-9]+\nattention\\.backward\\.queries=[0-9]+\nattention\\.backward\\.keys=[0-9]+\n"
                    + "conv\\.pixels=[0-9]+\n"), text);
            long measured = tune.out().lines().filter(l -> l.matches(" +(gemm|attention|conv)\\.[a-z.]+=[0-9].*GFLOP/s.*")).count();
            assertTrue(measured >= 2 + 2 + 2 + 2, "the default and at least one other candidate of each sweep:\n" + tune.out());
            assertEquals(measured, text.lines().filter(l -> l.matches("# (gemm|attention|conv)\\..* [0-9.]+( \\*)?")).count(),
                    "every candidate measured is in the file's report:\n" + text);

            CliRun show = CliRun.of("tune", "--show");
            assertEquals(0, show.exitCode(), show.err());
            assertTrue(show.out().contains("tuning file: " + files.getFirst()), show.out());
            assertTrue(show.out().contains(text.lines().filter(l -> l.startsWith("gemm.kc=")).findFirst().orElseThrow()));
        } finally {
            if (old == null) {
                System.clearProperty("anyrefill.cache.dir");
            } else {
                System.setProperty("anyrefill.cache.dir", old);
            }
        }
    }

    @Test
    void aShapeThatIsNotMxKxNIsRefused() {
        CliRun r = CliRun.of("tune", "--shapes", "64x256");
        assertEquals(2, r.exitCode());
        assertEquals("anyrefill: --shapes: '64x256' is not MxKxN\n", r.err());
        CliRun a = CliRun.of("tune", "--attention-shapes", "100x1x64");
        assertEquals(2, a.exitCode());
        assertEquals("anyrefill: --attention-shapes: '100x1x64' is not attention:TxHxD\n", a.err());
    }
}
