package dev.anyrefill.pipeline;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** A long stage says it is still running; a short one prints its time only. */
class StagesTest {
    @Test
    void aLongStageIsNeverSilent() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Stages stages = new Stages(new PrintStream(bytes, true), 50);
        stages.time("decode (VAE)", () -> sleep(230));
        stages.time("quick", () -> sleep(1));
        String out = bytes.toString();
        long beats = out.lines().filter(l -> l.startsWith("decode (VAE): still running")).count();
        System.out.println("stages: a 230 ms stage with a 50 ms heartbeat printed " + beats + " 'still running' lines");
        assertTrue(beats >= 1 && beats <= 10, out); // about 4: loose, as a loaded machine delays the timer
        assertTrue(out.lines().anyMatch(l -> l.matches("decode \\(VAE\\): \\d+\\.\\d{3} s")), out);
        assertTrue(out.lines().noneMatch(l -> l.startsWith("quick: still")), out);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
