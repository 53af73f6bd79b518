package pxprune.px.ntk;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Init;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.Module;
import pxprune.px.Masks;

/** Tiny models for the NTK tests, and f(x; theta) evaluated in float64 from explicit parameter values. */
final class TestNets {
    private TestNets() {}

    /** Linear(sizes[0] -> sizes[1]), ReLU, ..., Linear(-> sizes[last]) */
    static final class Mlp extends Module {
        final Linear[] fc;

        Mlp(long seed, boolean bias, int... sizes) {
            Init init = new Init(seed);
            fc = new Linear[sizes.length - 1];
            for (int i = 0; i < fc.length; i++) fc[i] = registerModule("fc" + i, new Linear(sizes[i], sizes[i + 1], bias, init));
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            for (int i = 0; i < fc.length; i++) {
                x = fc[i].forward(x, it);
                if (i < fc.length - 1) x = it.relu(x);
            }
            return x;
        }
    }

    /** 1x4x4 inputs: conv 1->2 (3x3, pad 1) [bn] ReLU, conv 2->3 (3x3, stride 2, pad 1) [bn] ReLU, flatten, fc 12 -> 2 */
    static final class Cnn extends Module {
        final Conv2d conv1, conv2;
        final BatchNorm bn1, bn2;
        final Linear fc;

        Cnn(long seed, boolean bn, boolean bias) {
            Init init = new Init(seed);
            conv1 = registerModule("conv1", new Conv2d(1, 2, 3, 1, 1, bias, init));
            bn1 = bn ? registerModule("bn1", new BatchNorm(2)) : null;
            conv2 = registerModule("conv2", new Conv2d(2, 3, 3, 2, 1, bias, init));
            bn2 = bn ? registerModule("bn2", new BatchNorm(3)) : null;
            fc = registerModule("fc", new Linear(12, 2, bias, init));
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            Tensor h = conv1.forward(x, it);
            if (bn1 != null) h = bn1.forward(h, it);
            h = it.relu(h);
            h = conv2.forward(h, it);
            if (bn2 != null) h = bn2.forward(h, it);
            h = it.relu(h);
            return fc.forward(Ops.flatten(h, 1), it);
        }
    }

    static void set(Tensor t, double... v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        t.backend().upload(f, t.ptr());
    }

    /** non-trivial gamma, beta, running mean and variance in every batch norm */
    static void perturbBatchNorms(Module model, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (Module m : model.namedModules().values()) {
            if (!(m instanceof BatchNorm bn)) continue;
            int c = bn.channels;
            double[] g = new double[c], b = new double[c], mu = new double[c], var = new double[c];
            for (int i = 0; i < c; i++) {
                g[i] = 0.5 + r.nextDouble();
                b[i] = r.nextDouble() - 0.5;
                mu[i] = 0.3 * (r.nextDouble() - 0.5);
                var[i] = 0.5 + r.nextDouble();
            }
            set(bn.weight(), g);
            set(bn.bias(), b);
            set(bn.runningMean(), mu);
            set(bn.runningVar(), var);
        }
    }

    /** n inputs N(0, 1), float32 */
    static Tensor inputs(long seed, int n, int... sample) {
        SplittableRandom r = new SplittableRandom(seed);
        int per = 1;
        for (int s : sample) per *= s;
        float[] x = new float[n * per];
        for (int i = 0; i < x.length; i++) x[i] = (float) (Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble()));
        int[] shape = new int[sample.length + 1];
        shape[0] = n;
        System.arraycopy(sample, 0, shape, 1, sample.length);
        return Tensor.of(x, shape);
    }

    static Masks randomMasks(Module model, double keep, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Masks ones = Masks.ones(model);
        Map<String, float[]> v = new LinkedHashMap<>();
        Map<String, int[]> s = new LinkedHashMap<>();
        for (String n : ones.names()) {
            float[] m = new float[(int) ones.numel(n)];
            for (int i = 0; i < m.length; i++) m[i] = r.nextDouble() < keep ? 1f : 0f;
            m[0] = 1f;
            v.put(n, m);
            s.put(n, ones.shape(n));
        }
        return Masks.of(v, s);
    }

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
