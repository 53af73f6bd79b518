package pxprune.experiments.explain;

import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.nn.Module;
import pxprune.px.Connectivity;
import pxprune.px.Masks;
import pxprune.px.PrunableLayer;
import pxprune.px.methods.px.PxScorer;
import pxprune.px.ScoringData;

/**
 * {@code pxprune explain}: runs the real {@link PxScorer} with a {@link Recorder} and prints every
 * pass's inputs and outputs in the notation of docs/walkthrough.md. On the tiny network every
 * number, then the check by path enumeration ({@link Paths}) and the conservation check; on a
 * registry model per-layer summaries (dtype, shape, sum, min, max) and the conservation check on
 * the layers that are cuts.
 */
public final class Explain {
    /** what a run found: the recorded passes, the scores, R, and the two checks' largest relative errors */
    public record Result(Recorder record, Map<String, double[]> scores, double r, double pathError, double conservationError,
                         int cuts) {}

    /** a relative error this small is reported as such (the exact value depends on summation order) */
    static final double ROUNDING = 1e-15;

    private Explain() {}

    // ------------------------------------------------------------------ the tiny network

    /** PX on {@link TinyNet}, every number printed */
    public static Result tiny(PrintStream out) {
        try (MemoryScope s = MemoryScope.open(); TinyNet net = new TinyNet()) {
            Masks masks = net.masks();
            Recorder rec = new Recorder(net);
            ScoringData data = new ScoringData(TinyNet.inputs(), new int[] {0, 1}, 2, 0).withTrace(rec);
            Map<String, double[]> scores = host(new PxScorer().score(net, masks, data));
            List<PrunableLayer> layers = PrunableLayer.of(net);
            double r = rec.pass("P forward").get("R").v()[0];

            out.println("pxprune explain: PX (docs/px-method.md#score) on the tiny network of docs/walkthrough.md");
            out.println("  fc0: 3 -> 4, ReLU, fc1: 4 -> 4, ReLU, fc2: 4 -> 2; no biases; 2 samples x1, x2; 2 weights pruned (m = 0)");
            out.println("  every number is what PxScorer computed (recorded through a Trace); float64 unless marked F32");
            out.println();
            out.println("network: theta (rows: output units, columns: input units) and the mask m");
            for (PrunableLayer l : layers)
                matrixPair(out, "  " + l.name() + " theta " + Arrays.toString(l.shape()), l.weight().toDoubleArray(),
                        "m", toDoubles(masks.values(l.name())), l.shape());
            Recorder.Pass gates = rec.pass("gates");
            out.println("input x " + Arrays.toString(gates.get("x").shape()) + " (F32)");
            rows(out, "  ", "", gates.get("x"));
            out.println();

            out.println("1. gate pass: f(x; theta*m), eval mode, F32; z after each layer, g = 1[z > 0] at each ReLU");
            List<Recorder.Values> g = gates.group("gate");
            int relu = 0;
            for (Recorder.Values v : gates.layers()) {
                if (v.name().startsWith("relu")) rows(out, "  ", v.name() + "  g", g.get(relu++));
                else rows(out, "  ", v.name() + "  z", v);
            }
            out.println();

            out.println("2. activation network A: weights m, biases 0, ReLU := times its g, input x*x; no gradient");
            Recorder.Pass a = rec.pass("A");
            rows(out, "  ", "input x*x", a.get("x*x"));
            for (Recorder.Values v : a.layers())
                rows(out, "  ", v.name() + (v.name().startsWith("relu") ? "  * g" : "  m" + v.name().substring(2) + " h"), v);
            rows(out, "  ", "z1", a.get("z1"));
            out.println();

            out.println("3. w: the sum over the samples of z1, divided by its maximum");
            Recorder.Pass w = rec.pass("w");
            rows(out, "  ", "sum of z1", w.get("sum of z1"));
            rows(out, "  ", "w", w.get("w"));
            out.println();

            out.println("4. path-kernel network P, forward: weights p = (theta*m)^2, biases 0, ReLU := identity, input ones");
            Recorder.Pass p = rec.pass("P forward");
            for (Recorder.Values v : p.group("p")) matrix(out, "  " + member(v) + " p", v);
            rows(out, "  ", "input ones", p.get("ones"));
            for (Recorder.Values v : p.layers())
                rows(out, "  ", v.name() + (v.name().startsWith("relu") ? "  (identity)" : "  p" + v.name().substring(2) + " h"), v);
            rows(out, "  ", "z2", p.get("z2"));
            out.println("  R = sum_k w_k z2_k = " + num(r));
            out.println();

            out.println("5. P backward (autograd through P): dR/dp per layer");
            for (Recorder.Values v : rec.pass("P backward").group("dR/dp")) matrix(out, "  " + member(v) + " dR/dp", v);
            out.println();

            out.println("6. score = p * dR/dp (= theta^2 dR/d(theta^2)), and each layer's sum");
            for (Recorder.Values v : rec.pass("score").group("score"))
                matrix(out, "  " + member(v) + " score, sum " + num(v.sum()), v);
            out.println();

            Paths paths = new Paths(thetas(layers), masks3(layers, masks), rows2(gates.get("x")));
            double pathErr = pathCheck(out, paths, a.get("z1"), p.get("z2"), r, scores, layers);
            out.println();
            double[] cons = new double[2];
            double consErr = conservation(out, net, masks, layers, scores, r, data.sampleShape(), cons);
            return new Result(rec, scores, r, pathErr, consErr, (int) cons[1]);
        }
    }

