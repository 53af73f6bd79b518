package pxprune.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import pxprune.kernels.DType;
import pxprune.kernels.KeptWeights;

/**
 * The sparse convolution and linear ops (float32, the sparse kernels) against the dense ops on the
 * masked weight: results and every gradient through autograd (the weight's gradient masked),
 * gradients of gradients (Hessian-vector products through create-graph backward), and finite
 * differences of the sparse op's own forward. The kernels themselves are checked element by
 * element against float64 in the kernels module (SparseConvTest); here a wiring error (a gradient
 * routed to the wrong input, a missing mask) would show as an O(1) difference, so a relative L2
 * bound of 1e-5 (float32 rounding of sums of at most a few hundred products: ~1e-6) separates
 * the two by far.
 */
class SparseOpsTest {
    MemoryScope scope;
    final SplittableRandom rng = new SplittableRandom(3);

    @BeforeEach void open() { scope = MemoryScope.open(); }
    @AfterEach void close() { scope.close(); }

    Tensor rand(int... shape) {
        float[] v = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextDouble(-1, 1);
        return Tensor.of(v, shape).requiresGrad(true);
    }

    float[] mask(int n, double density) {
        float[] m = new float[n];
        for (int i = 0; i < n; i++) m[i] = rng.nextDouble() < density ? 1 : 0;
        return m;
    }

    static double relL2(double[] a, double[] b) {
        double d = 0, s = 1e-30;
        for (int i = 0; i < a.length; i++) { d += (a[i] - b[i]) * (a[i] - b[i]); s += b[i] * b[i]; }
        return Math.sqrt(d / s);
    }

    static void near(String what, Tensor expected, Tensor actual) {
        assertEquals(java.util.Arrays.toString(expected.shape()), java.util.Arrays.toString(actual.shape()), what);
        double e = relL2(actual.toDoubleArray(), expected.toDoubleArray());
        assertTrue(e < 1e-5, what + ": relative L2 error " + e);
    }

    // {n, c, h, w, k, kernel, stride, padding, dilation}
    static final int[][] SHAPES = {{5, 6, 8, 8, 7, 3, 1, 1, 1}, {3, 4, 9, 7, 6, 3, 2, 1, 1}, {3, 8, 8, 8, 5, 1, 2, 0, 1},
            {2, 5, 9, 9, 4, 3, 1, 2, 2}};

    @Test void sparseConvMatchesDenseConvOfTheMaskedWeightWithGradients() {
        for (int[] s : SHAPES)
            for (double density : new double[] {0.3, 0, 1}) {
                String at = java.util.Arrays.toString(s) + " density " + density;
                Tensor x = rand(s[0], s[1], s[2], s[3]), w = rand(s[4], s[1], s[5], s[5]), b = rand(s[4]);
                float[] m = mask((int) w.numel(), density);
                Tensor mt = Tensor.of(m, w.shape());
                try (KeptWeights kw = KeptWeights.of(w.backend(), s[4], s[1] * s[5] * s[5], m)) {
                    Tensor y = Ops.conv2dSparse(x, w, b, s[6], s[7], s[8], kw);
                    Tensor r = rand(y.shape()).requiresGrad(false);
                    Ops.sum(Ops.mul(y, r)).backward();
                    Tensor gx = Ops.copy(x.grad()), gw = Ops.copy(w.grad()), gb = Ops.copy(b.grad());
                    x.setGrad(null); w.setGrad(null); b.setGrad(null);
                    Tensor yd = Ops.conv2d(x, Ops.mul(w, mt), b, s[6], s[7], s[8], 1);
                    Ops.sum(Ops.mul(yd, r)).backward();
                    near("forward " + at, yd, y);
                    near("input gradient " + at, x.grad(), gx);
                    near("weight gradient " + at, w.grad(), gw); // d/dw of conv(x, w * m) is already masked
                    near("bias gradient " + at, b.grad(), gb);
                }
            }
    }

