package pxprune.px.methods.px.fused;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import pxprune.kernels.Backends;
import pxprune.kernels.ConvGeometry;
import pxprune.kernels.ConvReference;
import pxprune.kernels.CpuBackend;
import pxprune.kernels.DType;
import pxprune.kernels.Device;

/** CpuPxKernels (the reference for the device kernels) against direct loops over the convolution sum and the byte-gate definitions. */
class CpuPxKernelsTest {
    private static final CpuBackend B = CpuBackend.INSTANCE;
    private static final PxKernels PX = Backends.of(Device.CPU).extension(PxKernels.class);

    static final ConvGeometry[] GEOMETRIES = {
            new ConvGeometry(2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new ConvGeometry(3, 4, 9, 8, 6, 3, 2, 2, 1, 1, 0, 1, 2, 2),
            new ConvGeometry(2, 8, 8, 8, 16, 1, 1, 2, 2, 0, 0, 1, 1, 1),
            new ConvGeometry(1, 10, 1, 1, 7, 1, 1, 1, 1, 0, 0, 1, 1, 1)};

    static double[] random(Random r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = r.nextGaussian();
        return a;
    }

    static double[] bits(Random r, int n, double p) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = r.nextDouble() < p ? 1 : 0;
        return a;
    }

    private static Pointer put(DType t, double[] v) {
        Pointer p = B.allocate((long) v.length * t.size);
        if (t == DType.F64) B.upload(v, p);
        else {
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
            B.upload(f, p);
        }
        return p;
    }

    private static double[] get(DType t, Pointer p, int n) {
        double[] d = new double[n];
        if (t == DType.F64) B.download(p, d);
        else {
            float[] f = new float[n];
            B.download(p, f);
            for (int i = 0; i < n; i++) d[i] = f[i];
        }
        return d;
    }

    static void assertClose(String what, double[] expected, double[] actual, double tol) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = 1e-300, err = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            err = Math.max(err, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(err <= tol * scale, what + ": max error " + err + " > " + tol + " * " + scale);
    }

    @Test void activationConvIsTheMaskConvolutionTimesTheGate() {
        Random r = new Random(1);
        for (ConvGeometry g : GEOMETRIES)
            for (DType mt : new DType[] {DType.F32, DType.F64})
                for (DType gt : new DType[] {null, DType.F32, DType.F64}) {
                    int nx = g.n() * g.c() * g.h() * g.w(), nw = g.k() * g.groupRows(), ny = g.n() * g.k() * g.oh() * g.ow();
                    double[] x = random(r, nx), m = bits(r, nw, 0.7), gate = bits(r, ny, 0.5);
                    double[] expected = ConvReference.conv(g, x, m);
                    if (gt != null) for (int i = 0; i < ny; i++) expected[i] *= gate[i];
                    Pointer px = put(DType.F64, x), pm = put(mt, m), pg = gt == null ? null : put(gt, gate), py = B.allocate(ny * 8L);
                    PX.activationConv(g, px, pm, mt, pg, gt, py);
                    assertClose("A " + g + " mask " + mt + " gate " + gt, expected, get(DType.F64, py, ny), 1e-13);
                    B.free(px); B.free(pm); B.free(py);
                    if (pg != null) B.free(pg);
                }
    }

    @Test void pathKernelsAreTheConvolutionWithSquaredMaskedWeights() {
        Random r = new Random(2);
        for (ConvGeometry g : GEOMETRIES)
            for (DType t : new DType[] {DType.F32, DType.F64})
                for (boolean masked : new boolean[] {false, true}) {
                    int nx = g.n() * g.c() * g.h() * g.w(), nw = g.k() * g.groupRows(), ny = g.n() * g.k() * g.oh() * g.ow();
                    double[] x = random(r, nx), theta = random(r, nw), m = bits(r, nw, 0.6), gy = random(r, ny);
                    if (t == DType.F32) { x = rounded(x); theta = rounded(theta); gy = rounded(gy); }
                    double[] p = new double[nw];
                    for (int i = 0; i < nw; i++) p[i] = Math.pow(theta[i] * (masked ? m[i] : 1), 2);
                    double[] y = ConvReference.conv(g, x, p);
                    double[][] back = ConvReference.convBackward(g, x, p, gy);
                    double[] score = new double[nw];
                    for (int i = 0; i < nw; i++) score[i] = p[i] * back[1][i];
                    Pointer px = put(t, x), pt = put(t, theta), pm = masked ? put(t, m) : null, pgy = put(t, gy);
                    Pointer py = B.allocate((long) ny * t.size), pgx = B.allocate((long) nx * t.size), ps = B.allocate((long) nw * t.size);
                    PX.pathConvForward(t, g, px, pt, pm, py);
                    PX.pathConvBackwardData(t, g, pgy, pt, pm, pgx);
                    PX.pathConvScore(t, g, px, pgy, pt, pm, ps);
                    double tol = t == DType.F32 ? 1e-5 : 1e-13;
                    String what = g + " " + t + (masked ? " masked" : "");
                    assertClose("P forward " + what, y, get(t, py, ny), tol);
                    assertClose("P backward data " + what, back[0], get(t, pgx, nx), tol);
                    double[] s = get(t, ps, nw);
                    assertClose("P score " + what, score, s, tol);
                    // layer-wise conservation: the scores sum to <gy, y>
                    double sum = 0, dot = 0;
                    for (double v : s) sum += v;
                    for (int i = 0; i < ny; i++) dot += gy[i] * y[i];
                    assertEquals(dot, sum, (t == DType.F32 ? 1e-4 : 1e-10) * (Math.abs(dot) + 1), "conservation " + what);
                    for (Pointer q : new Pointer[] {px, pt, pm, pgy, py, pgx, ps}) if (q != null) B.free(q);
                }
    }

