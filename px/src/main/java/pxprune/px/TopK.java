package pxprune.px;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import pxprune.core.Tensor;

/**
 * Exact top-k selection of the weights to keep.
 *
 * <p>For a target density d in (0, 1] over N weights (all prunable weights for {@link #global},
 * one layer's for {@link #perLayer}), n_keep = N - floor((1 - d) * N) weights are kept: those with
 * the highest scores among the currently kept ones. A pruned weight is never revived: if fewer
 * than n_keep are currently kept, all of them stay and the density is above the target.
 *
 * <p>Ties are broken deterministically: among equal scores the weight with the lower flat index
 * wins, the flat index counting row-major within a weight, across the concatenation of the
 * weights in registration order (the order of {@link Masks#names()}). -0.0 and +0.0 are equal.
 *
 * <p>Every score of a currently kept weight must be finite; otherwise the selection fails naming
 * the layer (scores of pruned weights are ignored).
 */
public final class TopK {
    private TopK() {}

    /** n_keep = N - floor((1 - d) N); d must be in (0, 1] */
    public static long keepCount(long n, double density) {
        checkDensity(density);
        return n - (long) Math.floor((1 - density) * n);
    }

    public static void checkDensity(double density) {
        if (!(density > 0 && density <= 1))
            throw new IllegalArgumentException("density " + density + " is outside (0, 1]: it is the fraction of weights kept, "
                    + "e.g. 0.1 keeps 10%");
    }

    /** keeps the globally highest-scoring weights, n_keep of all prunable weights */
    public static Masks global(Map<String, Tensor> scores, Masks masks, double density) {
        checkDensity(density);
        Map<String, double[]> s = hostScores(scores, masks);
        long total = masks.total();
        int n = Math.toIntExact(masks.kept());
        double[] kept = new double[n + 1]; // one spare entry: the loops below write before they know whether to keep
        int j = 0;
        for (String name : masks.names()) j = gather(masks.raw(name), s.get(name), kept, j);
        boolean[] keep = Arrays.copyOf(select(Arrays.copyOf(kept, n), keepCount(total, density)), n + 1);
        LinkedHashMap<String, float[]> out = new LinkedHashMap<>();
        j = 0;
        for (String name : masks.names()) {
            float[] m = masks.raw(name), r = new float[m.length];
            j = scatter(m, keep, r, j);
            out.put(name, r);
        }
        return build(out, masks);
    }

    /** v's entries where m is 1, appended to kept from j on (branch-free: the masks are random patterns); the next j */
    private static int gather(float[] m, double[] v, double[] kept, int j) {
        for (int i = 0; i < m.length; i++) {
            kept[j] = v[i];
            j += (int) m[i];
        }
        return j;
    }

    /** r[i] = 1 where m[i] is 1 and that kept weight, the j-th, is kept (keep has a spare last entry); the next j */
    private static int scatter(float[] m, boolean[] keep, float[] r, int j) {
        for (int i = 0; i < m.length; i++) {
            r[i] = m[i] * (keep[j] ? 1f : 0f);
            j += (int) m[i];
        }
        return j;
    }

    /** keeps, in every layer separately, the n_keep = N_l - floor((1 - d) N_l) highest-scoring weights */
    public static Masks perLayer(Map<String, Tensor> scores, Masks masks, double density) {
        checkDensity(density);
        Map<String, double[]> s = hostScores(scores, masks);
        LinkedHashMap<String, float[]> out = new LinkedHashMap<>();
        for (String name : masks.names()) {
            float[] m = masks.raw(name), r = new float[m.length];
            int n = Math.toIntExact(masks.kept(name));
            double[] kept = new double[n + 1];
            gather(m, s.get(name), kept, 0);
            boolean[] keep = Arrays.copyOf(select(Arrays.copyOf(kept, n), keepCount(m.length, density)), n + 1);
            scatter(m, keep, r, 0);
            out.put(name, r);
        }
        return build(out, masks);
    }

    /** new masks of like's shapes; the values are 0/1 by construction and handed over, not copied */
    private static Masks build(LinkedHashMap<String, float[]> values, Masks like) { return like.withValues(values); }

