package pxprune.experiments.report;

import java.util.Arrays;

/** Summary statistics of a few numbers (one per seed): mean, sample standard deviation, range. */
public record Stats(int n, double mean, double std, double min, double max) {

    /**
     * The mean, the sample standard deviation sqrt(sum (x - mean)^2 / (n - 1)) (NaN for n = 1),
     * the minimum and the maximum. NaN values are left out; none at all gives n = 0 and NaNs.
     */
    public static Stats of(double... xs) {
        double[] v = Arrays.stream(xs).filter(x -> !Double.isNaN(x)).toArray();
        int n = v.length;
        if (n == 0) return new Stats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        double sum = 0, min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (double x : v) { sum += x; min = Math.min(min, x); max = Math.max(max, x); }
        double mean = sum / n, ss = 0;
        for (double x : v) ss += (x - mean) * (x - mean);
        return new Stats(n, mean, n > 1 ? Math.sqrt(ss / (n - 1)) : Double.NaN, min, max);
    }

    /** the standard deviation, 0 where it is undefined (one value): for error bars */
    public double stdOrZero() { return Double.isNaN(std) ? 0 : std; }
}
