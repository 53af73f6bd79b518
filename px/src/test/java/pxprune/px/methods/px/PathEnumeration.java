package pxprune.px.methods.px;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Linear;
import pxprune.nn.Resample;
import pxprune.px.Masks;

/**
 * PX by brute force, for tests: a bias-free network written out as a chain of stages of units
 * and edges, every input-output path listed, and the quantities of docs/px-method.md sections 3
 * and 9 summed path by path. An edge carries a prunable weight (theta*m), a fixed coefficient c
 * (a resampling, an identity) or is a max-pool edge; a stage is a weighted sum over its edges
 * (then optional batch norm (eval) and ReLU per output unit) or a max pool (each output is the
 * largest of its window's inputs, the first one on ties, as the kernel scans the window row by
 * row). Concatenated branches are one stage holding both branches' edges side by side
 * ({@link #concat}), a branch that skips a stage passes it on identity edges.
 * <ul>
 * <li>z1_k(x) = sum over the paths p ending at k of a_p(x) x_s(p)^2, where a_p is the product of
 *     the masks on p, of the ReLU gates of the units p crosses, and of 1[p enters each max pool's
 *     output through the gate pass's argmax]; a fixed coefficient contributes its support (1: only
 *     edges with c &gt; 0 exist). The data-free ablation: one all-ones x, every gate 1, every
 *     max-pool edge 1.</li>
 * <li>z2_k = sum_p v_p^2, v_p the product of theta*m, of the coefficients c and of the batch-norm
 *     eval scales along p (a max-pool edge contributes 1).</li>
 * <li>w_k = sum_x z1_k(x) / max, R = sum_p w_k(p) v_p^2, and the score of weight j = the sum over
 *     the paths through j of w_k(p) v_p^2.</li>
 * </ul>
 * Output units are the last stage's units in the layout of one flattened sample ([K] or [K, H, W]).
 */
public final class PathEnumeration {
    /** a prunable weight tensor (theta, mask flattened as the module holds them) */
    public static final class Param {
        final String name;
        final double[] theta, mask;

        Param(String name, double[] theta, double[] mask) { this.name = name; this.theta = theta; this.mask = mask; }
    }

    /** out unit, in unit; param (with its flat index) or, when param is null, the fixed coefficient coef */
    public record Edge(int out, int in, Param param, int index, double coef) {}

    /** one stage: a weighted sum (optional BN and ReLU after it, per output unit) or a max pool */
    public static final class Layer {
        final String name;
        final int nIn, nOut;
        final boolean maxPool;
        final List<Edge> edges = new ArrayList<>();
        double[] scale, shift; // per out unit, null without BN
        boolean[] relu;        // per out unit, null without ReLU
        List<List<Edge>> byIn;

        Layer(String name, int nIn, int nOut, boolean maxPool) {
            this.name = name; this.nIn = nIn; this.nOut = nOut; this.maxPool = maxPool;
        }

        Layer relu(boolean on) {
            if (on) { relu = new boolean[nOut]; Arrays.fill(relu, true); } else relu = null;
            return this;
        }
    }

    final List<Layer> layers = new ArrayList<>();
    final Map<String, Param> params = new LinkedHashMap<>();
    public double lastR;
    /**
     * what a fixed coefficient c contributes to a path's activation (docs/px-method.md#pooling-resampling-sums: its support, 1) and
     * to v_p^2 (the same section: c^2); a test may set other rules to compare with
     */
    DoubleUnaryOperator coefA = c -> 1, coefP = c -> c * c;

    public static double[] doubles(pxprune.core.Tensor t) { return t.toDoubleArray(); }