    private static double pathCheck(PrintStream out, Paths paths, Recorder.Values z1, Recorder.Values z2, double r,
                                    Map<String, double[]> scores, List<PrunableLayer> layers) {
        int L = paths.theta.length;
        StringBuilder dims = new StringBuilder().append(paths.theta[0][0].length);
        for (double[][] t : paths.theta) dims.append(" x ").append(t.length);
        out.println("7. check by path enumeration (docs/px-method.md#idea), sharing no code with PxScorer");
        out.println("  paths from an input to an output: " + dims + " = " + paths.all + "; kept (every weight on it kept): "
                + paths.kept.size());
        out.println("  a path is its units s-u1-u2-k; v_p = product of theta*m along it; a_p(x) = 1 when every unit it crosses is open");
        List<String[]> table = new ArrayList<>();
        table.add(new String[] {"path", "v_p", "v_p^2", "a_p(x1) x1_s^2", "a_p(x2) x2_s^2", "w_k v_p^2"});
        for (Paths.Path q : paths.kept) {
            StringBuilder id = new StringBuilder();
            for (int i = 0; i <= L; i++) id.append(i == 0 ? "" : "-").append(q.units()[i]);
            table.add(new String[] {id.toString(), num(q.value()), num(q.value() * q.value()), num(q.activation()[0]),
                    num(q.activation()[1]), num(paths.w[q.units()[L]] * q.value() * q.value())});
        }
        table(out, "    ", table);
        for (int n = 0; n < paths.x.length; n++) {
            int active = 0;
            for (Paths.Path q : paths.kept) if (q.activation()[n] != 0) active++;
            out.println("  active for x" + (n + 1) + " (a_p = 1 and x_s != 0): " + active + " of the " + paths.kept.size() + " kept paths");
        }
        double ez1 = 0, ez2 = 0, es = 0;
        for (int n = 0; n < paths.z1.length; n++) ez1 = Math.max(ez1, relErr(row(z1, n), paths.z1[n]));
        ez2 = relErr(z2.v(), paths.z2);
        double er = Math.abs(r - paths.r) / Math.abs(paths.r);
        for (int l = 0; l < layers.size(); l++) es = Math.max(es, relErr(scores.get(layers.get(l).name()), flat(paths.scores[l])));
        for (int n = 0; n < paths.z1.length; n++)
            out.println("  z1(x" + (n + 1) + ") = sum of a_p(x) x_s^2 per output:  " + join(paths.z1[n]) + "   A gave  "
                    + join(row(z1, n)));
        out.println("  z2 = sum of v_p^2 per output:  " + join(paths.z2) + "   P gave  " + join(z2.v()));
        out.println("  R = sum of w_k v_p^2:  " + num(paths.r) + "   P gave  " + num(r));
        out.println("  score of a weight = sum of w_k v_p^2 over the paths through it (the tables of step 6)");
        double max = Math.max(Math.max(ez1, ez2), Math.max(er, es));
        out.println("  max relative error: z1 " + err(ez1) + ", z2 " + err(ez2) + ", R " + err(er) + ", scores " + err(es)
                + (max <= 1e-12 ? "  (agree)" : "  (DISAGREE)"));
        return max;
    }

