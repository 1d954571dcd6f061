package dev.anyrefill.kernels;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackendsTest {
    @Test
    void javaIsAlwaysThere() {
        Kernels java = Backends.byName("java");
        assertEquals("java", java.name());
        // tests run with -Danyrefill.checkScopes=true: the Java kernels behind the scope check
        Class<? extends Kernels> expected = Boolean.getBoolean(ScopeCheckingKernels.PROPERTY)
                ? ScopeCheckingKernels.class : JavaKernels.class;
        assertInstanceOf(expected, java);
        assertEquals("java", Backends.available().getFirst());
    }

    @Test
    void unknownNameSaysWhatExists() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.byName("cuda"));
        assertTrue(e.getMessage().contains("unknown backend 'cuda'") && e.getMessage().contains("java"), e.getMessage());
    }
}
