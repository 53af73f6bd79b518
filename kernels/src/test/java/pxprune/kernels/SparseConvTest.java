package pxprune.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import pxprune.jni.PxNative;

/**
 * The sparse convolution kernels (pxsparse.h), with every instruction set this CPU runs (AVX2+FMA
 * always, AVX-512F where the CPU has it), against float64 loops over the convolution sum with the
 * masked weight and against the dense path (im2col + sgemm) on the masked weight: forward with
 * and without bias, input gradient, weight gradient (zero at every pruned weight), on 1x1 and 3x3
 * kernels, strides 1 to 3, padding, dilation, odd sizes, batch sizes that are not a multiple of 8
 * or 16, and masks at several densities plus the hostile ones (all pruned, all kept, one weight
 * kept). Two calls give bit-identical results.
 *
 * <p>The tolerance. Each output is a sum of m products; computed in float32 in any order (FMA
 * chains, vector lanes, horizontal sums, per-task partial sums), its error is at most
 * gamma_m * sum |products| with gamma_m = m u / (1 - m u), u = 2^-24 (Higham, Accuracy and
 * Stability of Numerical Algorithms, 2nd ed., section 3.1; an FMA rounds once, which only helps).
 * The test checks every element against that bound, computed per element from the float64 sum of
 * |products| (the same convolution of |x|, |w|, |gy|) with m the element's count of products plus
 * the bias and a margin of 64 for the reductions' extra additions. The bound holds for AVX2 and
 * AVX-512 orders alike, and a wrong product (a missing or misplaced tap) breaks it by far.
 */
class SparseConvTest {
    private static final CpuBackend B = CpuBackend.INSTANCE;
    private static final double U = Math.scalb(1.0, -24);

