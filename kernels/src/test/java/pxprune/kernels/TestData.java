package pxprune.kernels;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one way tests reach the repository's test data (testdata/ at the checkout's root, see
 * testdata/README.md). Shared with the other modules' tests as this module's test jar. Nothing
 * outside the checkout is ever read: the folder is found by walking up from the module's
 * directory to the reactor's root (the folder with testdata/ beside the parent pom.xml). A test
 * bundle run without Maven (kernels-cuda's device bundle) names its own copy with
 * {@code -Dpxprune.testdata=DIR}.
 */
public final class TestData {
    private TestData() {}

    /** testdata/ of this checkout */
    public static Path root() {
        String explicit = System.getProperty("pxprune.testdata");
        if (explicit != null) return Path.of(explicit);
        Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path d = start; d != null; d = d.getParent())
            if (Files.isDirectory(d.resolve("testdata")) && Files.isRegularFile(d.resolve("pom.xml"))) return d.resolve("testdata");
        throw new IllegalStateException("testdata/ not found in any folder above " + start
                + "; run the tests from inside a pxprune checkout (mvn -q test at its root)");
    }

    /** a file under testdata/, e.g. {@code file("golden/layers.safetensors")}; throws if it is missing */
    public static Path file(String relative) {
        Path p = root().resolve(relative);
        if (!Files.isRegularFile(p))
            throw new IllegalStateException("test data file " + p + " is missing from the checkout (it is tracked in git: restore it with git checkout -- testdata)");
        return p;
    }
}
