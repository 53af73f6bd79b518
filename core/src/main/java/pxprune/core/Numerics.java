package pxprune.core;

/** Comparisons of arrays of numbers, as the tests and the benchmarks report them. */
public final class Numerics {
    private Numerics() {}

    /** ||actual - expected||_2 / ||expected||_2 (the norm of expected floored at 1e-150) */
    public static double relativeL2(double[] expected, double[] actual) {
        if (expected.length != actual.length)
            throw new IllegalArgumentException("relativeL2: " + expected.length + " expected values, " + actual.length + " actual");
        double num = 0, den = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = expected[i] - actual[i];
            num += d * d;
            den += expected[i] * expected[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }
}