    // ------------------------------------------------------------------ any registry model

    /** PX on a registry model: per-pass, per-layer summaries and the conservation check */
    public static Result model(PrintStream out, Module model, String label, Masks masks, ScoringData data) {
        try (MemoryScope s = MemoryScope.open()) {
            Recorder rec = new Recorder(model);
            ScoringData traced = data.withTrace(rec);
            Map<String, double[]> scores = host(new PxScorer().score(model, masks, traced));
            List<PrunableLayer> layers = PrunableLayer.of(model);
            double r = rec.pass("P forward").get("R").v()[0];
            out.println("pxprune explain: PX (docs/px-method.md#score) on " + label);
            out.printf(Locale.ROOT, "  %d samples of shape %s, %d prunable layers, density %.6f; summaries per tensor: dtype [shape] sum min max%n",
                    data.size(), Arrays.toString(Arrays.copyOfRange(data.x().shape(), 1, data.x().dim())), layers.size(), masks.density());
            String[] titles = {
                    "gates", "1. gate pass: f(x; theta*m), eval mode, the model's precision; g = 1[z > 0] at each ReLU, the argmax at each max pool",
                    "A", "2. activation network A: weights m, biases 0, batch norm := identity, ReLU := times its g, max pool := at its argmax, input x*x",
                    "w", "3. w: the sum over the samples of z1, divided by its maximum",
                    "P forward", "4. path-kernel network P, forward: p = (theta*m)^2, batch norm := (eval scale)^2, ReLU := identity, max pool := window sum, input ones",
                    "P backward", "5. P backward: dR/dp per layer",
                    "score", "6. score = p * dR/dp"};
            for (int i = 0; i < titles.length; i += 2) {
                for (Recorder.Pass p : rec.passes()) {
                    if (!p.name().equals(titles[i])) continue;
                    out.printf(Locale.ROOT, "%s  (%.1f ms)%n", titles[i + 1], p.nanos() / 1e6);
                    List<Recorder.Values> ins = new ArrayList<>(), groups = new ArrayList<>();
                    for (Recorder.Values v : p.tensors()) (v.name().contains(":") ? groups : ins).add(v);
                    for (Recorder.Values v : ins) summary(out, "  ", v.name(), v);
                    for (Recorder.Values v : p.layers()) summary(out, "  ", "layer " + v.name(), v);
                    for (Recorder.Values v : groups) summary(out, "  ", v.name(), v);
                }
            }
            out.println("  R = sum_k w_k z2_k = " + num(r));
            out.println();
            double[] err = new double[2];
            err[0] = conservation(out, model, masks, layers, scores, r, data.sampleShape(), err);
            return new Result(rec, scores, r, Double.NaN, err[0], (int) err[1]);
        }
    }

    // ------------------------------------------------------------------ conservation

