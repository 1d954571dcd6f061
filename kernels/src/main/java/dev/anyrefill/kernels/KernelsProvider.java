package dev.anyrefill.kernels;

/**
 * A backend that lives in another module (the TornadoVM one), found at run time through
 * {@link java.util.ServiceLoader} so that nothing depends on it at compile time. A module
 * offering one lists its class in {@code META-INF/services/dev.anyrefill.kernels.KernelsProvider}.
 */
public interface KernelsProvider {

    /** The name users pick it by ({@code --backend tornado}). */
    String name();

    /** A new backend instance; an IllegalArgumentException naming what is missing if it cannot run here. */
    Kernels create();
}