    private static double[] rounded(double[] a) {
        double[] b = new double[a.length];
        for (int i = 0; i < a.length; i++) b[i] = (float) a[i];
        return b;
    }

    private static Pointer putBytes(byte[] b) {
        Pointer p = B.allocate(Math.max(1, b.length));
        new BytePointer(p).put(b);
        return p;
    }

    private static byte[] getBytes(Pointer p, int n) {
        byte[] b = new byte[n];
        new BytePointer(p).get(b);
        return b;
    }

    @Test void byteGatesMeanWhatFloatGatesMean() {
        Random r = new Random(3);
        for (ConvGeometry g : GEOMETRIES)
            for (DType mt : new DType[] {DType.F32, DType.F64}) {
                int nx = g.n() * g.c() * g.h() * g.w(), nw = g.k() * g.groupRows(), ny = g.n() * g.k() * g.oh() * g.ow();
                double[] x = random(r, nx), m = bits(r, nw, 0.7), gate = bits(r, ny, 0.5), expected = ConvReference.conv(g, x, m);
                byte[] gb = new byte[ny];
                for (int i = 0; i < ny; i++) { gb[i] = (byte) gate[i]; expected[i] *= gate[i]; }
                Pointer px = put(DType.F64, x), pm = put(mt, m), pg = putBytes(gb), py = B.allocate(ny * 8L);
                PX.activationConvByteGate(g, px, pm, mt, pg, py);
                assertClose("A with byte gate " + g + " mask " + mt, expected, get(DType.F64, py, ny), 1e-13);
                B.free(px); B.free(pm); B.free(pg); B.free(py);
            }
    }

