package dev.anyrefill.testing;

import dev.anyrefill.tensor.Tensor;
import dev.anyrefill.weights.SafetensorsFile;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Path;
import java.util.Set;

/**
 * A golden safetensors file that a test class opens before its first test and closes after its
 * last, declared once instead of a pair of {@code @BeforeAll}/{@code @AfterAll} methods:
 * {@code @RegisterExtension static final GoldenFile expected = GoldenFile.expected();}.
 * It runs before the class's own {@code @BeforeAll} methods, so those may already read it.
 */
public final class GoldenFile implements BeforeAllCallback, AfterAllCallback {
    private final Path path;
    private SafetensorsFile file;

    private GoldenFile(Path path) {
        this.path = path;
    }

    /** tiny/expected.safetensors. */
    public static GoldenFile expected() {
        return tiny("expected.safetensors");
    }

    /** A file of testdata/golden/tiny. */
    public static GoldenFile tiny(String name) {
        return new GoldenFile(Golden.tiny(name));
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        file = SafetensorsFile.open(path);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        file.close();
        file = null;
    }

    /** The open file (between the class's first and last test). */
    public SafetensorsFile file() {
        if (file == null) {
            throw new IllegalStateException(path + " is not open: register GoldenFile with @RegisterExtension");
        }
        return file;
    }

    public Tensor get(String name) {
        return file().get(name);
    }

    public Set<String> names() {
        return file().names();
    }
}