    public static double[] mask(Masks m, String name) {
        float[] f = m.values(name);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private Param param(String name, pxprune.core.Tensor weight, Masks masks) {
        if (params.containsKey(name)) throw new IllegalArgumentException("weight " + name + " listed twice");
        Param p = new Param(name, doubles(weight), mask(masks, name));
        params.put(name, p);
        return p;
    }

    /** appends a stage to the chain */
    Layer add(Layer y) {
        if (!layers.isEmpty() && layers.get(layers.size() - 1).nOut != y.nIn)
            throw new IllegalArgumentException("stage " + y.name + " takes " + y.nIn + " units, the previous stage gives "
                    + layers.get(layers.size() - 1).nOut);
        layers.add(y);
        return y;
    }

    public Layer linear(String name, Linear l, Masks masks, boolean relu) { return add(linearStage(name, l, masks).relu(relu)); }

    Layer linearStage(String name, Linear l, Masks masks) {
        Param p = param(name, l.weight(), masks);
        Layer y = new Layer(name, l.in, l.out, false);
        for (int o = 0; o < l.out; o++) for (int i = 0; i < l.in; i++) y.edges.add(new Edge(o, i, p, o * l.in + i, 0));
        return y;
    }

    Layer conv(String name, Conv2d c, int h, int w, Masks masks, boolean relu) { return add(convStage(name, c, h, w, masks).relu(relu)); }

    /** a convolution on [c.in, h, w] (groups 1): its output is [c.out, oh, ow] */
    Layer convStage(String name, Conv2d c, int h, int w, Masks masks) {
        if (c.groups != 1) throw new IllegalArgumentException("PathEnumeration: grouped convolutions are not written out");
        int span = c.dilation * (c.kernel - 1) + 1;
        int oh = (h + 2 * c.padding - span) / c.stride + 1, ow = (w + 2 * c.padding - span) / c.stride + 1;
        Param p = param(name, c.weight(), masks);
        Layer y = new Layer(name, c.in * h * w, c.out * oh * ow, false);
        for (int k = 0; k < c.out; k++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int ch = 0; ch < c.in; ch++)
                        for (int dy = 0; dy < c.kernel; dy++)
                            for (int dx = 0; dx < c.kernel; dx++) {
                                int iy = oy * c.stride - c.padding + dy * c.dilation, ix = ox * c.stride - c.padding + dx * c.dilation;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                y.edges.add(new Edge((k * oh + oy) * ow + ox, (ch * h + iy) * w + ix, p,
                                        ((k * c.in + ch) * c.kernel + dy) * c.kernel + dx, 0));
                            }
        return y;
    }

    /** max pooling of [c, h, w], square window (padded positions are no inputs, they never win); edges in the kernel's scan order */
    Layer maxPool(int c, int h, int w, int kernel, int stride, int padding) {
        int oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1;
        Layer y = new Layer("maxpool" + layers.size(), c * h * w, c * oh * ow, true);
        for (int ch = 0; ch < c; ch++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int dy = 0; dy < kernel; dy++)
                        for (int dx = 0; dx < kernel; dx++) {
                            int iy = oy * stride - padding + dy, ix = ox * stride - padding + dx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            y.edges.add(new Edge((ch * oh + oy) * ow + ox, (ch * h + iy) * w + ix, null, -1, 1));
                        }
        return add(y);
    }

    /** a fixed resampling of [c, h, w] to [c, r.oh(), r.ow()]: an edge of coefficient mh[oy][iy] * mw[ox][ix] where both are positive */
    Layer resample(int c, int h, int w, Resample r) {
        double[] mh = r.rowMatrix(h), mw = r.colMatrix(w);
        int oh = r.oh(), ow = r.ow();
        Layer y = new Layer("resample" + layers.size(), c * h * w, c * oh * ow, false);
        for (int ch = 0; ch < c; ch++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int iy = 0; iy < h; iy++)
                        for (int ix = 0; ix < w; ix++) {
                            double a = mh[oy * h + iy], b = mw[ox * w + ix], k = a * b;
                            if (k < 0) throw new IllegalArgumentException("negative resampling coefficient " + k);
                            // a coefficient of at most 1e-9 is a rounding residue of an exact 0 (docs/px-method.md#pooling-resampling-sums)
                            if (a > 1e-9 && b > 1e-9) y.edges.add(new Edge((ch * oh + oy) * ow + ox, (ch * h + iy) * w + ix, null, -1, k));
                        }
        return add(y);
    }

    /** n units passed on unchanged (a branch that skips a stage) */
    public static Layer identity(int n) {
        Layer y = new Layer("identity", n, n, false);
        for (int u = 0; u < n; u++) y.edges.add(new Edge(u, u, null, -1, 1));
        return y;
    }

    /**
     * two branches side by side, outputs concatenated (a's units first: channel concatenation of
     * [C, H, W] samples); sharedInput: both read the same units (a fork), else a's inputs then b's
     */
    public static Layer concat(Layer a, Layer b, boolean sharedInput) {
        if (a.maxPool || b.maxPool) throw new IllegalArgumentException("concat: max-pool stages are not combined");
        if (sharedInput && a.nIn != b.nIn) throw new IllegalArgumentException("concat: a fork needs equal inputs");
        int inOff = sharedInput ? 0 : a.nIn;
        Layer y = new Layer(a.name + "|" + b.name, sharedInput ? a.nIn : a.nIn + b.nIn, a.nOut + b.nOut, false);
        y.edges.addAll(a.edges);
        for (Edge e : b.edges) y.edges.add(new Edge(e.out() + a.nOut, e.in() + inOff, e.param(), e.index(), e.coef()));
        if (a.scale != null || b.scale != null) {
            y.scale = new double[y.nOut];
            y.shift = new double[y.nOut];
            Arrays.fill(y.scale, 1);
            if (a.scale != null) { System.arraycopy(a.scale, 0, y.scale, 0, a.nOut); System.arraycopy(a.shift, 0, y.shift, 0, a.nOut); }
            if (b.scale != null) { System.arraycopy(b.scale, 0, y.scale, a.nOut, b.nOut); System.arraycopy(b.shift, 0, y.shift, a.nOut, b.nOut); }
        }
        if (a.relu != null || b.relu != null) {
            y.relu = new boolean[y.nOut];
            if (a.relu != null) System.arraycopy(a.relu, 0, y.relu, 0, a.nOut);
            if (b.relu != null) System.arraycopy(b.relu, 0, y.relu, a.nOut, b.nOut);
        }
        return y;
    }

    /** batch norm (eval) after a conv layer's output units, channel = unit / (units per channel) */
    public static void batchNorm(Layer y, BatchNorm bn) {
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
            for (Edge e : y.edges) y.byIn.get(e.in()).add(e);
        }
    }