    // n, c, h, w, k, kh, kw, sh, sw, ph, pw, dh, dw, groups (ungrouped: the sparse kernels' domain)
    static final ConvGeometry[] SHAPES = {
            new ConvGeometry(5, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new ConvGeometry(1, 5, 7, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new ConvGeometry(3, 6, 9, 7, 10, 3, 3, 2, 2, 1, 1, 1, 1, 1),
            new ConvGeometry(7, 9, 7, 5, 13, 1, 1, 1, 1, 0, 0, 1, 1, 1),
            new ConvGeometry(3, 8, 8, 8, 12, 1, 1, 2, 2, 0, 0, 1, 1, 1),
            new ConvGeometry(3, 5, 9, 9, 6, 3, 3, 1, 1, 2, 2, 2, 2, 1),
            new ConvGeometry(1, 4, 11, 10, 5, 3, 3, 2, 2, 2, 1, 2, 2, 1),
            new ConvGeometry(2, 4, 10, 11, 6, 3, 2, 3, 2, 1, 0, 1, 1, 1),
            new ConvGeometry(2, 6, 9, 9, 5, 1, 1, 3, 3, 0, 0, 1, 1, 1),
            new ConvGeometry(2, 3, 15, 13, 9, 7, 7, 2, 2, 3, 3, 1, 1, 1),
            new ConvGeometry(1, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new ConvGeometry(3, 16, 32, 32, 32, 1, 1, 2, 2, 0, 0, 1, 1, 1),
            new ConvGeometry(2, 32, 16, 16, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1),
            new ConvGeometry(13, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            // a linear layer as the sparse path runs it: one image [in, 1, batch], a 1x1 kernel
            new ConvGeometry(1, 64, 1, 37, 10, 1, 1, 1, 1, 0, 0, 1, 1, 1)};

    /** the sparse instruction sets this CPU runs: AVX2 always (asserted), AVX-512F where it has it */
    static List<CpuBackend.ConvPath> isas() {
        assertTrue(PxNative.pxk_conv_isa() >= PxNative.ISA_AVX2, "this CPU has no AVX2+FMA: the sparse kernels are not tested");
        List<CpuBackend.ConvPath> l = new ArrayList<>(List.of(CpuBackend.ConvPath.AVX2));
        if (PxNative.pxk_conv_isa() == PxNative.ISA_AVX512) l.add(CpuBackend.ConvPath.AVX512);
        return l;
    }

    /** named masks over a [k, r] weight */
    record Mask(String name, float[] m) {}

    static List<Mask> masks(Random r, int k, int rl) {
        int n = k * rl;
        List<Mask> l = new ArrayList<>();
        for (double d : new double[] {0.5, 0.1, 0.01}) {
            float[] m = new float[n];
            for (int i = 0; i < n; i++) m[i] = r.nextDouble() < d ? 1 : 0;
            l.add(new Mask("density " + d, m));
        }
        l.add(new Mask("all pruned", new float[n]));
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 1);
        l.add(new Mask("all kept", ones));
        float[] one = new float[n];
        one[r.nextInt(n)] = 1;
        l.add(new Mask("one weight", one));
        // whole output channels and input channels emptied (a layer pruned to nothing, a dead input)
        float[] rowsCols = new float[n];
        for (int i = 0; i < n; i++) rowsCols[i] = (i / rl) % 2 == 0 && (i % rl) % 3 != 0 ? 1 : 0;
        l.add(new Mask("emptied rows and columns", rowsCols));
        return l;
    }

    record Result(float[] y, float[] gx, float[] gw) {}

    static Result sparse(ConvGeometry g, CpuBackend.ConvPath path, KeptWeights kept, float[] x, float[] w, float[] bias, float[] gy) {
        int yn = g.n() * g.k() * g.oh() * g.ow();
        Pointer px = DirectConvTest.put(x), pw = DirectConvTest.put(w), pb = bias == null ? null : DirectConvTest.put(bias);
        Pointer pgy = DirectConvTest.put(gy);
        Pointer py = B.allocate(yn * 4L), pgx = B.allocate(x.length * 4L), pgw = B.allocate(w.length * 4L);
        try {
            B.sparseConv2dForward(DType.F32, g, kept, px, pw, pb, py, path);
            B.sparseConv2dBackwardData(DType.F32, g, kept, pgy, pw, pgx, path);
            B.sparseConv2dBackwardWeight(DType.F32, g, kept, px, pgy, pgw, path);
            return new Result(DirectConvTest.get(py, yn), DirectConvTest.get(pgx, x.length), DirectConvTest.get(pgw, w.length));
        } finally {
            for (Pointer p : new Pointer[] {px, pw, pb, pgy, py, pgx, pgw}) if (p != null) B.free(p);
        }
    }

    static double[] abs(double[] a) {
        double[] b = new double[a.length];
        for (int i = 0; i < a.length; i++) b[i] = Math.abs(a[i]);
        return b;
    }

    /** |expected - actual| <= gamma_(terms + 64) * absSum (+ the same again for a second computed value) per element */
    static void within(String what, double[] expected, double[] absSum, long terms, double factor, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        double m = terms + 64, gamma = m * U / (1 - m * U);
        for (int i = 0; i < expected.length; i++) {
            double bound = factor * gamma * absSum[i];
            double err = Math.abs(expected[i] - actual[i]);
            if (!(err <= bound))
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i] + " (error " + err
                        + " > bound " + bound + ")");
        }
    }

    @Test void everySparseKernelMatchesFloat64AndTheDensePathOnEveryShapeAndMask() {
        Random r = new Random(5);
        int cases = 0;
        for (ConvGeometry g : SHAPES) {
            int rl = g.groupRows();
            float[] x = DirectConvTest.random(r, g.n() * g.c() * g.h() * g.w()), w = DirectConvTest.random(r, g.k() * rl);
            float[] bias = DirectConvTest.random(r, g.k()), gy = DirectConvTest.random(r, g.n() * g.k() * g.oh() * g.ow());
            double[] xd = DirectConvTest.widen(x), gyd = DirectConvTest.widen(gy);
            for (Mask mask : masks(r, g.k(), rl)) {
                float[] wm = new float[w.length];
                for (int i = 0; i < w.length; i++) wm[i] = w[i] * mask.m()[i];
                double[] wmd = DirectConvTest.widen(wm);
                double[] y = ConvReference.conv(g, xd, wmd), yAbs = ConvReference.conv(g, abs(xd), abs(wmd));
                int ohw = g.oh() * g.ow();
                double[] yb = y.clone(), ybAbs = yAbs.clone();
                for (int i = 0; i < y.length; i++) { yb[i] += bias[i / ohw % g.k()]; ybAbs[i] += Math.abs(bias[i / ohw % g.k()]); }
                double[][] grads = ConvReference.convBackward(g, xd, wmd, gyd);
                double[][] gradsAbs = ConvReference.convBackward(g, abs(xd), abs(wmd), abs(gyd));
                // the weight gradient at kept positions only: the masked gradient
                for (int i = 0; i < w.length; i++) { grads[1][i] *= mask.m()[i]; gradsAbs[1][i] *= mask.m()[i]; }
                long fwdTerms = rl, bwdTerms = (long) g.k() * g.kh() * g.kw(), wTerms = (long) g.n() * ohw;
                DirectConvTest.Result dense = DirectConvTest.run(g, CpuBackend.ConvPath.IM2COL, x, wm, bias, gy);
                try (KeptWeights kept = KeptWeights.of(B, g.k(), rl, mask.m())) {
                    for (CpuBackend.ConvPath p : isas()) {
                        String at = p + " " + mask.name() + " " + g;
                        Result a = sparse(g, p, kept, x, w, bias, gy);
                        within("forward, float64, " + at, yb, ybAbs, fwdTerms + 1, 1, a.y());
                        within("input gradient, float64, " + at, grads[0], gradsAbs[0], bwdTerms, 1, a.gx());
                        within("weight gradient, float64, " + at, grads[1], gradsAbs[1], wTerms, 1, a.gw());
                        // against the dense path: both within the bound of the exact sum
                        within("forward, dense, " + at, DirectConvTest.widen(dense.y()), ybAbs, fwdTerms + 1, 2, a.y());
                        within("input gradient, dense, " + at, DirectConvTest.widen(dense.gx()), gradsAbs[0], bwdTerms, 2, a.gx());
                        for (int i = 0; i < w.length; i++)
                            if (mask.m()[i] == 0) assertEquals(0f, a.gw()[i], "weight gradient at pruned weight " + i + ", " + at);
                        Result b = sparse(g, p, kept, x, w, bias, gy);
                        assertArrayEquals(a.y(), b.y(), "forward is not deterministic, " + at);
                        assertArrayEquals(a.gx(), b.gx(), "input gradient is not deterministic, " + at);
                        assertArrayEquals(a.gw(), b.gw(), "weight gradient is not deterministic, " + at);
                        Result nb = sparse(g, p, kept, x, w, null, gy);
                        within("forward without bias, " + at, y, yAbs, fwdTerms, 1, nb.y());
                        cases++;
                    }
                }
            }
        }
        assertTrue(cases >= SHAPES.length * 7, "cases tested: " + cases);
    }

    /**
     * The pruned entries of w are never read: a weight tensor with garbage (NaN) at pruned
     * positions gives the same results as one with zeros there.
     */
    @Test void prunedWeightsAreNotRead() {
        ConvGeometry g = SHAPES[2];
        Random r = new Random(9);
        int rl = g.groupRows();
        float[] x = DirectConvTest.random(r, g.n() * g.c() * g.h() * g.w()), w = DirectConvTest.random(r, g.k() * rl);
        float[] gy = DirectConvTest.random(r, g.n() * g.k() * g.oh() * g.ow());
        Mask mask = masks(r, g.k(), rl).get(1);
        float[] zeroed = w.clone(), nan = w.clone();
        for (int i = 0; i < w.length; i++) if (mask.m()[i] == 0) { zeroed[i] = 0; nan[i] = Float.NaN; }
        try (KeptWeights kept = KeptWeights.of(B, g.k(), rl, mask.m())) {
            for (CpuBackend.ConvPath p : isas()) {
                Result a = sparse(g, p, kept, x, zeroed, null, gy), b = sparse(g, p, kept, x, nan, null, gy);
                assertArrayEquals(a.y(), b.y(), p + " forward");
                assertArrayEquals(a.gx(), b.gx(), p + " input gradient");
                assertArrayEquals(a.gw(), b.gw(), p + " weight gradient");
            }
        }
    }

    @Test void keptWeightsListBothOrdersAndRejectWrongShapes() {
        float[] m = {0, 1, 1, 0, 1, 0, 1, 1, 0};
        try (KeptWeights kw = KeptWeights.of(B, 3, 3, m)) {
            assertEquals(5, kw.kept());
            assertEquals(5.0 / 9, kw.density(), 1e-12);
            int[] rows = new int[4], fidx = new int[5], cols = new int[4], tfidx = new int[5];
            B.download(kw.rowsPointer(), rows);
            B.download(kw.fidxPointer(), fidx);
            B.download(kw.colsPointer(), cols);
            B.download(kw.tfidxPointer(), tfidx);
            assertArrayEquals(new int[] {0, 2, 3, 5}, rows);
            assertArrayEquals(new int[] {1, 2, 4, 6, 7}, fidx);
            assertArrayEquals(new int[] {0, 1, 4, 5}, cols);
            assertArrayEquals(new int[] {6, 1, 4, 7, 2}, tfidx);
            ConvGeometry g = new ConvGeometry(1, 1, 4, 4, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1); // 2 x 9 weights, not 3 x 3
            Pointer x = B.allocate(64), w = B.allocate(72), y = B.allocate(128);
            try {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> B.sparseConv2dForward(DType.F32, g, kw, x, w, null, y));
                assertTrue(e.getMessage().contains("do not fit"), e.getMessage());
            } finally { B.free(x); B.free(w); B.free(y); }
        }
        assertThrows(IllegalArgumentException.class, () -> KeptWeights.of(B, 2, 3, new float[5]));
    }
}
