package pxprune.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import pxprune.core.io.SafeTensors;
import pxprune.kernels.TestData;

/** The golden files (testdata/golden, through {@link TestData}) and the comparisons the tests use. */
public final class Golden {
    private Golden() {}

    public static SafeTensors.File load(String file) {
        try {
            return SafeTensors.read(TestData.file("golden/" + file));
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