    /**
     * the n highest of v (all if n >= v.length), ties to the lower index: everything above the
     * n-th largest value, then the lowest-indexed entries equal to it. The n-th largest is found
     * by selection ({@link #kthSmallest}, linear time), not by sorting.
     */
    public static boolean[] select(double[] v, long n) {
        boolean[] keep = new boolean[v.length];
        if (n >= v.length) { Arrays.fill(keep, true); return keep; }
        if (n <= 0) return keep;
        double t = kthSmallest(v, v.length - (int) n);
        long above = 0;
        for (int i = 0; i < v.length; i++) { // branch-free but for the ties, which are rare
            boolean k = v[i] > t;
            keep[i] = k;
            above += k ? 1 : 0;
        }
        long ties = n - above;
        for (int i = 0; i < v.length && ties > 0; i++)
            if (v[i] == t) { keep[i] = true; ties--; }
        return keep;
    }

    /**
     * The value that would be at index k if a were sorted ascending (no NaN; -0.0 counts as below
     * +0.0), by a radix selection on the bits: a double's bits, with the sign bit flipped for
     * positive numbers and all bits flipped for negative ones, order as the numbers do when read
     * as unsigned integers. One pass counts the values per leading 16 bits (65,536 buckets), the
     * bucket that holds index k is kept, and the next 16 bits of its members are counted, and so
     * on: at most four passes, each over the survivors of the last, so O(n) whatever the values
     * (a full sort, as before, was O(n log n) and the largest cost of a SynFlow round).
     */
    public static double kthSmallest(double[] a, int k) {
        if (k < 0 || k >= a.length) throw new IllegalArgumentException("k = " + k + " is outside [0, " + a.length + ")");
        int[] hist = new int[1 << 16];
        for (double x : a) hist[(int) (sortable(x) >>> 48)]++;
        int bucket = 0;
        while (k >= hist[bucket]) k -= hist[bucket++];
        long[] c = new long[hist[bucket]];
        int n = 0;
        for (double x : a) {
            long u = sortable(x);
            if ((int) (u >>> 48) == bucket) c[n++] = u;
        }
        for (int shift = 32; shift >= 0 && n > 1; shift -= 16) {
            if (n <= 64) {
                Arrays.sort(c, 0, n); // unsigned order: all members share their leading bits, so signed order is the same
                return unsortable(c[k]);
            }
            java.util.Arrays.fill(hist, 0);
            for (int i = 0; i < n; i++) hist[(int) (c[i] >>> shift) & 0xffff]++;
            bucket = 0;
            while (k >= hist[bucket]) k -= hist[bucket++];
            int m = 0;
            for (int i = 0; i < n; i++) if (((int) (c[i] >>> shift) & 0xffff) == bucket) c[m++] = c[i];
            n = m;
        }
        return unsortable(c[n == 1 ? 0 : k]);
    }

    /** x's bits as an unsigned integer that orders as x does */
    private static long sortable(double x) {
        long b = Double.doubleToRawLongBits(x);
        return b < 0 ? ~b : b ^ Long.MIN_VALUE;
    }

    private static double unsortable(long u) { return Double.longBitsToDouble(u < 0 ? u ^ Long.MIN_VALUE : ~u); }

    /** scores on the host as doubles (-0.0 folded into +0.0), checked for shape and finiteness */
    private static Map<String, double[]> hostScores(Map<String, Tensor> scores, Masks masks) {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (String name : masks.names()) {
            Tensor t = scores.get(name);
            if (t == null) throw new IllegalArgumentException("no score for prunable weight " + name + " (scores given for "
                    + scores.keySet() + ")");
            if (!Arrays.equals(t.shape(), masks.shape(name)))
                throw new IllegalArgumentException("score of " + name + " has shape " + Arrays.toString(t.shape())
                        + ", the weight " + Arrays.toString(masks.shape(name)));
            double[] v = t.toDoubleArray();
            float[] m = masks.raw(name);
            for (int i = 0; i < v.length; i++) {
                double x = v[i];
                if (x - x != 0 && m[i] != 0f) // x - x is NaN for NaN and +-inf, else 0: a branch taken almost never
                    throw new IllegalArgumentException("non-finite score " + x + " for a kept weight of " + name
                            + " (flat index " + i + "); the scorer overflowed or divided by zero: check the model and data");
                v[i] = x + 0.0;
            }
            out.put(name, v);
        }
        return out;
    }
}