    private static double value(Edge e) { return e.param() == null ? e.coef() : e.param().theta[e.index()] * e.param().mask[e.index()]; }

    /**
     * The network at theta*m on x (biases 0 as the models here have none; batch norm with its
     * shift): per stage, the ReLU gates 1[z &gt; 0] of its units (null where it has no ReLU) and,
     * for a max-pool stage, the argmax input unit of each output unit. minAbsZ[0] is lowered to the
     * smallest non-zero |z| before a ReLU and to the smallest gap between a window's largest and
     * second-largest value (windows of exact zeros, closed gates, excepted): below float32
     * rounding the model's own gate pass could decide differently.
     */
    public int[][] gates(double[] x, double[][] g, double[] minAbsZ) {
        int[][] argmax = new int[layers.size()][];
        double[] h = x;
        for (int l = 0; l < layers.size(); l++) {
            Layer y = layers.get(l);
            double[] z = new double[y.nOut];
            if (y.maxPool) {
                argmax[l] = new int[y.nOut];
                double[] second = new double[y.nOut];
                Arrays.fill(z, Double.NEGATIVE_INFINITY);
                Arrays.fill(second, Double.NEGATIVE_INFINITY);
                Arrays.fill(argmax[l], -1);
                for (Edge e : y.edges) {
                    double v = h[e.in()];
                    int o = e.out();
                    if (v > z[o] || argmax[l][o] < 0) { second[o] = z[o]; z[o] = v; argmax[l][o] = e.in(); }
                    else second[o] = Math.max(second[o], v);
                }
                for (int o = 0; o < y.nOut; o++)
                    if (second[o] != Double.NEGATIVE_INFINITY && !(z[o] == 0 && second[o] == 0))
                        minAbsZ[0] = Math.min(minAbsZ[0], z[o] - second[o]);
            } else {
                for (Edge e : y.edges) z[e.out()] += value(e) * h[e.in()];
                if (y.scale != null) for (int u = 0; u < z.length; u++) z[u] = z[u] * y.scale[u] + y.shift[u];
            }
            if (y.relu != null) {
                g[l] = new double[y.nOut];
                for (int u = 0; u < z.length; u++) {
                    if (!y.relu[u]) { g[l][u] = 1; continue; }
                    g[l][u] = z[u] > 0 ? 1 : 0;
                    if (z[u] != 0) minAbsZ[0] = Math.min(minAbsZ[0], Math.abs(z[u])); // exact zeros: all in-weights pruned
                    z[u] = Math.max(0, z[u]);
                }
            }
            h = z;
        }
        return argmax;
    }

