package pxprune.experiments.report;

import java.util.Arrays;
import java.util.List;
import pxprune.px.Masks;

/**
 * Mask overlap: the Jaccard index |A and B| / |A or B| of the sets of kept weights of two masks
 * of the same model (every prunable weight, all layers together). 1 for identical masks, 0 for
 * disjoint ones; two masks that keep nothing count as identical (1). Two independent uniformly
 * random masks of density d overlap by d / (2 - d) in expectation ({@link #chance}).
 */
public final class Jaccard {
    private Jaccard() {}

    /** the kept weights of masks as bits, layer after layer in the masks' order (bit i of word i / 64) */
    public static long[] bits(Masks m) {
        long n = m.total();
        long[] b = new long[Math.toIntExact((n + 63) / 64)];
        long i = 0;
        for (String name : m.names()) {
            float[] v = m.values(name);
            for (float x : v) {
                if (x != 0f) b[(int) (i >>> 6)] |= 1L << (i & 63);
                i++;
            }
        }
        return b;
    }

    /** the Jaccard index of two masks; they must cover the same weights (names and shapes) */
    public static double of(Masks a, Masks b) {
        List<String> na = a.names(), nb = b.names();
        if (!na.equals(nb)) throw new IllegalArgumentException("masks of different weights: " + na + " and " + nb);
        for (String n : na)
            if (!Arrays.equals(a.shape(n), b.shape(n)))
                throw new IllegalArgumentException("mask " + n + " has shapes " + Arrays.toString(a.shape(n)) + " and "
                        + Arrays.toString(b.shape(n)));
        return of(bits(a), bits(b));
    }

    /** the Jaccard index of two bit sets of the same length ({@link #bits}) */
    public static double of(long[] a, long[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("bit sets of " + a.length + " and " + b.length + " words");
        long inter = 0, union = 0;
        for (int i = 0; i < a.length; i++) {
            inter += Long.bitCount(a[i] & b[i]);
            union += Long.bitCount(a[i] | b[i]);
        }
        return union == 0 ? 1.0 : (double) inter / union;
    }

    /** the expected Jaccard index of two independent uniformly random masks of density d: d / (2 - d) */
    public static double chance(double d) { return d / (2 - d); }
}
