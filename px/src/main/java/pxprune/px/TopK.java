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
        double[] kept = new double[Math.toIntExact(masks.kept())];
        int j = 0;
        for (String name : masks.names()) {
            float[] m = masks.raw(name);
            double[] v = s.get(name);
            for (int i = 0; i < m.length; i++) if (m[i] != 0f) kept[j++] = v[i];
        }
        long nKeep = keepCount(total, density);
        boolean[] keep = select(kept, nKeep);
        LinkedHashMap<String, float[]> out = new LinkedHashMap<>();
        j = 0;
        for (String name : masks.names()) {
            float[] m = masks.raw(name), r = new float[m.length];
            for (int i = 0; i < m.length; i++) if (m[i] != 0f && keep[j++]) r[i] = 1f;
            out.put(name, r);
        }
        return build(out, masks);
    }

    /** keeps, in every layer separately, the n_keep = N_l - floor((1 - d) N_l) highest-scoring weights */
    public static Masks perLayer(Map<String, Tensor> scores, Masks masks, double density) {
        checkDensity(density);
        Map<String, double[]> s = hostScores(scores, masks);
        LinkedHashMap<String, float[]> out = new LinkedHashMap<>();
        for (String name : masks.names()) {
            float[] m = masks.raw(name), r = new float[m.length];
            double[] v = s.get(name);
            double[] kept = new double[Math.toIntExact(masks.kept(name))];
            int j = 0;
            for (int i = 0; i < m.length; i++) if (m[i] != 0f) kept[j++] = v[i];
            boolean[] keep = select(kept, keepCount(m.length, density));
            j = 0;
            for (int i = 0; i < m.length; i++) if (m[i] != 0f && keep[j++]) r[i] = 1f;
            out.put(name, r);
        }
        return build(out, masks);
    }

    private static Masks build(LinkedHashMap<String, float[]> values, Masks like) {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (String n : like.names()) shapes.put(n, like.shape(n));
        return Masks.of(values, shapes);
    }

    /**
     * the n highest of v (all if n >= v.length), ties to the lower index: everything above the
     * n-th largest value, then the lowest-indexed entries equal to it
     */
    static boolean[] select(double[] v, long n) {
        boolean[] keep = new boolean[v.length];
        if (n >= v.length) { Arrays.fill(keep, true); return keep; }
        if (n <= 0) return keep;
        double[] sorted = v.clone();
        Arrays.sort(sorted);
        double t = sorted[v.length - (int) n];
        long above = 0;
        for (double x : v) if (x > t) above++;
        long ties = n - above;
        for (int i = 0; i < v.length; i++) {
            if (v[i] > t) keep[i] = true;
            else if (v[i] == t && ties > 0) { keep[i] = true; ties--; }
        }
        return keep;
    }

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
                if (m[i] == 0f) continue;
                if (!Double.isFinite(v[i]))
                    throw new IllegalArgumentException("non-finite score " + v[i] + " for a kept weight of " + name
                            + " (flat index " + i + "); the scorer overflowed or divided by zero: check the model and data");
                v[i] += 0.0;
            }
            out.put(name, v);
        }
        return out;
    }
}
