package pxprune.experiments.ntk;

import java.util.LinkedHashMap;
import java.util.Map;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.Module;
import pxprune.px.Masks;

/** f(x; theta) evaluated in float64 from explicit parameter values, for the NTK tests (the models: px's TinyModels). */
final class TestNets {
    private TestNets() {}

    /** the model's parameters and buffers as float64 host arrays, prunable weights multiplied by the masks (null: dense) */
    static Map<String, double[]> values(Module model, Masks masks) {
        Map<String, double[]> out = new LinkedHashMap<>();
        model.stateDict().forEach((n, t) -> {
            if (t.dtype() == DType.I32) return;
            double[] v = t.toDoubleArray();
            if (masks != null && masks.names().contains(n)) {
                float[] m = masks.values(n);
                for (int i = 0; i < v.length; i++) v[i] *= m[i];
            }
            out.put(n, v);
        });
        return out;
    }

    /** f(x) [N * K] in float64 through the engine, every tensor taken from vals (state-dict names) */
    static double[] forward(Module model, Map<String, double[]> vals, Tensor x) {
        try (MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
            Map<String, Module> mods = model.namedModules();
            Map<Module, String> names = new java.util.IdentityHashMap<>();
            mods.forEach((n, m) -> names.put(m, n.isEmpty() ? "" : n + "."));
            Map<String, int[]> shapes = new LinkedHashMap<>();
            model.stateDict().forEach((n, t) -> shapes.put(n, t.shape()));
            java.util.function.Function<String, Tensor> t = n -> vals.containsKey(n) ? Tensor.of(vals.get(n), shapes.get(n)) : null;
            Interpreter it = new Interpreter() {
                @Override public Tensor conv2d(Conv2d m, Tensor z) {
                    String p = names.get(m);
                    return Ops.conv2d(z, t.apply(p + "weight"), t.apply(p + "bias"), m.stride, m.padding, m.groups);
                }

                @Override public Tensor linear(Linear m, Tensor z) {
                    String p = names.get(m);
                    return Ops.linear(z, t.apply(p + "weight"), t.apply(p + "bias"));
                }

                @Override public Tensor batchNorm(BatchNorm m, Tensor z) {
                    String p = names.get(m);
                    return Ops.batchNormEval(z, t.apply(p + "weight"), t.apply(p + "bias"), t.apply(p + "running_mean"),
                            t.apply(p + "running_var"), m.eps);
                }
            };
            return model.forward(Ops.to(x, DType.F64), it).toDoubleArray();
        }
    }

    /**
     * The explicit Jacobian [N*K][P] by central differences w.r.t. the named parameters (in the
     * operator's order), with the pruned entries of masked weights left as zero columns. f is
     * linear in each single parameter between ReLU kinks, so a large step is exact up to
     * rounding; the two one-sided differences are required to agree (no gate changed).
     */
    static double[][] fdJacobian(Module model, Masks masks, Tensor x, java.util.List<String> params, double h) {
        Map<String, double[]> base = values(model, masks);
        int cols = 0;
        for (String p : params) cols += base.get(p).length;
        double[] f0 = forward(model, base, x);
        double[][] jac = new double[f0.length][cols];
        int c = 0;
        for (String p : params) {
            double[] v = base.get(p);
            float[] m = masks != null && masks.names().contains(p) ? masks.values(p) : null;
            for (int i = 0; i < v.length; i++, c++) {
                if (m != null && m[i] == 0f) continue;
                double old = v[i];
                v[i] = old + h;
                double[] fp = forward(model, base, x);
                v[i] = old - h;
                double[] fm = forward(model, base, x);
                v[i] = old;
                for (int r = 0; r < f0.length; r++) {
                    double fwd = (fp[r] - f0[r]) / h, bwd = (f0[r] - fm[r]) / h;
                    if (Math.abs(fwd - bwd) > 1e-8 * (1 + Math.abs(fwd)))
                        throw new AssertionError("a ReLU gate changed within +-" + h + " of " + p + "[" + i + "]: choose another seed");
                    jac[r][c] = (fp[r] - fm[r]) / (2 * h);
                }
            }
        }
        return jac;
    }

    static double[][] gram(double[][] j) {
        int n = j.length;
        double[][] g = new double[n][n];
        for (int a = 0; a < n; a++)
            for (int b = 0; b <= a; b++) {
                double s = 0;
                for (int c = 0; c < j[a].length; c++) s += j[a][c] * j[b][c];
                g[a][b] = g[b][a] = s;
            }
        return g;
    }

    /** ||a - b||_F / ||b||_F */
    static double relErr(double[][] a, double[][] b) {
        double num = 0, den = 0;
        for (int i = 0; i < b.length; i++)
            for (int j = 0; j < b[i].length; j++) {
                double d = a[i][j] - b[i][j];
                num += d * d;
                den += b[i][j] * b[i][j];
            }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }
}
