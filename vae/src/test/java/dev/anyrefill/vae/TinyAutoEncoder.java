package dev.anyrefill.vae;

import dev.anyrefill.kernels.Backends;
import dev.anyrefill.testing.GoldenFile;
import dev.anyrefill.weights.SafetensorsFile;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The golden tiny AutoEncoder (tiny/ae.safetensors on the pure-Java kernels), opened before a
 * test class's first test and closed after its last:
 * {@code @RegisterExtension static final TinyAutoEncoder ae = new TinyAutoEncoder();}.
 */
final class TinyAutoEncoder implements BeforeAllCallback, AfterAllCallback {
    private final GoldenFile file = GoldenFile.tiny("ae.safetensors");
    private AutoEncoder model;

    @Override
    public void beforeAll(ExtensionContext context) {
        file.beforeAll(context);
        model = new AutoEncoder(file.file(), Backends.java());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        model = null;
        file.afterAll(context);
    }

    /** The model, reading its weights from the open file. */
    AutoEncoder model() {
        return model;
    }

    /** The open checkpoint file. */
    SafetensorsFile file() {
        return file.file();
    }
}
