package pxprune.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import pxprune.core.io.SafeTensors;

/** Access to ../shared/golden and the comparisons the tests use. */
public final class Golden {
    private Golden() {}

    public static Path shared() {
        String p = System.getProperty("pxprune.shared");
        for (String c : new String[] {p, "../shared", "../../shared"})
            if (c != null && Files.isDirectory(Path.of(c, "golden"))) return Path.of(c);
        throw new IllegalStateException("../shared/golden not found (set -Dpxprune.shared=/path/to/shared)");
    }

    public static SafeTensors.File load(String file) {
        try {
            return SafeTensors.read(shared().resolve("golden").resolve(file));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static double relL2(double[] expected, double[] actual) { return Numerics.relativeL2(expected, actual); }

    public static void assertClose(String what, SafeTensors.Entry expected, Tensor actual, double tol) {
        assertArrayEquals(expected.intShape(), actual.shape(), what + ": shape");
        assertClose(what, expected.toDoubles(), actual.toDoubleArray(), tol);
    }

    public static void assertClose(String what, double[] expected, double[] actual, double tol) {
        double e = relL2(expected, actual);
        assertTrue(e <= tol, what + ": relative L2 error " + e + " > " + tol);
    }
}
