package pxprune.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.bytedeco.javacpp.Pointer;
import pxprune.kernels.Backend;
import pxprune.kernels.CpuBackend;
import pxprune.kernels.DType;

/** The same buffer on the CPU and on the device, for running an op on both backends and comparing. */
public final class Pair implements AutoCloseable {
    public static final Backend CPU = CpuBackend.INSTANCE;
    public final Backend dev;
    public final DType t;
    public final int n;
    /** the CPU buffer, the device buffer */
    public final Pointer c, d;

    public Pair(Backend dev, DType t, int n) {
        this.dev = dev;
        this.t = t;
        this.n = n;
        c = CPU.allocate((long) Math.max(1, n) * t.size);
        d = dev.allocate((long) Math.max(1, n) * t.size);
    }

    public static Pair of(Backend dev, DType t, double[] v) {
        Pair p = new Pair(dev, t, v.length);
        p.set(v);
        return p;
    }

    public static Pair ofInts(Backend dev, int[] v) {
        Pair p = new Pair(dev, DType.I32, v.length);
        CPU.upload(v, p.c);
        dev.upload(v, p.d);
        return p;
    }

    /** uniform in [lo, hi) */
    public static Pair uniform(Backend dev, DType t, int n, Random r, double lo, double hi) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = lo + (hi - lo) * r.nextDouble();
        return of(dev, t, v);
    }

    public static Pair normal(Backend dev, DType t, int n, Random r) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextGaussian();
        return of(dev, t, v);
    }

    /** 0/1 entries, 1 with probability p */
    public static Pair bits(Backend dev, DType t, int n, Random r, double p) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextDouble() < p ? 1 : 0;
        return of(dev, t, v);
    }

    public void set(double[] v) {
        if (t == DType.F64) {
            CPU.upload(v, c);
            dev.upload(v, d);
        } else {
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
            CPU.upload(f, c);
            dev.upload(f, d);
        }
    }

    public double[] cpu() { return values(CPU, c); }

    public double[] device() { return values(dev, d); }

    private double[] values(Backend b, Pointer p) {
        double[] out = new double[n];
        switch (t) {
            case F64 -> b.download(p, out);
            case F32 -> { float[] f = new float[n]; b.download(p, f); for (int i = 0; i < n; i++) out[i] = f[i]; }
            case I32 -> { int[] f = new int[n]; b.download(p, f); for (int i = 0; i < n; i++) out[i] = f[i]; }
        }
        return out;
    }

    /**
     * the default tolerance of a type: relative to the largest magnitude. float32: the test shapes sum K <= 128
     * products per output (forward: C/groups x kh x kw <= 72; backward filter: N x OH x OW <= 128), and a deterministic
     * direct or GEMM algorithm (the tests' cuDNN policy) rounds such a sum in another order than the CPU by about
     * sqrt(K) * 2^-24 * (the sum of |terms|) ~ 7e-7 * 3 max|y| on normal data, worst case K * 2^-24 ~ 7.6e-6 of the
     * terms; 1e-5 covers both sides' rounding. Winograd and FFT (1e-6 to 1e-4) are outside this bound: the
     * fastest policy is not tested against it. float64: the same with 2^-53.
     */
    public static double tol(DType t) { return t == DType.F64 ? 1e-12 : 1e-5; }

    public void assertSame(String what) { assertSame(what, tol(t)); }

    /** device equals CPU: max |difference| <= tol * max |cpu value| (exactly for I32) */
    public void assertSame(String what, double tol) {
        double[] e = cpu(), a = device();
        if (t == DType.I32) { assertArrayEquals(e, a, what); return; }
        assertClose(what, e, a, tol);
    }

    public static void assertClose(String what, double[] e, double[] a, double tol) {
        assertEquals(e.length, a.length, what + ": length");
        double scale = 1e-300, err = 0;
        int worst = -1;
        for (int i = 0; i < e.length; i++) {
            if (Double.isNaN(e[i]) || Double.isNaN(a[i])) {
                assertTrue(Double.isNaN(e[i]) && Double.isNaN(a[i]), what + ": at " + i + " cpu " + e[i] + ", device " + a[i]);
                continue;
            }
            if (Double.isInfinite(e[i]) || Double.isInfinite(a[i])) {
                assertEquals(e[i], a[i], what + ": at " + i);
                continue;
            }
            scale = Math.max(scale, Math.abs(e[i]));
            double d = Math.abs(e[i] - a[i]);
            if (d > err) { err = d; worst = i; }
        }
        assertTrue(err <= tol * scale, what + ": max |device - cpu| = " + err + " > " + tol + " * " + scale + " at " + worst
                + (worst >= 0 ? " (cpu " + e[worst] + ", device " + a[worst] + ")" : ""));
    }

    @Override public void close() {
        CPU.free(c);
        dev.free(d);
    }
}
