package pxprune.experiments.ntk;

import pxprune.px.TinyModels;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.Module;
import pxprune.px.Masks;

/** docs/ntk.md against its definitions, in float64: explicit Jacobians by differences, explicit kernels and spectra. */
class NtkTest {
    static final double TOL = 1e-10;

    record Case(String name, Module model, Masks masks, Tensor x, boolean all) {}

    static List<Case> cases() {
        var mlp = new TinyModels.Mlp(3, false, 3, 4, 4, 2);
        var cnn = new TinyModels.Cnn(5, true, true);
        TinyModels.perturbBatchNorms(cnn, 3);
        Tensor xm = TinyModels.randomInputs(11, 6, 3), xc = TinyModels.randomInputs(13, 4, 1, 4, 4);
        return List.of(new Case("mlp dense", mlp, null, xm, false),
                new Case("mlp masked", mlp, TinyModels.randomMasks(mlp, 0.6, 5), xm, false),
                new Case("cnn+bn+bias masked", cnn, TinyModels.randomMasks(cnn, 0.7, 2), xc, false),
                new Case("cnn+bn+bias all parameters", cnn, TinyModels.randomMasks(cnn, 0.7, 2), xc, true));
    }

    static double[][] opRows(NtkOperator op) {
        double[][] r = new double[op.rows()][];
        for (int i = 0; i < r.length; i++) r[i] = op.row(i);
        return r;
    }

    static double relL2(double[] a, double[] b) { return TestNets.relErr(new double[][] {a}, new double[][] {b}); }

    @Test void jacobianKernelAndSpectrumEqualTheDefinitions() {
        try (MemoryScope s = MemoryScope.open()) {
            for (Case c : cases()) {
                try (NtkOperator op = new NtkOperator(c.model(), c.masks(), c.x(), DType.F64, c.all(), 2)) {
                    double[][] jfd = TestNets.fdJacobian(c.model(), c.masks(), c.x(), op.parameterNames(), 1e-3);
                    // (1) per-sample gradients = the explicit Jacobian
                    double[][] rows = opRows(op);
                    double e1 = TestNets.relErr(rows, jfd);
                    // (2) the kernel and its trace = J J^T of the explicit Jacobian
                    double[][] ref = TestNets.gram(jfd);
                    double[][] th = op.kernel();
                    double e2 = TestNets.relErr(th, ref);
                    double refTrace = 0;
                    for (int i = 0; i < ref.length; i++) refTrace += ref[i][i];
                    double e3 = Math.abs(op.trace() - refTrace) / refTrace;
                    // (3) Lanczos' top k and the full spectrum = the explicit kernel's eigenvalues (Jacobi)
                    double[] eig = SymmetricEigen.jacobi(ref).values();
                    double[] full = SymmetricEigen.eigenvalues(th);
                    double e4 = relL2(full, eig);
                    int k = 4;
                    Lanczos.Result lz = Lanczos.topK(op::apply, op.rows(), k, 100, 1e-12, 7, null);
                    double e5 = 0;
                    for (int i = 0; i < k; i++) e5 = Math.max(e5, Math.abs(lz.values()[i] - eig[i]) / eig[i]);
                    System.out.printf("%s (%d x %d): J %.1e, kernel %.1e, trace %.1e, spectrum %.1e, Lanczos top-%d %.1e in %d iterations%n",
                            c.name(), op.rows(), op.parameters(), e1, e2, e3, e4, k, e5, lz.iterations());
                    assertTrue(e1 <= TOL, c.name() + ": per-sample gradients vs differences " + e1);
                    assertTrue(e2 <= TOL, c.name() + ": kernel vs J J^T " + e2);
                    assertTrue(e3 <= TOL, c.name() + ": trace " + e3);
                    assertTrue(e4 <= TOL, c.name() + ": QL spectrum vs Jacobi " + e4);
                    assertTrue(e5 <= TOL, c.name() + ": Lanczos " + e5 + " " + Arrays.toString(lz.values()) + " vs " + Arrays.toString(eig));
                    assertTrue(lz.converged());
                }
            }
        }
    }

