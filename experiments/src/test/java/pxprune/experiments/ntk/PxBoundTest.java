package pxprune.experiments.ntk;

import pxprune.px.TinyModels;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.px.Masks;
import pxprune.px.methods.px.PxBound;
import pxprune.px.ScoringData;

/** docs/ntk.md#px-bound: PX's bound on the NTK trace, by explicit path enumeration, and bound >= trace. */
class PxBoundTest {

    /** W_k = sum_x sum_{p -> k} m_p a_p(x) x_s(p)^2 and zeta_k = sum_{p -> k, all kept} sum_{j in p} prod_{i in p, i != j} theta_i^2 */
    static double[][] enumerate(TinyModels.Mlp m, Masks masks, Tensor x) {
        int L = m.fc.length;
        double[][] w = new double[L][], mk = new double[L][];
        int[] in = new int[L], out = new int[L];
        for (int l = 0; l < L; l++) {
            String n = "fc" + l + ".weight";
            w[l] = m.fc[l].weight().toDoubleArray();
            float[] f = masks.values(n);
            mk[l] = new double[f.length];
            for (int i = 0; i < f.length; i++) { mk[l][i] = f[i]; w[l][i] *= f[i]; }
            in[l] = m.fc[l].in;
            out[l] = m.fc[l].out;
        }
        int k = out[L - 1], n = x.size(0), d = in[0];
        double[] xs = x.toDoubleArray();
        double[] bigW = new double[k], zeta = new double[k];
        // gates per sample and hidden layer
        double[][][] gate = new double[n][L][];
        for (int s = 0; s < n; s++) {
            double[] h = Arrays.copyOfRange(xs, s * d, (s + 1) * d);
            for (int l = 0; l < L; l++) {
                double[] z = new double[out[l]];
                for (int o = 0; o < out[l]; o++) for (int i = 0; i < in[l]; i++) z[o] += w[l][o * in[l] + i] * h[i];
                gate[s][l] = new double[out[l]];
                for (int o = 0; o < out[l]; o++) { gate[s][l][o] = z[o] > 0 ? 1 : 0; if (l < L - 1) z[o] = Math.max(0, z[o]); }
                h = z;
            }
        }
        int[] path = new int[L + 1];
        walk(0, path, in, out, (p) -> {
            int end = p[L];
            // W
            for (int s = 0; s < n; s++) {
                double a = xs[s * d + p[0]] * xs[s * d + p[0]];
                for (int l = 0; l < L; l++) {
                    a *= mk[l][p[l + 1] * in[l] + p[l]];
                    if (l < L - 1) a *= gate[s][l][p[l + 1]];
                }
                bigW[end] += a;
            }
            // zeta
            double z = 0;
            for (int j = 0; j < L; j++) {
                if (mk[j][p[j + 1] * in[j] + p[j]] == 0) continue;
                double prod = 1;
                for (int l = 0; l < L; l++) if (l != j) { double t = w[l][p[l + 1] * in[l] + p[l]]; prod *= t * t; }
                z += prod;
            }
            zeta[end] += z;
        });
        return new double[][] {bigW, zeta};
    }

    private static void walk(int l, int[] path, int[] in, int[] out, java.util.function.Consumer<int[]> f) {
        int L = in.length;
        if (l == L + 1) { f.accept(path); return; }
        int units = l == 0 ? in[0] : out[l - 1];
        for (int u = 0; u < units; u++) { path[l] = u; walk(l + 1, path, in, out, f); }
    }

    @Test void boundEqualsEnumerationAndIsAtLeastTheTrace() {
        int nets = 0;
        double minRatio = Double.MAX_VALUE, maxRatio = 0;
        for (int[] sizes : new int[][] {{3, 4, 4, 2}, {4, 3, 5, 3}, {2, 6, 3}, {5, 4, 4, 4, 2}})
            for (long seed = 1; seed <= 4; seed++)
                for (double keep : new double[] {1, 0.6}) {
                    try (MemoryScope s = MemoryScope.open(); var m = new TinyModels.Mlp(seed, false, sizes)) {
                        Tensor x = TinyModels.randomInputs(100 + seed, 5, sizes[0]);
                        Masks masks = keep == 1 ? Masks.ones(m) : TinyModels.randomMasks(m, keep, seed);
                        PxBound.Parts parts = PxBound.parts(m, masks, new ScoringData(x, new int[5], 1, 0));
                        double[][] e = enumerate(m, masks, x);
                        for (int k = 0; k < e[0].length; k++) {
                            assertEquals(e[0][k], parts.activationSums()[k], 1e-12 * Math.max(1, e[0][k]), "W_" + k);
                            assertEquals(e[1][k], parts.zeta()[k], 1e-12 * Math.max(1, e[1][k]), "zeta_" + k);
                        }
                        double trace;
                        try (NtkOperator op = new NtkOperator(m, masks, x, DType.F64, false, 5)) { trace = op.trace(); }
                        double ratio = trace / parts.bound();
                        assertTrue(parts.bound() >= trace * (1 - 1e-12), Arrays.toString(sizes) + " seed " + seed + ": bound "
                                + parts.bound() + " < trace " + trace);
                        minRatio = Math.min(minRatio, ratio);
                        maxRatio = Math.max(maxRatio, ratio);
                        nets++;
                    }
                }
        System.out.printf("PX bound >= NTK trace on %d random bias-free ReLU MLPs; trace / bound in [%.3g, %.3g]%n", nets, minRatio, maxRatio);
    }

    @Test void equalityWithOnePathPerOutput() {
        // a chain of scalars: one path; every (sample, output) meets Cauchy-Schwarz with equality
        for (int[] sizes : new int[][] {{1, 1, 1}, {1, 1, 1, 1}}) {
            try (MemoryScope s = MemoryScope.open(); var m = new TinyModels.Mlp(2, false, sizes)) {
                // make every weight positive, so the path is active on positive inputs
                for (var l : m.fc) TinyModels.set(l.weight(), Math.abs(l.weight().toDoubleArray()[0]) + 0.1);
                Tensor x = Tensor.of(new float[] {0.5f, 1.5f, 2f}, 3, 1);
                Masks masks = Masks.ones(m);
                double b = PxBound.of(m, masks, new ScoringData(x, new int[3], 1, 0));
                double trace;
                try (NtkOperator op = new NtkOperator(m, masks, x, DType.F64, false, 3)) { trace = op.trace(); }
                assertEquals(1.0, trace / b, 1e-14, "one path: bound = trace");
            }
        }
    }

    @Test void theBoundOfComputeIsPxBound() {
        try (MemoryScope s = MemoryScope.open(); var m = new TinyModels.Mlp(3, false, 3, 4, 4, 2)) {
            Tensor x = TinyModels.randomInputs(11, 6, 3);
            Masks masks = TinyModels.randomMasks(m, 0.6, 5);
            NtkResult r = Ntk.compute(m, masks, x, Ntk.Options.defaults().withTop(2));
            assertTrue(r.pxBoundTheorem());
            assertEquals(PxBound.of(m, masks, new ScoringData(x, new int[6], 1, 0)), r.pxBound(), 0);
            assertTrue(r.boundRatio() <= 1 && r.boundRatio() > 0);
        }
    }
}