    @Test void reluGateWritesTheReluAndItsGateAndGateMulAppliesIt() {
        Random r = new Random(4);
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            int n = 1001;
            double[] z = rounded(random(r, n));
            z[0] = 0; // 1[z > 0]: zero is closed
            Pointer pz = put(t, z), py = B.allocate((long) n * t.size), pg = B.allocate(n);
            PX.reluGate(t, n, pz, py, pg);
            double[] y = get(t, py, n);
            byte[] g = getBytes(pg, n);
            for (int i = 0; i < n; i++) {
                assertEquals(z[i] > 0 ? 1 : 0, g[i], "gate " + i + " of " + z[i]);
                assertEquals(Math.max(z[i], 0), y[i], 0, "relu " + i);
            }
            PX.reluGate(t, n, pz, pz, pg); // in place
            assertClose("reluGate in place " + t, y, get(t, pz, n), 0);
            double[] a = random(r, n);
            Pointer pa = put(DType.F64, a), po = B.allocate(n * 8L);
            PX.gateMul(n, pa, pg, po);
            double[] o = get(DType.F64, po, n);
            for (int i = 0; i < n; i++) assertEquals(g[i] == 1 ? a[i] : 0, o[i], 0, "gateMul " + i);
            for (Pointer q : new Pointer[] {pz, py, pg, pa, po}) B.free(q);
        }
    }

    /**
     * the native byte-gate kernels in both types, on the threaded path too (n above the kernels' threading
     * threshold): reluGate's output is bit for bit the ReLU of Backend.unary (NaN, -0 and -inf give +0 and a
     * closed gate), and gateMul(t) keeps z where the gate is open and writes +0 where it is closed, in place too
     */
    @Test void byteGateKernelsMatchTheReluBitForBitInBothTypes() {
        Random r = new Random(6);
        for (DType t : new DType[] {DType.F32, DType.F64})
            for (int n : new int[] {1, 7, 40_000}) {
                double[] z = random(r, n);
                if (n > 4) { z[1] = Double.NaN; z[2] = -0.0; z[3] = Double.NEGATIVE_INFINITY; z[4] = Double.POSITIVE_INFINITY; }
                Pointer pz = put(t, z), py = B.allocate((long) n * t.size), pg = B.allocate(n), pr = B.allocate((long) n * t.size);
                PX.reluGate(t, n, pz, py, pg);
                B.unary(t, pxprune.kernels.OpCodes.U_RELU, pz, n, 0, 0, pr);
                double[] y = get(t, py, n), relu = get(t, pr, n);
                byte[] g = getBytes(pg, n);
                for (int i = 0; i < n; i++) {
                    assertEquals(Double.doubleToRawLongBits(relu[i]), Double.doubleToRawLongBits(y[i]), t + " relu " + i + " of " + z[i]);
                    assertEquals(z[i] > 0 ? 1 : 0, g[i], t + " gate " + i + " of " + z[i]);
                }
                double[] a = random(r, n);
                if (n > 4) a[4] = Double.POSITIVE_INFINITY;
                Pointer pa = put(t, a), po = B.allocate((long) n * t.size);
                PX.gateMul(t, n, pa, pg, po);
                double[] o = get(t, po, n), ar = get(t, pa, n);
                for (int i = 0; i < n; i++)
                    assertEquals(Double.doubleToRawLongBits(g[i] == 1 ? ar[i] : 0.0), Double.doubleToRawLongBits(o[i]), t + " gateMul " + i);
                PX.gateMul(t, n, pa, pg, pa); // in place
                double[] inPlace = get(t, pa, n);
                for (int i = 0; i < n; i++)
                    assertEquals(Double.doubleToRawLongBits(o[i]), Double.doubleToRawLongBits(inPlace[i]), t + " gateMul in place " + i);
                for (Pointer q : new Pointer[] {pz, py, pg, pr, pa, po}) B.free(q);
            }
    }

    @Test void gateMulRefusesIntegerTypes() {
        Pointer p = B.allocate(16), g = B.allocate(4);
        try {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> PX.gateMul(DType.I32, 4, p, g, p));
            assertTrue(e.getMessage().contains("gateMul"), e.getMessage());
        } finally { B.free(p); B.free(g); }
    }

    @Test void pathKernelsReadFloat32WeightsUnderFloat64Signals() {
        Random r = new Random(5);
        for (ConvGeometry g : GEOMETRIES)
            for (boolean masked : new boolean[] {false, true}) {
                int nx = g.n() * g.c() * g.h() * g.w(), nw = g.k() * g.groupRows(), ny = g.n() * g.k() * g.oh() * g.ow();
                double[] x = random(r, nx), theta = rounded(random(r, nw)), m = bits(r, nw, 0.6), gy = random(r, ny);
                Pointer px = put(DType.F64, x), pgy = put(DType.F64, gy);
                Pointer t32 = put(DType.F32, theta), m32 = masked ? put(DType.F32, m) : null;
                Pointer t64 = put(DType.F64, theta), m64 = masked ? put(DType.F64, m) : null;
                Pointer[] out = new Pointer[6];
                for (int i = 0; i < 2; i++) {
                    out[3 * i] = B.allocate(ny * 8L);
                    out[3 * i + 1] = B.allocate(nx * 8L);
                    out[3 * i + 2] = B.allocate(nw * 8L);
                }
                PX.pathConvForward(DType.F64, DType.F32, g, px, t32, m32, out[0]);
                PX.pathConvBackwardData(DType.F64, DType.F32, g, pgy, t32, m32, out[1]);
                PX.pathConvScore(DType.F64, DType.F32, g, px, pgy, t32, m32, out[2]);
                PX.pathConvForward(DType.F64, g, px, t64, m64, out[3]);
                PX.pathConvBackwardData(DType.F64, g, pgy, t64, m64, out[4]);
                PX.pathConvScore(DType.F64, g, px, pgy, t64, m64, out[5]);
                String what = g + (masked ? " masked" : "");
                assertClose("P forward F64/F32 " + what, get(DType.F64, out[3], ny), get(DType.F64, out[0], ny), 0);
                assertClose("P backward data F64/F32 " + what, get(DType.F64, out[4], nx), get(DType.F64, out[1], nx), 0);
                assertClose("P score F64/F32 " + what, get(DType.F64, out[5], nw), get(DType.F64, out[2], nw), 0);
                for (Pointer q : new Pointer[] {px, pgy, t32, m32, t64, m64}) if (q != null) B.free(q);
                for (Pointer q : out) B.free(q);
            }
        try {
            PX.pathConvForward(DType.F32, DType.F64, GEOMETRIES[0], null, null, null, null);
            throw new AssertionError("F32 signals with F64 weights must be refused");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("(F64, F32)"), e.getMessage());
        }
    }
}