    /**
     * Each layer's score sum against R. A layer that every kept path crosses (a cut: with its mask
     * set to 0 no output is reachable, {@link Connectivity}) carries all of R; the others carry
     * the part of R on the paths through them. Returns the largest relative error over the cuts (also in found[0], and their count in found[1]).
     * Pairs of layers that together are a cut and neither alone (a ResNet block's branch and its
     * shortcut convolution) are checked too.
     */
    static double conservation(PrintStream out, Module model, Masks masks, List<PrunableLayer> layers, Map<String, double[]> scores,
                               double r, int[] sampleShape, double[] found) {
        out.println("8. conservation: a layer that every kept path crosses (a cut) has scores summing to R = " + num(r));
        List<String[]> t = new ArrayList<>();
        t.add(new String[] {"layer", "sum of scores", "sum / R", "cut", "(sum - R) / R"});
        double max = 0;
        int cuts = 0;
        for (PrunableLayer l : layers) {
            double sum = sum(scores.get(l.name()));
            boolean cut = isCut(model, masks, l, sampleShape);
            double e = Math.abs(sum - r) / Math.abs(r);
            if (cut) { max = Math.max(max, e); cuts++; }
            t.add(new String[] {l.name(), num(sum), String.format(Locale.ROOT, "%.6f", sum / r), cut ? "yes" : "no", cut ? err(e) : "-"});
        }
        table(out, "  ", t);
        // pairs of layers that together are a cut (e.g. a ResNet block's residual branch and its shortcut convolution)
        for (int i = 0; i < layers.size(); i++)
            for (int j = i + 1; j < layers.size(); j++) {
                double si = sum(scores.get(layers.get(i).name())), sj = sum(scores.get(layers.get(j).name()));
                if (Math.abs(si + sj - r) > 1e-9 * Math.abs(r) || isCut(model, masks, layers.get(i), sampleShape)
                        || isCut(model, masks, layers.get(j), sampleShape) || !isCut(model, masks, List.of(layers.get(i), layers.get(j)), sampleShape))
                    continue;
                double e = Math.abs(si + sj - r) / Math.abs(r);
                max = Math.max(max, e);
                cuts++;
                out.println("  cut pair " + layers.get(i).name() + " + " + layers.get(j).name() + ": " + num(si) + " + " + num(sj)
                        + " = R, relative error " + err(e));
            }
        out.println("  " + cuts + " cuts checked; max relative error over them: " + err(max)
                + (max <= 1e-10 ? "  (conserved)" : "  (NOT CONSERVED)"));
        found[0] = max;
        found[1] = cuts;
        return max;
    }

    private static double sum(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s;
    }

    static boolean isCut(Module model, Masks masks, PrunableLayer layer, int[] sampleShape) {
        return isCut(model, masks, List.of(layer), sampleShape);
    }

    /** every kept path crosses one of the layers: with their masks set to 0 no output is reachable */
    static boolean isCut(Module model, Masks masks, List<PrunableLayer> cut, int[] sampleShape) {
        Map<String, float[]> v = new LinkedHashMap<>();
        Map<String, int[]> s = new LinkedHashMap<>();
        for (String n : masks.names()) {
            float[] m = masks.values(n);
            if (cut.stream().anyMatch(l -> l.name().equals(n))) Arrays.fill(m, 0f);
            v.put(n, m);
            s.put(n, masks.shape(n));
        }
        return Connectivity.reachableOutputs(model, Masks.of(v, s), sampleShape)[0] == 0;
    }

    // ------------------------------------------------------------------ formatting

    /** a number as a student reads it: at most 7 significant digits, no exponent between 1e-4 and 1e7 */
    static String num(double v) {
        if (v == 0) return "0";
        if (!Double.isFinite(v)) return Double.toString(v);
        double a = Math.abs(v);
        if (a >= 1e-4 && a < 1e7) return new BigDecimal(v).round(new MathContext(7)).stripTrailingZeros().toPlainString();
        return String.format(Locale.ROOT, "%.5e", v);
    }

    /** a relative error; below {@link #ROUNDING} the exact value depends on summation order and is not shown */
    static String err(double e) {
        return e <= ROUNDING ? "<= 1e-15" : String.format(Locale.ROOT, "%.1e", e);
    }

    private static void summary(PrintStream out, String indent, String name, Recorder.Values v) {
        out.printf(Locale.ROOT, "%s%-34s %s %-18s sum %-13s min %-13s max %s%n", indent, name, v.dtype(), Arrays.toString(v.shape()),
                num(v.sum()), num(v.min()), num(v.max()));
    }