    /** L = sum(conv2dSparse(x, w) * r) is linear in w: a central difference along v is exact but for float32 rounding */
    @Test void sparseConvWeightGradientMatchesFiniteDifferences() {
        int[] s = SHAPES[1];
        Tensor x = rand(s[0], s[1], s[2], s[3]).requiresGrad(false), w = rand(s[4], s[1], s[5], s[5]), v = rand(w.shape()).requiresGrad(false);
        float[] m = mask((int) w.numel(), 0.2);
        try (KeptWeights kw = KeptWeights.of(w.backend(), s[4], s[1] * s[5] * s[5], m)) {
            Tensor y = Ops.conv2dSparse(x, w, null, s[6], s[7], s[8], kw);
            Tensor r = rand(y.shape()).requiresGrad(false);
            Ops.sum(Ops.mul(y, r)).backward();
            double e = 0.5, an = 0, scale = 0;
            double[] g = w.grad().toDoubleArray(), vv = v.toDoubleArray();
            for (int i = 0; i < g.length; i++) { an += g[i] * vv[i]; scale += Math.abs(g[i] * vv[i]); }
            double[] lp, lm;
            try (GradMode gm = GradMode.noGrad()) {
                lp = Ops.mul(Ops.conv2dSparse(x, Ops.add(w, Ops.affine(v, e, 0)), null, s[6], s[7], s[8], kw), r).toDoubleArray();
                lm = Ops.mul(Ops.conv2dSparse(x, Ops.add(w, Ops.affine(v, -e, 0)), null, s[6], s[7], s[8], kw), r).toDoubleArray();
            }
            double fd = 0;
            for (int i = 0; i < lp.length; i++) fd += (lp[i] - lm[i]) / (2 * e);
            assertTrue(Math.abs(fd - an) <= 1e-4 * scale, "finite difference " + fd + ", gradient " + an);
        }
    }

    /** Hessian-vector products of a small network through the sparse ops equal those through the dense ops on w * m */
    @Test void gradientsOfGradientsMatchTheDenseOps() {
        Tensor x = rand(4, 3, 6, 6).requiresGrad(false);
        Tensor labels = Tensor.ofInts(new int[] {0, 1, 2, 1}, 4);
        Tensor w1 = rand(5, 3, 3, 3), w2 = rand(3, 5);
        float[] m1 = mask((int) w1.numel(), 0.4), m2 = mask((int) w2.numel(), 0.5);
        Tensor mt1 = Tensor.of(m1, w1.shape()), mt2 = Tensor.of(m2, w2.shape());
        List<Tensor> p = List.of(w1, w2);
        List<Tensor> v = new ArrayList<>();
        for (Tensor t : p) v.add(rand(t.shape()).requiresGrad(false));
        try (KeptWeights k1 = KeptWeights.of(w1.backend(), 5, 27, m1); KeptWeights k2 = KeptWeights.of(w2.backend(), 3, 5, m2)) {
            Tensor[] sparse = hv(p, v, () -> Ops.crossEntropy(Ops.linearSparse(Ops.globalAvgPool(Ops.relu(
                    Ops.conv2dSparse(x, w1, null, 2, 1, 1, k1))), w2, null, k2), labels));
            Tensor[] dense = hv(p, v, () -> Ops.crossEntropy(Ops.linear(Ops.globalAvgPool(Ops.relu(
                    Ops.conv2d(x, Ops.mul(w1, mt1), null, 2, 1, 1, 1))), Ops.mul(w2, mt2), null), labels));
            near("Hv, convolution", dense[0], sparse[0]);
            near("Hv, linear", dense[1], sparse[1]);
        }
    }

    private static Tensor[] hv(List<Tensor> p, List<Tensor> v, java.util.function.Supplier<Tensor> loss) {
        Tensor[] g = Autograd.grad(loss.get(), p, true);
        Tensor gv = null;
        for (int i = 0; i < g.length; i++) {
            Tensor d = Ops.sum(Ops.mul(g[i], v.get(i)));
            gv = gv == null ? d : Ops.add(gv, d);
        }
        return Autograd.grad(gv, p, false);
    }

    @Test void sparseLinearMatchesDenseLinearAndWrongInputsSayWhat() {
        Tensor x = rand(13, 20), w = rand(7, 20), b = rand(7);
        float[] m = mask(140, 0.25);
        try (KeptWeights kw = KeptWeights.of(w.backend(), 7, 20, m)) {
            near("linear", Ops.linear(x, Ops.mul(w, Tensor.of(m, 7, 20)), b), Ops.linearSparse(x, w, b, kw));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.conv2dSparse(rand(1, 20, 3, 3), rand(7, 20, 3, 3), null, 1, 1, 1, kw));
            assertTrue(e.getMessage().contains("do not fit"), e.getMessage());
            Tensor xd = Tensor.of(new double[40], 2, 20), wd = Tensor.of(new double[140], 7, 20);
            e = assertThrows(IllegalArgumentException.class, () -> Ops.linearSparse(xd, wd, null, kw));
            assertTrue(e.getMessage().contains(DType.F64.toString()) && e.getMessage().contains("dense"), e.getMessage());
        }
    }
}
