package pxprune.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import pxprune.jni.PxNative;

/**
 * Every convolution path this CPU runs (im2col + sgemm, sgemm per image for 1x1 kernels, the
 * direct kernels with AVX2+FMA and, where the CPU has it, AVX-512F) against float64 loops over the
 * convolution sum and against each other: forward with bias, input gradient and weight gradient on
 * kernels 1x1 to 7x7, strides 1 to 3,
 * padding 0 to 3, dilation 1 and 2, groups and depthwise, odd sizes, batch 1 and 3, channel counts
 * that are not a multiple of the vector width; and two calls give bit-identical results. Strided
 * input gradients (decomposed by output phase on the direct paths) are also checked against finite
 * differences of each path's own forward.
 */
class DirectConvTest {
    private static final CpuBackend B = CpuBackend.INSTANCE;
    private static final double TOL = 1e-5;

    // n, c, h, w, k, kh, kw, sh, sw, ph, pw, dh, dw, groups
    static final ConvGeometry[] SHAPES = {
            new ConvGeometry(3, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new ConvGeometry(1, 5, 7, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new ConvGeometry(3, 6, 9, 7, 10, 3, 3, 2, 2, 1, 1, 1, 1, 1),
            new ConvGeometry(3, 9, 7, 5, 13, 1, 1, 1, 1, 0, 0, 1, 1, 1),
            new ConvGeometry(1, 8, 8, 8, 12, 1, 1, 2, 2, 0, 0, 1, 1, 1),
            new ConvGeometry(2, 3, 15, 13, 9, 7, 7, 2, 2, 3, 3, 1, 1, 1),
            new ConvGeometry(1, 4, 9, 11, 6, 7, 7, 1, 1, 3, 3, 1, 1, 1),
            new ConvGeometry(3, 5, 9, 9, 6, 3, 3, 1, 1, 2, 2, 2, 2, 1),
            new ConvGeometry(1, 4, 11, 10, 5, 3, 3, 2, 2, 2, 1, 2, 2, 1),
            new ConvGeometry(3, 6, 7, 5, 10, 3, 3, 1, 1, 1, 1, 1, 1, 2),
            new ConvGeometry(3, 12, 7, 5, 12, 3, 3, 1, 1, 1, 1, 1, 1, 12),
            new ConvGeometry(1, 10, 9, 8, 10, 3, 3, 2, 2, 1, 1, 1, 1, 10),
            new ConvGeometry(2, 4, 8, 9, 8, 5, 3, 1, 2, 2, 0, 1, 1, 2),
            new ConvGeometry(1, 17, 6, 6, 37, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new ConvGeometry(1, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new ConvGeometry(3, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new ConvGeometry(1, 32, 16, 16, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1),
            new ConvGeometry(3, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            // strided input gradients by output phase: padding past the phase's taps (a negative
            // offset into gy), unequal strides and kernel sides, phases no tap reaches, even kernels
            new ConvGeometry(2, 5, 11, 9, 7, 3, 3, 2, 2, 2, 2, 1, 1, 1),
            new ConvGeometry(1, 4, 10, 11, 6, 3, 2, 3, 2, 1, 0, 1, 1, 1),
            new ConvGeometry(2, 6, 9, 9, 5, 1, 1, 3, 3, 0, 0, 1, 1, 1),
            new ConvGeometry(1, 3, 8, 8, 4, 4, 4, 2, 2, 1, 1, 1, 1, 1),
            new ConvGeometry(2, 7, 13, 12, 9, 5, 5, 3, 3, 2, 1, 1, 1, 1),
            new ConvGeometry(3, 16, 32, 32, 32, 1, 1, 2, 2, 0, 0, 1, 1, 1)};

    /** float32 inputs, rounded once, so that the float64 reference sees the same numbers */
    static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    static double[] widen(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    static Pointer put(float[] v) {
        Pointer p = B.allocate((long) v.length * 4);
        B.upload(v, p);
        return p;
    }

    static float[] get(Pointer p, int n) {
        float[] f = new float[n];
        B.download(p, f);
        return f;
    }

    /** the three results of one path: y (with bias), gx, gw */
    record Result(float[] y, float[] gx, float[] gw) {}

    static Result run(ConvGeometry g, CpuBackend.ConvPath path, float[] x, float[] w, float[] bias, float[] gy) {
        int yn = g.n() * g.k() * g.oh() * g.ow();
        Pointer px = put(x), pw = put(w), pb = put(bias), pgy = put(gy);
        Pointer py = B.allocate(yn * 4L), pgx = B.allocate(x.length * 4L), pgw = B.allocate(w.length * 4L);
        try {
            B.conv2dForward(DType.F32, g, px, pw, pb, py, path);
            B.conv2dBackwardData(DType.F32, g, pgy, pw, pgx, path);
            B.conv2dBackwardWeight(DType.F32, g, px, pgy, pgw, path);
            return new Result(get(py, yn), get(pgx, x.length), get(pgw, w.length));
        } finally {
            for (Pointer p : new Pointer[] {px, pw, pb, pgy, py, pgx, pgw}) B.free(p);
        }
    }

    static void close(String what, double[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = 1e-30, err = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            err = Math.max(err, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(err <= TOL * scale, what + ": max error " + err + " > " + TOL + " * " + scale);
    }

    @Test void everyPathMatchesFloat64AndIm2colOnEveryShape() {
        List<CpuBackend.ConvPath> paths = B.convPaths();
        assertEquals(CpuBackend.ConvPath.IM2COL, paths.get(0));
        Random r = new Random(7);
        for (ConvGeometry g : SHAPES) {
            float[] x = random(r, g.n() * g.c() * g.h() * g.w()), w = random(r, g.k() * g.groupRows()), bias = random(r, g.k());
            float[] gy = random(r, g.n() * g.k() * g.oh() * g.ow());
            double[] y = ConvReference.conv(g, widen(x), widen(w));
            for (int i = 0; i < y.length; i++) y[i] += bias[i / (g.oh() * g.ow()) % g.k()];
            double[][] grads = ConvReference.convBackward(g, widen(x), widen(w), widen(gy));
            Result ref = run(g, CpuBackend.ConvPath.IM2COL, x, w, bias, gy);
            for (CpuBackend.ConvPath p : paths) {
                String at = p + " " + g;
                Result a = run(g, p, x, w, bias, gy);
                close("forward, float64, " + at, y, a.y());
                close("input gradient, float64, " + at, grads[0], a.gx());
                close("weight gradient, float64, " + at, grads[1], a.gw());
                close("forward, im2col, " + at, widen(ref.y()), a.y());
                close("input gradient, im2col, " + at, widen(ref.gx()), a.gx());
                close("weight gradient, im2col, " + at, widen(ref.gw()), a.gw());
                Result b = run(g, p, x, w, bias, gy);
                assertArrayEquals(a.y(), b.y(), "forward is not deterministic, " + at);
                assertArrayEquals(a.gx(), b.gx(), "input gradient is not deterministic, " + at);
                assertArrayEquals(a.gw(), b.gw(), "weight gradient is not deterministic, " + at);
            }
        }
    }

    /** the dot product of y (float32) and gy in float64 */
    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }

    /**
     * Finite differences of L(x) = sum(conv(x) * gy) along a random direction v, on each path's own
     * forward, against the path's input gradient: (L(x + e v) - L(x - e v)) / 2e = sum(gx * v). The
     * strided shapes exercise the phase-decomposed input gradient (pxconv.h's backward_data).
     */
    @Test void stridedInputGradientMatchesFiniteDifferences() {
        Random r = new Random(11);
        int tested = 0;
        for (ConvGeometry g : SHAPES) {
            if (g.sh() == 1 && g.sw() == 1) continue;
            int xn = g.n() * g.c() * g.h() * g.w(), yn = g.n() * g.k() * g.oh() * g.ow();
            float[] x = random(r, xn), v = random(r, xn), w = random(r, g.k() * g.groupRows()), gy = random(r, yn);
            float[] xp = new float[xn], xm = new float[xn];
            double e = 0.25;
            for (int i = 0; i < xn; i++) { xp[i] = (float) (x[i] + e * v[i]); xm[i] = (float) (x[i] - e * v[i]); }
            // the steps as float32 stores them
            double[] step = new double[xn];
            for (int i = 0; i < xn; i++) step[i] = ((double) xp[i] - xm[i]) / (2 * e);
            for (CpuBackend.ConvPath p : B.convPaths()) {
                float[] zeros = new float[g.k()];
                double lp = dot(run(g, p, xp, w, zeros, gy).y(), gy), lm = dot(run(g, p, xm, w, zeros, gy).y(), gy);
                float[] gx = run(g, p, x, w, zeros, gy).gx();
                double fd = (lp - lm) / (2 * e), an = 0, scale = 0;
                for (int i = 0; i < xn; i++) { an += gx[i] * step[i]; scale += Math.abs(gx[i] * step[i]); }
                assertTrue(Math.abs(fd - an) <= 1e-4 * scale, p + " " + g + ": finite difference " + fd + ", gradient " + an);
                tested++;
            }
        }
        assertTrue(tested >= 8, "strided shapes tested: " + tested);
    }

    @Test void directForwardWithoutBiasAndAnAvx2RunOnEveryCpuThatHasIt() {
        // the library is built for x86-64-v3 (AVX2) and both machine kinds it runs on have AVX2+FMA:
        // a CPU without them would otherwise test im2col only, silently
        assertTrue(PxNative.pxk_conv_isa() >= PxNative.ISA_AVX2, "this CPU has no AVX2+FMA: the direct kernels are not tested");
        ConvGeometry g = SHAPES[0];
        Random r = new Random(3);
        float[] x = random(r, g.n() * g.c() * g.h() * g.w()), w = random(r, g.k() * g.groupRows());
        int yn = g.n() * g.k() * g.oh() * g.ow();
        Pointer px = put(x), pw = put(w), py = B.allocate(yn * 4L);
        try {
            B.conv2dForward(DType.F32, g, px, pw, null, py, CpuBackend.ConvPath.AVX2);
            close("forward without bias", ConvReference.conv(g, widen(x), widen(w)), get(py, yn));
        } finally { B.free(px); B.free(pw); B.free(py); }
    }

    @Test void autoDispatchTakesResNet20sKernelsAndPlain1x1sOnSgemmAndKeepsTheRestOnIm2col() {
        ConvGeometry resnet = new ConvGeometry(100, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        ConvGeometry stem = new ConvGeometry(100, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        ConvGeometry last = new ConvGeometry(1, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        ConvGeometry shortcut = new ConvGeometry(100, 16, 32, 32, 32, 1, 1, 2, 2, 0, 0, 1, 1, 1);
        ConvGeometry depthwise = new ConvGeometry(100, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16);
        ConvGeometry vggLate = new ConvGeometry(100, 512, 4, 4, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        ConvGeometry vgg128 = new ConvGeometry(100, 128, 16, 16, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        ConvGeometry bottleneck = new ConvGeometry(16, 256, 56, 56, 64, 1, 1, 1, 1, 0, 0, 1, 1, 1);
        ConvGeometry bottleneck7 = new ConvGeometry(16, 2048, 7, 7, 512, 1, 1, 1, 1, 0, 0, 1, 1, 1);
        ConvGeometry downsample = new ConvGeometry(16, 512, 28, 28, 1024, 1, 1, 2, 2, 0, 0, 1, 1, 1);
        ConvGeometry strided = new ConvGeometry(100, 16, 32, 32, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1);
        for (CpuBackend.ConvOp op : CpuBackend.ConvOp.values())
            assertEquals(CpuBackend.ConvPath.IM2COL, B.convPath(DType.F64, resnet, op));
        if (!System.getProperty(CpuBackend.CONV, "auto").equals("auto")) return;
        CpuBackend.ConvPath best = B.convPaths().get(B.convPaths().size() - 1);
        for (CpuBackend.ConvOp op : CpuBackend.ConvOp.values()) {
            assertEquals(best, B.convPath(DType.F32, resnet, op), op.name());
            assertEquals(best, B.convPath(DType.F32, stem, op), op.name());
            assertEquals(best, B.convPath(DType.F32, last, op), op.name());
            assertEquals(best, B.convPath(DType.F32, shortcut, op), op.name());
            assertEquals(best, B.convPath(DType.F32, strided, op), op.name());
            assertEquals(CpuBackend.ConvPath.SGEMM, B.convPath(DType.F32, bottleneck, op), op.name());
            assertEquals(CpuBackend.ConvPath.IM2COL, B.convPath(DType.F32, bottleneck7, op), op.name());
            assertEquals(CpuBackend.ConvPath.IM2COL, B.convPath(DType.F32, downsample, op), op.name());
            assertEquals(CpuBackend.ConvPath.IM2COL, B.convPath(DType.F32, depthwise, op), op.name());
            assertEquals(CpuBackend.ConvPath.IM2COL, B.convPath(DType.F32, vggLate, op), op.name());
        }
        assertEquals(best, B.convPath(DType.F32, vgg128, CpuBackend.ConvOp.FORWARD));
        assertEquals(CpuBackend.ConvPath.IM2COL, B.convPath(DType.F32, vgg128, CpuBackend.ConvOp.BACKWARD_WEIGHT));
    }

    @Test void badCallsFailWithOneLine() {
        ConvGeometry g = SHAPES[1];
        Pointer p = B.allocate(4096);
        try {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> B.conv2dForward(DType.F64, g, p, p, null, p, CpuBackend.ConvPath.AVX2));
            assertTrue(e.getMessage().contains("float32 only"), e.getMessage());
            int[] geom = {g.n(), g.c(), g.h(), g.w(), g.k(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(), g.dh(), g.dw(),
                    g.groups(), g.oh(), g.ow()};
            var r = assertThrows(RuntimeException.class, () -> PxNative.pxk_conv_fwd_direct(PxNative.ISA_AVX2, geom, p, p, null, p,
                    0, g.n() + 1, 0, g.k()));
            assertTrue(r.getMessage().contains("not inside a batch"), r.getMessage());
            int[] bad = geom.clone();
            bad[PxNative.CG_OH] = g.oh() + 1;
            r = assertThrows(RuntimeException.class, () -> PxNative.pxk_conv_bwdw_direct(PxNative.ISA_AVX2, bad, p, p, p, 0, 1, 0, 1));
            assertTrue(r.getMessage().contains("output size"), r.getMessage());
            if (PxNative.pxk_conv_isa() < PxNative.ISA_AVX512) {
                r = assertThrows(RuntimeException.class, () -> PxNative.pxk_conv_fwd_direct(PxNative.ISA_AVX512, geom, p, p, null, p,
                        0, 1, 0, 1));
                assertTrue(r.getMessage().contains("not supported by this CPU"), r.getMessage());
            }
        } finally { B.free(p); }
    }
}