    /** a [n, units] tensor, one line per sample x1, x2, ... (a [units] vector on one line) */
    private static void rows(PrintStream out, String indent, String label, Recorder.Values v) {
        int n = v.shape().length < 2 ? 1 : v.shape()[0];
        List<String[]> t = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double[] r = row(v, i);
            String[] cells = new String[r.length + 2];
            cells[0] = String.format(Locale.ROOT, "%-16s", i == 0 ? label : "");
            cells[1] = n == 1 ? "" : "x" + (i + 1);
            for (int j = 0; j < r.length; j++) cells[j + 2] = num(r[j]);
            t.add(cells);
        }
        table(out, indent, t);
    }

    private static void matrix(PrintStream out, String title, Recorder.Values v) {
        out.println(title);
        int rows = v.shape()[0], cols = v.v().length / rows;
        List<String[]> t = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            String[] c = new String[cols];
            for (int j = 0; j < cols; j++) c[j] = num(v.v()[i * cols + j]);
            t.add(c);
        }
        table(out, "      ", t);
    }

    private static void matrixPair(PrintStream out, String title, double[] a, String bTitle, double[] b, int[] shape) {
        int rows = shape[0], cols = a.length / rows;
        out.println(title + " and " + bTitle);
        List<String[]> t = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            String[] c = new String[2 * cols + 1];
            for (int j = 0; j < cols; j++) c[j] = num(a[i * cols + j]);
            c[cols] = "  ";
            for (int j = 0; j < cols; j++) c[cols + 1 + j] = num(b[i * cols + j]);
            t.add(c);
        }
        table(out, "      ", t);
    }

    /** columns right-aligned to their widest cell (the first column left-aligned when it is a label) */
    private static void table(PrintStream out, String indent, List<String[]> rows) {
        int cols = 0;
        for (String[] r : rows) cols = Math.max(cols, r.length);
        int[] w = new int[cols];
        for (String[] r : rows) for (int j = 0; j < r.length; j++) w[j] = Math.max(w[j], r[j].length());
        boolean label = rows.stream().anyMatch(r -> r.length > 0 && !r[0].isEmpty() && !Character.isDigit(r[0].charAt(0))
                && r[0].charAt(0) != '-');
        for (String[] r : rows) {
            StringBuilder b = new StringBuilder(indent);
            for (int j = 0; j < r.length; j++) {
                if (j > 0) b.append("  ");
                String c = r[j];
                String pad = " ".repeat(w[j] - c.length());
                b.append(j == 0 && label ? c + pad : pad + c);
            }
            out.println(b.toString().stripTrailing());
        }
    }

    private static String member(Recorder.Values v) { return v.name().substring(v.name().indexOf(':') + 1); }

    private static String join(double[] v) {
        StringBuilder b = new StringBuilder();
        for (double x : v) b.append(b.length() == 0 ? "" : " ").append(num(x));
        return b.toString();
    }

    static double[] row(Recorder.Values v, int i) {
        int n = v.shape().length < 2 ? 1 : v.shape()[0], per = v.v().length / n;
        return Arrays.copyOfRange(v.v(), i * per, (i + 1) * per);
    }

    /** max |a - b| / max |b| */
    static double relErr(double[] a, double[] b) {
        double ref = 0, e = 0;
        for (int i = 0; i < b.length; i++) {
            ref = Math.max(ref, Math.abs(b[i]));
            e = Math.max(e, Math.abs(a[i] - b[i]));
        }
        return ref == 0 ? e : e / ref;
    }

    private static double[] flat(double[][] m) {
        double[] f = new double[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) System.arraycopy(m[i], 0, f, i * m[0].length, m[0].length);
        return f;
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private static double[][] rows2(Recorder.Values v) {
        double[][] out = new double[v.shape()[0]][];
        for (int i = 0; i < out.length; i++) out[i] = row(v, i);
        return out;
    }

    private static double[][][] thetas(List<PrunableLayer> layers) {
        double[][][] t = new double[layers.size()][][];
        for (int l = 0; l < t.length; l++) t[l] = unflat(layers.get(l).weight().toDoubleArray(), layers.get(l).shape());
        return t;
    }

    private static double[][][] masks3(List<PrunableLayer> layers, Masks masks) {
        double[][][] t = new double[layers.size()][][];
        for (int l = 0; l < t.length; l++) t[l] = unflat(toDoubles(masks.values(layers.get(l).name())), layers.get(l).shape());
        return t;
    }

    private static double[][] unflat(double[] v, int[] shape) {
        double[][] m = new double[shape[0]][shape[1]];
        for (int i = 0; i < shape[0]; i++) System.arraycopy(v, i * shape[1], m[i], 0, shape[1]);
        return m;
    }

    private static Map<String, double[]> host(Map<String, Tensor> scores) {
        Map<String, double[]> out = new LinkedHashMap<>();
        scores.forEach((k, t) -> out.put(k, t.toDoubleArray()));
        return out;
    }
}