    @Test void jvpAndVjpEqualTheExplicitJacobianAndDirectionalDifferences() {
        try (MemoryScope s = MemoryScope.open()) {
            for (Case c : cases()) {
                try (NtkOperator op = new NtkOperator(c.model(), c.masks(), c.x(), DType.F64, c.all(), 3)) {
                    double[][] jfd = TestNets.fdJacobian(c.model(), c.masks(), c.x(), op.parameterNames(), 1e-3);
                    SplittableRandom r = new SplittableRandom(1);
                    double[] v = new double[(int) op.parameters()], u = new double[op.rows()];
                    for (int i = 0; i < v.length; i++) v[i] = r.nextDouble() - 0.5;
                    for (int i = 0; i < u.length; i++) u[i] = r.nextDouble() - 0.5;
                    double[] jv = new double[op.rows()], jtu = new double[v.length];
                    for (int a = 0; a < jv.length; a++)
                        for (int b = 0; b < v.length; b++) { jv[a] += jfd[a][b] * v[b]; jtu[b] += jfd[a][b] * u[a]; }
                    double e1 = relL2(op.jvp(v), jv), e2 = relL2(op.vjp(u), jtu);
                    // J v against (f(theta + h v) - f(theta - h v)) / 2h, pruned entries of v not moving
                    var vals = TestNets.values(c.model(), c.masks());
                    double h = 1e-5;
                    double[] plus = step(c, vals, op.parameterNames(), v, h), minus = step(c, vals, op.parameterNames(), v, -h);
                    double[] dd = new double[plus.length];
                    for (int i = 0; i < dd.length; i++) dd[i] = (plus[i] - minus[i]) / (2 * h);
                    double e3 = relL2(op.jvp(v), dd);
                    System.out.printf("%s: jvp %.1e, vjp %.1e vs explicit J; jvp vs directional difference %.1e%n", c.name(), e1, e2, e3);
                    assertTrue(e1 <= TOL && e2 <= TOL, c.name() + ": jvp " + e1 + ", vjp " + e2);
                    assertTrue(e3 <= 1e-8, c.name() + ": jvp vs directional difference " + e3);
                }
            }
        }
    }

    /** f at theta + t v (v's entries at pruned weights ignored) */
    static double[] step(Case c, java.util.Map<String, double[]> base, List<String> params, double[] v, double t) {
        var vals = new java.util.LinkedHashMap<String, double[]>();
        base.forEach((k, a) -> vals.put(k, a.clone()));
        int off = 0;
        for (String p : params) {
            double[] a = vals.get(p);
            float[] m = c.masks() != null && c.masks().names().contains(p) ? c.masks().values(p) : null;
            for (int i = 0; i < a.length; i++, off++) if (m == null || m[i] != 0f) a[i] += t * v[off];
        }
        return TestNets.forward(c.model(), vals, c.x());
    }

    @Test void prunedWeightsContributeNothing() {
        try (MemoryScope s = MemoryScope.open()) {
            var mlp = new TinyModels.Mlp(3, false, 3, 4, 4, 2);
            Tensor x = TinyModels.randomInputs(11, 6, 3);
            Masks masks = TinyModels.randomMasks(mlp, 0.5, 8);
            try (NtkOperator dense = new NtkOperator(mlp, null, x, DType.F64, false, 6);
                 NtkOperator pruned = new NtkOperator(mlp, masks, x, DType.F64, false, 6)) {
                double[] flatMask = new double[(int) dense.parameters()];
                int off = 0;
                for (String n : masks.names()) for (float f : masks.values(n)) flatMask[off++] = f;
                for (int r = 0; r < pruned.rows(); r++) {
                    double[] row = pruned.row(r);
                    for (int j = 0; j < row.length; j++) if (flatMask[j] == 0) assertEquals(0.0, row[j], "row " + r + " entry " + j);
                }
                // a v that lives only on pruned entries moves nothing
                double[] v = new double[flatMask.length];
                for (int j = 0; j < v.length; j++) v[j] = flatMask[j] == 0 ? 1 + j : 0;
                for (double d : pruned.jvp(v)) assertEquals(0.0, d);
                assertTrue(pruned.trace() < dense.trace());
                assertEquals(masks.kept(), pruned.keptParameters());
            }
        }
    }

    @Test void computeAgreesWithItselfWithoutTheExplicitKernelAndFreesItsMemory() {
        try (MemoryScope s = MemoryScope.open()) {
            var cnn = new TinyModels.Cnn(5, true, false);
            TinyModels.perturbBatchNorms(cnn, 3);
            Tensor x = TinyModels.randomInputs(13, 5, 1, 4, 4);
            Masks masks = TinyModels.randomMasks(cnn, 0.7, 2);
            Ntk.Options o = Ntk.Options.defaults().withTop(3);
            NtkResult a = Ntk.compute(cnn, masks, x, o); // warm-up, and the explicit path
            long before = Pointer.totalBytes();
            NtkResult b = Ntk.compute(cnn, masks, x, o.withExplicit(0, 0));
            assertEquals(before, Pointer.totalBytes(), "native bytes after Ntk.compute");
            assertTrue(a.conditionFull() && !b.conditionFull());
            assertNull(b.spectrum());
            assertEquals(1.0, b.trace() / a.trace(), 1e-12);
            for (int i = 0; i < 3; i++) assertEquals(1.0, b.top()[i] / a.spectrum()[i], 1e-10);
            assertEquals(a.spectrum()[0] / a.spectrum()[a.spectrum().length - 1], a.condition(), 1e-6 * a.condition());
            assertEquals(b.top()[0] / b.top()[2], b.condition(), 1e-12 * b.condition());
            assertTrue(!a.pxBoundTheorem() && Double.isFinite(a.pxBound()));
            // float32 agrees with float64 to float32 accuracy
            NtkResult f = Ntk.compute(cnn, masks, x, o.withPrecision(DType.F32));
            assertEquals(1.0, f.trace() / a.trace(), 1e-5);
            assertEquals(1.0, f.top()[0] / a.top()[0], 1e-5);
        }
    }

