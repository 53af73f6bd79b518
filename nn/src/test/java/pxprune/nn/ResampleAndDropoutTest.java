package pxprune.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;

/** nn's Resample (the interpreter's resampling site) and Dropout (seeded, identity in eval mode). */
class ResampleAndDropoutTest {
    MemoryScope scope;

    @BeforeEach void open() { scope = MemoryScope.open(); }
    @AfterEach void close() { scope.close(); }

    static Tensor range(int... shape) {
        double[] v = new double[(int) Tensor.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = Math.sin(i + 1);
        return Tensor.of(v, shape);
    }

    @Test void standardForwardIsTheOpAndMapWithTransformsEachCoefficient() {
        Tensor x = range(1, 2, 3, 5);
        Resample r = Resample.bilinear(7, 4, false);
        assertArrayEquals(Ops.upsampleBilinear(x, 7, 4, false).toDoubleArray(), r.apply(x, Interpreter.STANDARD).toDoubleArray(), 0);
        // squared coefficients: equal to the map with explicitly squared 2-D coefficients (mh[o,i] mw[p,j])^2
        double[] mh = r.rowMatrix(3), mw = r.colMatrix(5), xs = x.toDoubleArray();
        double[] sq = r.mapWith(x, c -> c * c).toDoubleArray();
        for (int c = 0; c < 2; c++)
            for (int o = 0; o < 7; o++)
                for (int p = 0; p < 4; p++) {
                    double s = 0;
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 5; j++) s += Math.pow(mh[o * 3 + i] * mw[p * 5 + j], 2) * xs[(c * 3 + i) * 5 + j];
                    assertEquals(s, sq[(c * 7 + o) * 4 + p], 1e-12);
                }
        Resample a = Resample.adaptiveAvg(2, 2);
        assertArrayEquals(Ops.adaptiveAvgPool2d(x, 2, 2).toDoubleArray(), a.apply(x, Interpreter.STANDARD).toDoubleArray(), 0);
        assertThrows(IllegalArgumentException.class, () -> new Resample(Resample.Kind.ADAPTIVE_AVG, 2, 2, true));
    }

    @Test void dropoutIsIdentityInEvalModeAndSeededInTraining() {
        Sequential m = new Sequential(new Dropout(0.5), new Dropout(0.5));
        Tensor x = Tensor.full(pxprune.kernels.DType.F64, 1, 1000);
        m.eval();
        assertArrayEquals(x.toDoubleArray(), m.forward(x).toDoubleArray(), 0);
        m.train(true);
        Dropout.reseed(m, 42);
        double[] a = m.forward(x).toDoubleArray();
        Dropout.reseed(m, 42);
        assertArrayEquals(a, m.forward(x).toDoubleArray(), 0, "the same seed gives the same masks");
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(m.forward(x).toDoubleArray()), "each call draws a new mask");
        long kept = java.util.Arrays.stream(a).filter(v -> v != 0).count();
        for (double v : a) if (v != 0) assertEquals(4, v, 0); // two dropouts of 0.5: kept values scaled by 2 twice
        assertEquals(250, kept, 60, "about a quarter survive both");
    }
}
