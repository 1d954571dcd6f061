package dev.anyrefill.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Resolves a backend by name: {@code java} is always there; others ({@code tornado}) come from
 * {@link KernelsProvider}s on the class path.
 */
public final class Backends {
    /** The name of the pure-Java backend, the default. */
    public static final String JAVA = "java";

    private Backends() {
    }

    /** The backend called {@code name}; an IllegalArgumentException naming the known ones if none is. */
    public static Kernels byName(String name) {
        if (JAVA.equals(name)) {
            return java();
        }
        for (KernelsProvider p : ServiceLoader.load(KernelsProvider.class)) {
            if (p.name().equals(name)) {
                return p.create();
            }
        }
        String hint = "tornado".equals(name)
                ? " (the tornado backend needs kernels-tornado built with TORNADOVM_HOME set, and bin/anyrefill --backend tornado)"
                : "";
        throw new IllegalArgumentException("unknown backend '" + name + "'; available: "
                + String.join(", ", available()) + hint);
    }

    /**
     * The pure-Java backend; with {@code -Danyrefill.checkScopes=true} (every test run) wrapped
     * in {@link ScopeCheckingKernels}, so that a missing {@code keep()} fails here too; with
     * {@code -Danyrefill.kernels.plain=true} on the plain loops of {@code PlainKernels}.
     */
    public static Kernels java() {
        JavaKernels java = new JavaKernels(Boolean.getBoolean(JavaKernels.PLAIN_PROPERTY));
        return Boolean.getBoolean(ScopeCheckingKernels.PROPERTY) ? new ScopeCheckingKernels(java) : java;
    }

    /** Releases what a backend holds (a device backend's buffers); nothing for the pure-Java one. */
    public static void release(Kernels kernels) {
        if (kernels instanceof AutoCloseable device) {
            try {
                device.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing the " + kernels.name() + " backend", e);
            }
        }
    }

    /** The names of every backend on the class path, java first. */
    public static List<String> available() {
        List<String> names = new ArrayList<>();
        names.add(JAVA);
        for (KernelsProvider p : ServiceLoader.load(KernelsProvider.class)) {
            names.add(p.name());
        }
        return names;
    }
}
