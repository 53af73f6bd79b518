package pxprune.bench;

import java.util.SplittableRandom;
import pxprune.core.Tensor;

/** Deterministic inputs for the benchmarks. */
final class Fixtures {
    private Fixtures() {}

    /** n CIFAR-shaped standard-normal images */
    static Tensor images(int n, int c, int side, long seed) {
        float[] v = new float[n * c * side * side];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return Tensor.of(v, n, c, side, side);
    }

    /** labels 0..classes-1, interleaved */
    static int[] labels(int n, int classes) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = i % classes;
        return y;
    }
}