    @Test void lanczosConvergesBeforeTheSpaceIsExhausted() {
        try (MemoryScope s = MemoryScope.open(); var mlp = new TinyModels.Mlp(6, false, 3, 8, 8, 4)) {
            Tensor x = TinyModels.randomInputs(21, 30, 3);
            try (NtkOperator op = new NtkOperator(mlp, null, x, DType.F64, false, 16)) {
                double[] eig = SymmetricEigen.jacobi(op.kernel()).values();
                Lanczos.Result lz = Lanczos.topK(op::apply, op.rows(), 3, 200, 1e-12, 2, null);
                double e = 0;
                for (int i = 0; i < 3; i++) e = Math.max(e, Math.abs(lz.values()[i] - eig[i]) / eig[i]);
                System.out.printf("Lanczos top-3 of a %d x %d NTK: %d iterations, max relative error %.1e%n", op.rows(), op.rows(),
                        lz.iterations(), e);
                assertTrue(lz.converged() && lz.iterations() < op.rows(), "iterations " + lz.iterations());
                assertTrue(e <= TOL, "Lanczos " + e);
            }
        }
    }

    @Test void symmetricEigenSolversOnKnownSpectra() {
        SplittableRandom r = new SplittableRandom(4);
        for (int n : new int[] {1, 2, 3, 10, 57}) {
            double[] lam = new double[n];
            for (int i = 0; i < n; i++) lam[i] = i % 7 == 3 ? lam[Math.max(0, i - 1)] : Math.pow(10, 4 * r.nextDouble() - 2); // with repeats
            // A = H3 H2 H1 diag(lam) H1 H2 H3, H = I - 2 w w^T
            double[][] a = new double[n][n];
            for (int i = 0; i < n; i++) a[i][i] = lam[i];
            for (int h = 0; h < 3; h++) {
                double[] w = new double[n];
                double nw = 0;
                for (int i = 0; i < n; i++) { w[i] = r.nextDouble() - 0.5; nw += w[i] * w[i]; }
                nw = Math.sqrt(nw);
                for (int i = 0; i < n; i++) w[i] /= nw;
                double[][] ha = reflect(a, w);
                a = transpose(reflect(transpose(ha), w));
            }
            double[] want = SymmetricEigen.descending(lam);
            assertArrayEquals(want, SymmetricEigen.eigenvalues(a), 1e-12 * want[0], "QL, n = " + n);
            assertArrayEquals(want, SymmetricEigen.jacobi(a).values(), 1e-12 * want[0], "Jacobi, n = " + n);
            final double[][] m = a;
            Lanczos.Result lz = Lanczos.topK(v -> mul(m, v), n, Math.min(5, n), 200, 1e-13, 3, null);
            for (int i = 0; i < lz.values().length; i++) assertEquals(want[i], lz.values()[i], 1e-10 * want[i], "Lanczos, n = " + n);
        }
        // rank 2 in R^6: Lanczos breaks down after 2 steps, restarts, and finds the zeros
        double[][] low = new double[6][6];
        low[0][0] = 3;
        low[4][4] = 1;
        Lanczos.Result lz = Lanczos.topK(v -> mul(low, v), 6, 4, 50, 1e-12, 1, null);
        assertArrayEquals(new double[] {3, 1, 0, 0}, lz.values(), 1e-12);
    }

    static double[][] reflect(double[][] a, double[] w) {
        int n = a.length;
        double[][] out = new double[n][n];
        for (int j = 0; j < n; j++) {
            double d = 0;
            for (int i = 0; i < n; i++) d += w[i] * a[i][j];
            for (int i = 0; i < n; i++) out[i][j] = a[i][j] - 2 * w[i] * d;
        }
        return out;
    }

    static double[][] transpose(double[][] a) {
        double[][] t = new double[a.length][a.length];
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a.length; j++) t[j][i] = a[i][j];
        return t;
    }

    static double[] mul(double[][] a, double[] v) {
        double[] o = new double[v.length];
        for (int i = 0; i < v.length; i++) for (int j = 0; j < v.length; j++) o[i] += a[i][j] * v[j];
        return o;
    }
}