    /** the ReLU gates per stage (null where it has none), from {@link #gates(double[], double[][], double[])} */
    public double[][] gates(double[] x, double[] minAbsZ) {
        double[][] g = new double[layers.size()][];
        gates(x, g, minAbsZ);
        return g;
    }

    /** every path as its edges, one per stage */
    List<Edge[]> paths() {
        index();
        List<Edge[]> out = new ArrayList<>();
        Edge[] cur = new Edge[layers.size()];
        for (int i = 0; i < layers.get(0).nIn; i++) walk(0, i, cur, out);
        return out;
    }

    private void walk(int l, int unit, Edge[] cur, List<Edge[]> out) {
        if (l == layers.size()) { out.add(cur.clone()); return; }
        for (Edge e : layers.get(l).byIn.get(unit)) {
            cur[l] = e;
            walk(l + 1, e.out(), cur, out);
        }
    }

    /** the number of output units (of one sample) */
    int outputs() { return layers.get(layers.size() - 1).nOut; }

    /** sum over the samples of z1_k, not normalised (xs null: the data-free ablation) */
    double[] activationSums(double[][] xs, double[] minAbsZ) {
        List<Edge[]> paths = paths();
        int last = layers.size() - 1;
        double[] w = new double[outputs()];
        double[][] samples = xs == null ? new double[][] {ones(layers.get(0).nIn)} : xs;
        for (double[] x : samples) {
            double[][] g = new double[layers.size()][];
            int[][] argmax = xs == null ? null : gates(x, g, minAbsZ);
            for (Edge[] p : paths) {
                double a = x[p[0].in()] * x[p[0].in()];
                for (int l = 0; l <= last && a != 0; l++) {
                    Edge e = p[l];
                    if (e.param() != null) a *= e.param().mask[e.index()];
                    else if (!layers.get(l).maxPool) a *= coefA.applyAsDouble(e.coef());
                    if (argmax != null && layers.get(l).maxPool && argmax[l][e.out()] != e.in()) a = 0;
                    if (xs != null && g[l] != null) a *= g[l][e.out()];
                }
                w[p[last].out()] += a;
            }
        }
        return w;
    }

    /** z2_k = sum over the paths ending at k of v_p^2 */
    double[] pathKernel() {
        double[] z2 = new double[outputs()];
        for (Edge[] p : paths()) z2[p[p.length - 1].out()] += squaredPathValue(p);
        return z2;
    }

    /** v_p^2: (theta*m)^2, coefP(c) and the batch-norm scale squared along p (a max-pool edge: 1) */
    private double squaredPathValue(Edge[] p) {
        double v2 = 1;
        for (int l = 0; l < p.length; l++) {
            Layer y = layers.get(l);
            Edge e = p[l];
            if (e.param() != null) {
                double t = value(e);
                v2 *= t * t;
            } else if (!y.maxPool) v2 *= coefP.applyAsDouble(e.coef());
            if (y.scale != null) v2 *= y.scale[e.out()] * y.scale[e.out()];
        }
        return v2;
    }

    /** PX scores per prunable weight tensor (by name), with xs the data (flattened samples) or null for the data-free ablation */
    public Map<String, double[]> pxScores(double[][] xs, double[] minAbsZ) {
        double[] w = activationSums(xs, minAbsZ);
        double max = 0;
        for (double v : w) max = Math.max(max, v);
        for (int i = 0; i < w.length; i++) w[i] /= max;
        Map<String, double[]> scores = new LinkedHashMap<>();
        for (Param p : params.values()) scores.put(p.name, new double[p.theta.length]);
        double r = 0;
        for (Edge[] p : paths()) {
            double c = w[p[p.length - 1].out()] * squaredPathValue(p);
            r += c;
            for (Edge e : p) if (e.param() != null) scores.get(e.param().name)[e.index()] += c;
        }
        lastR = r;
        return scores;
    }

    private static double[] ones(int n) {
        double[] o = new double[n];
        Arrays.fill(o, 1);
        return o;
    }
}
