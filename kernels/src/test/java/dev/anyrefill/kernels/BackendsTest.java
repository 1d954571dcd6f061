package dev.anyrefill.kernels;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackendsTest {
    @Test
    void javaIsAlwaysThere() {
        assertInstanceOf(JavaKernels.class, Backends.byName("java"));
        assertEquals("java", Backends.available().getFirst());
    }

    @Test
    void unknownNameSaysWhatExists() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.byName("cuda"));
        assertTrue(e.getMessage().contains("unknown backend 'cuda'") && e.getMessage().contains("java"), e.getMessage());
    }
}
