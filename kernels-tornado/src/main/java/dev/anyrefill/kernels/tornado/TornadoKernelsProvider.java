package dev.anyrefill.kernels.tornado;

import dev.anyrefill.kernels.Kernels;
import dev.anyrefill.kernels.KernelsProvider;

/** Offers {@link TornadoKernels} to {@link dev.anyrefill.kernels.Backends} as {@code tornado}. */
public final class TornadoKernelsProvider implements KernelsProvider {
    @Override
    public String name() {
        return "tornado";
    }

    @Override
    public Kernels create() {
        if (ModuleLayer.boot().findModule("tornado.runtime").isEmpty()) {
            throw new IllegalArgumentException("the tornado backend needs TornadoVM's JVM flags: run with "
                    + "java @$TORNADOVM_HOME/tornado-argfile (bin/anyrefill --backend tornado adds them)");
        }
        // A kernel TornadoVM cannot compile must be an error, not a silent run in Java.
        if (System.getProperty("tornado.recover.bailout") == null) {
            System.setProperty("tornado.recover.bailout", "False");
        }
        return new TornadoKernels();
    }
}
