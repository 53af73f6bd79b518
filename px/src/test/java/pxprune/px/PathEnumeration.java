package pxprune.px;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Linear;

/**
 * PX by brute force, for tests: a bias-free network written out as units and weighted edges,
 * every input-output path listed, and the quantities of docs/px-method.md summed path by path:
 * z1_k(x) = sum_p m_p a_p(x) x_s(p)^2, z2_k = sum_p v_p^2 (v_p: the product of theta*m and of
 * batch-norm eval scales along p), w_k = sum_x z1_k(x) / max, R = sum_p w_k(p) v_p^2, and the
 * score of weight j = sum over the paths through j of w_k(p) v_p^2.
 */
final class PathEnumeration {
    /** one layer: edges {out unit, in unit, flat weight index}; optional BN (eval) and ReLU after it */
    static final class Layer {
        final String name;
        final int nIn, nOut;
        final List<int[]> edges = new ArrayList<>();
        double[] theta, mask, scale, shift; // scale/shift per out unit, null without BN
        boolean relu;
        List<List<int[]>> byIn;

        Layer(String name, int nIn, int nOut) { this.name = name; this.nIn = nIn; this.nOut = nOut; }
    }

    final List<Layer> layers = new ArrayList<>();
    double lastR;

    static double[] doubles(pxprune.core.Tensor t) { return t.toDoubleArray(); }

    static double[] mask(Masks m, String name) {
        float[] f = m.values(name);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    Layer linear(String name, Linear l, Masks masks, boolean relu) {
        Layer y = new Layer(name, l.in, l.out);
        for (int o = 0; o < l.out; o++) for (int i = 0; i < l.in; i++) y.edges.add(new int[] {o, i, o * l.in + i});
        y.theta = doubles(l.weight());
        y.mask = mask(masks, name);
        y.relu = relu;
        layers.add(y);
        return y;
    }

    Layer conv(String name, Conv2d c, int h, int w, Masks masks, boolean relu) {
        int oh = (h + 2 * c.padding - c.kernel) / c.stride + 1, ow = (w + 2 * c.padding - c.kernel) / c.stride + 1;
        Layer y = new Layer(name, c.in * h * w, c.out * oh * ow);
        for (int k = 0; k < c.out; k++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int ch = 0; ch < c.in; ch++)
                        for (int dy = 0; dy < c.kernel; dy++)
                            for (int dx = 0; dx < c.kernel; dx++) {
                                int iy = oy * c.stride - c.padding + dy, ix = ox * c.stride - c.padding + dx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                y.edges.add(new int[] {(k * oh + oy) * ow + ox, (ch * h + iy) * w + ix,
                                        ((k * c.in + ch) * c.kernel + dy) * c.kernel + dx});
                            }
        y.theta = doubles(c.weight());
        y.mask = mask(masks, name);
        y.relu = relu;
        layers.add(y);
        return y;
    }

    /** batch norm (eval) after a conv layer's output units, channel = unit / (units per channel) */
    static void batchNorm(Layer y, BatchNorm bn) {
        double[] g = doubles(bn.weight()), b = doubles(bn.bias()), mu = doubles(bn.runningMean()), var = doubles(bn.runningVar());
        int per = y.nOut / bn.channels;
        y.scale = new double[y.nOut];
        y.shift = new double[y.nOut];
        for (int u = 0; u < y.nOut; u++) {
            int c = u / per;
            y.scale[u] = g[c] / Math.sqrt(var[c] + bn.eps);
            y.shift[u] = b[c] - mu[c] * y.scale[u];
        }
    }

    private void index() {
        for (Layer y : layers) {
            if (y.byIn != null) continue;
            y.byIn = new ArrayList<>();
            for (int i = 0; i < y.nIn; i++) y.byIn.add(new ArrayList<>());
            for (int[] e : y.edges) y.byIn.get(e[1]).add(e);
        }
    }

    /** gates[l][unit] = 1[z > 0] after layer l (for ReLU layers), from the network at theta*m; also the smallest non-zero |z| */
    double[][] gates(double[] x, double[] minAbsZ) {
        double[][] g = new double[layers.size()][];
        double[] h = x;
        for (int l = 0; l < layers.size(); l++) {
            Layer y = layers.get(l);
            double[] z = new double[y.nOut];
            for (int[] e : y.edges) z[e[0]] += y.theta[e[2]] * y.mask[e[2]] * h[e[1]];
            if (y.scale != null) for (int u = 0; u < z.length; u++) z[u] = z[u] * y.scale[u] + y.shift[u];
            if (y.relu) {
                g[l] = new double[y.nOut];
                for (int u = 0; u < z.length; u++) {
                    g[l][u] = z[u] > 0 ? 1 : 0;
                    if (z[u] != 0) minAbsZ[0] = Math.min(minAbsZ[0], Math.abs(z[u])); // exact zeros: all in-weights pruned
                    z[u] = Math.max(0, z[u]);
                }
            }
            h = z;
        }
        return g;
    }

    /** every path as its edges, one per layer */
    List<int[][]> paths() {
        index();
        List<int[][]> out = new ArrayList<>();
        int[][] cur = new int[layers.size()][];
        for (int i = 0; i < layers.get(0).nIn; i++) walk(0, i, cur, out);
        return out;
    }

    private void walk(int l, int unit, int[][] cur, List<int[][]> out) {
        if (l == layers.size()) { out.add(cur.clone()); return; }
        for (int[] e : layers.get(l).byIn.get(unit)) {
            cur[l] = e;
            walk(l + 1, e[0], cur, out);
        }
    }

    /** PX scores per layer (by name), with xs the data (flattened samples) or null for the data-free ablation */
    Map<String, double[]> pxScores(double[][] xs, double[] minAbsZ) {
        List<int[][]> paths = paths();
        int last = layers.size() - 1, k = layers.get(last).nOut;
        double[] w = new double[k];
        double[][] samples = xs == null ? new double[][] {ones(layers.get(0).nIn)} : xs;
        for (double[] x : samples) {
            double[][] g = xs == null ? null : gates(x, minAbsZ);
            for (int[][] p : paths) {
                double a = x[p[0][1]] * x[p[0][1]];
                for (int l = 0; l <= last; l++) {
                    a *= layers.get(l).mask[p[l][2]];
                    if (g != null && layers.get(l).relu) a *= g[l][p[l][0]];
                }
                w[p[last][0]] += a;
            }
        }
        double max = 0;
        for (double v : w) max = Math.max(max, v);
        for (int i = 0; i < k; i++) w[i] /= max;
        Map<String, double[]> scores = new LinkedHashMap<>();
        for (Layer y : layers) scores.put(y.name, new double[y.theta.length]);
        double r = 0;
        for (int[][] p : paths) {
            double v = 1;
            for (int l = 0; l <= last; l++) {
                Layer y = layers.get(l);
                v *= y.theta[p[l][2]] * y.mask[p[l][2]];
                if (y.scale != null) v *= y.scale[p[l][0]];
            }
            double c = w[p[last][0]] * v * v;
            r += c;
            for (int l = 0; l <= last; l++) scores.get(layers.get(l).name)[p[l][2]] += c;
        }
        lastR = r;
        return scores;
    }

    private static double[] ones(int n) {
        double[] o = new double[n];
        java.util.Arrays.fill(o, 1);
        return o;
    }
}
