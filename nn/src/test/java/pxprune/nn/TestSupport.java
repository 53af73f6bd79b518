package pxprune.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.SplittableRandom;
import pxprune.core.Tensor;
import pxprune.core.io.SafeTensors;
import pxprune.kernels.TestData;

/** Golden files (testdata/golden, through {@link TestData}) and comparisons for the nn tests. */
final class TestSupport {
    private TestSupport() {}

    private static SafeTensors.File resnet20;

    /** the ResNet-20 golden file, read once per JVM */
    static synchronized SafeTensors.File resnet20Golden() {
        if (resnet20 == null) {
            try {
                resnet20 = SafeTensors.read(TestData.file("golden/resnet20_seed1.safetensors"));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        return resnet20;
    }

    static double relL2(double[] expected, double[] actual) { return pxprune.core.Numerics.relativeL2(expected, actual); }

    static double assertClose(String what, SafeTensors.Entry expected, Tensor actual, double tol) {
        int[] es = expected.intShape();
        if (!(es.length == 1 && es[0] == 1 && actual.numel() == 1)) assertArrayEquals(es, actual.shape(), what + ": shape");
        double e = relL2(expected.toDoubles(), actual.toDoubleArray());
        assertTrue(e <= tol, what + ": relative L2 error " + e + " > " + tol);
        return e;
    }

    static Tensor randn(long seed, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return Tensor.of(v, shape);
    }

    static Tensor labels(int n, int classes) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = i % classes;
        return Tensor.ofInts(y, n);
    }
}
