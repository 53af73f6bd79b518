package pxprune.kernels.cuda;

import pxprune.kernels.CudaTest;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pxprune.jni.PxNative.*;

import java.util.Arrays;
import java.util.Random;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import pxprune.kernels.Backend;
import pxprune.kernels.Backends;
import pxprune.kernels.ConvGeometry;
import pxprune.kernels.CpuBackend;
import pxprune.kernels.DType;
import pxprune.kernels.Device;
import pxprune.kernels.PoolGeometry;

/**
 * Kernel-logic test: every Backend method on whatever CUDA backend loads (a GPU, or the CPU emulation
 * of the driver in src/test/emulator) against the CPU backend, on random inputs, to 1e-5 relative
 * (float32; 1e-12 for float64) of the largest magnitude. Skipped where the CUDA backend is unavailable.
 */
@CudaTest
class CudaBackendKernelLogicTest {
    static final Backend CPU = CpuBackend.INSTANCE;
    static final DType[] TYPES = {DType.F32, DType.F64};
    static Backend gpu;

    @BeforeAll static void device() {
        gpu = Backends.of(Device.CUDA);
        System.out.println("CUDA backend: " + ((CudaBackend) gpu).describe());
    }

    static final ConvGeometry[] CONVS = {
            new ConvGeometry(2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1),
            new ConvGeometry(3, 4, 9, 8, 6, 3, 2, 2, 1, 1, 0, 1, 2, 2),
            new ConvGeometry(2, 8, 8, 8, 16, 1, 1, 2, 2, 0, 0, 1, 1, 1),
            new ConvGeometry(2, 4, 6, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4),
            new ConvGeometry(5, 16, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1)};

    private static Pair pair(DType t, int n) { return new Pair(gpu, t, n); }

    private static Pair normal(DType t, int n, Random r) { return Pair.normal(gpu, t, n, r); }

    private static Pair uniform(DType t, int n, Random r, double lo, double hi) { return Pair.uniform(gpu, t, n, r, lo, hi); }

    private static Pointer off(Pointer p, long bytes) { return new Pointer(p).position(p.position() + bytes); }

    // ------------------------------------------------------------------ memory

    @Test void memory() {
        Random r = new Random(1);
        Pointer u = gpu.allocateUninitialized(64);
        gpu.upload(new float[16], u);
        gpu.free(u);
        Pointer z = gpu.allocate(40);
        float[] f = new float[10];
        Arrays.fill(f, 7);
        gpu.download(z, f);
        assertArrayEquals(new float[10], f, "allocate zero-fills");
        gpu.free(z);

        float[] fs = new float[1000];
        for (int i = 0; i < fs.length; i++) fs[i] = (float) r.nextGaussian();
        double[] ds = r.doubles(777).toArray();
        int[] is = r.ints(333).toArray();
        Pointer pf = gpu.allocate(4000), pd = gpu.allocate(777 * 8), pi = gpu.allocate(333 * 4);
        gpu.upload(fs, pf);
        gpu.upload(ds, pd);
        gpu.upload(is, pi);
        float[] fb = new float[1000];
        double[] db = new double[777];
        int[] ib = new int[333];
        gpu.download(pf, fb);
        gpu.download(pd, db);
        gpu.download(pi, ib);
        assertArrayEquals(fs, fb);
        assertArrayEquals(ds, db);
        assertArrayEquals(is, ib);

        // byte-positioned views: copy 24 bytes from float 2 to float 10, zero floats 100..109
        gpu.copy(off(pf, 8), off(pf, 40), 24);
        gpu.zero(off(pf, 400), 40);
        System.arraycopy(fs, 2, fs, 10, 6);
        Arrays.fill(fs, 100, 110, 0f);
        gpu.download(pf, fb);
        assertArrayEquals(fs, fb, "copy/zero through positioned pointers");
        float[] part = new float[5];
        gpu.upload(new float[] {1, 2, 3, 4, 5}, off(pf, 4 * 500));
        gpu.download(off(pf, 4 * 498), part);
        assertArrayEquals(new float[] {fs[498], fs[499], 1, 2, 3}, part, "upload/download at an offset");
        gpu.free(pf); gpu.free(pd); gpu.free(pi);
    }

    // ------------------------------------------------------------------ gemm, convolution

    @Test void gemm() {
        Random r = new Random(2);
        int m = 37, n = 29, k = 53;
        for (DType t : TYPES)
            for (boolean ta : new boolean[] {false, true})
                for (boolean tb : new boolean[] {false, true})
                    for (double beta : new double[] {0, 0.3}) {
                        int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
                        try (Pair a = normal(t, (ta ? k : m) * lda, r); Pair b = normal(t, (tb ? n : k) * ldb, r);
                             Pair c = normal(t, m * ldc, r)) {
                            CPU.gemm(t, ta, tb, m, n, k, 0.7, a.c, lda, b.c, ldb, beta, c.c, ldc);
                            gpu.gemm(t, ta, tb, m, n, k, 0.7, a.d, lda, b.d, ldb, beta, c.d, ldc);
                            c.assertSame("gemm " + t + " transA=" + ta + " transB=" + tb + " beta=" + beta);
                        }
                    }
    }

    /** pxprune's own gemm kernel, used where cuBLAS is absent */
    @Test void ownGemm() {
        Random r = new Random(15);
        int[][] sizes = {{37, 29, 53}, {64, 64, 16}, {130, 70, 200}, {1, 5, 3}, {5, 1, 0}};
        for (DType t : TYPES)
            for (int[] s : sizes)
                for (boolean ta : new boolean[] {false, true})
                    for (boolean tb : new boolean[] {false, true})
                        for (double beta : new double[] {0, 0.3}) {
                            int m = s[0], n = s[1], k = s[2], lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2, ldc = n + 3;
                            try (Pair a = normal(t, Math.max(1, (ta ? k : m) * lda), r); Pair b = normal(t, Math.max(1, (tb ? n : k) * ldb), r);
                                 Pair c = normal(t, m * ldc, r)) {
                                CPU.gemm(t, ta, tb, m, n, k, 0.7, a.c, lda, b.c, ldb, beta, c.c, ldc);
                                ((CudaBackend) gpu).ownGemm(t, ta, tb, m, n, k, 0.7, a.d, lda, b.d, ldb, beta, c.d, ldc);
                                c.assertSame("own gemm " + t + " " + Arrays.toString(s) + " transA=" + ta + " transB=" + tb + " beta=" + beta);
                            }
                        }
    }

    @Test void convolution() {
        Random r = new Random(3);
        for (DType t : TYPES)
            for (ConvGeometry g : CONVS)
                for (boolean bias : new boolean[] {false, true}) {
                    int nx = g.n() * g.c() * g.h() * g.w(), nw = g.k() * g.groupRows(), ny = g.n() * g.k() * g.oh() * g.ow();
                    try (Pair x = normal(t, nx, r); Pair w = normal(t, nw, r); Pair b = normal(t, g.k(), r);
                         Pair y = pair(t, ny); Pair gy = normal(t, ny, r); Pair gx = normal(t, nx, r); Pair gw = normal(t, nw, r)) {
                        String what = g + " " + t;
                        CPU.conv2dForward(t, g, x.c, w.c, bias ? b.c : null, y.c);
                        gpu.conv2dForward(t, g, x.d, w.d, bias ? b.d : null, y.d);
                        y.assertSame("conv2dForward " + what + (bias ? " bias" : ""));
                        if (bias) continue;
                        CPU.conv2dBackwardData(t, g, gy.c, w.c, gx.c);
                        gpu.conv2dBackwardData(t, g, gy.d, w.d, gx.d);
                        gx.assertSame("conv2dBackwardData " + what);
                        CPU.conv2dBackwardWeight(t, g, x.c, gy.c, gw.c);
                        gpu.conv2dBackwardWeight(t, g, x.d, gy.d, gw.d);
                        gw.assertSame("conv2dBackwardWeight " + what);
                    }
                }
    }

    // ------------------------------------------------------------------ normalization

    @Test void batchNorm() {
        Random r = new Random(4);
        int n = 4, c = 5, s = 37, total = n * c * s;
        for (DType t : TYPES)
            for (boolean affine : new boolean[] {false, true})
                for (boolean running : new boolean[] {false, true}) {
                    String what = t + (affine ? " affine" : "") + (running ? " running" : "");
                    try (Pair x = uniform(t, total, r, 2, 4); Pair gamma = uniform(t, c, r, 0.5, 1.5); Pair beta = normal(t, c, r);
                         Pair rm = normal(t, c, r); Pair rv = uniform(t, c, r, 0.5, 2); Pair y = pair(t, total);
                         Pair mean = pair(t, c); Pair invstd = pair(t, c)) {
                        CPU.batchNormTrainForward(t, n, c, s, x.c, affine ? gamma.c : null, affine ? beta.c : null, 1e-5, 0.1,
                                running ? rm.c : null, running ? rv.c : null, y.c, mean.c, invstd.c);
                        gpu.batchNormTrainForward(t, n, c, s, x.d, affine ? gamma.d : null, affine ? beta.d : null, 1e-5, 0.1,
                                running ? rm.d : null, running ? rv.d : null, y.d, mean.d, invstd.d);
                        y.assertSame("bn forward y " + what);
                        mean.assertSame("bn forward mean " + what);
                        invstd.assertSame("bn forward invstd " + what);
                        rm.assertSame("bn running mean " + what);
                        rv.assertSame("bn running var " + what);
                        for (int outputs = 0; outputs < 3; outputs++)
                            try (Pair gy = normal(t, total, r); Pair gx = normal(t, total, r); Pair dg = normal(t, c, r);
                                 Pair db = normal(t, c, r)) {
                                boolean wantGx = outputs != 1, wantParams = outputs != 2;
                                CPU.batchNormTrainBackward(t, n, c, s, x.c, gy.c, mean.c, invstd.c, affine ? gamma.c : null,
                                        wantGx ? gx.c : null, wantParams ? dg.c : null, wantParams ? db.c : null);
                                gpu.batchNormTrainBackward(t, n, c, s, x.d, gy.d, mean.d, invstd.d, affine ? gamma.d : null,
                                        wantGx ? gx.d : null, wantParams ? dg.d : null, wantParams ? db.d : null);
                                gx.assertSame("bn backward gx " + what + " outputs " + outputs);
                                dg.assertSame("bn backward dgamma " + what + " outputs " + outputs);
                                db.assertSame("bn backward dbeta " + what + " outputs " + outputs);
                            }
                    }
                }
    }

    @Test void channelAffineAndSums() {
        Random r = new Random(5);
        int n = 3, c = 6, s = 50, total = n * c * s;
        for (DType t : TYPES) {
            try (Pair x = normal(t, total, r); Pair scale = normal(t, c, r); Pair shift = normal(t, c, r); Pair y = normal(t, total, r);
                 Pair b = normal(t, total, r); Pair out = normal(t, c, r)) {
                for (int mode = 0; mode < 4; mode++) {
                    Pointer sc = (mode & 1) != 0 ? scale.c : null, sd = (mode & 1) != 0 ? scale.d : null;
                    Pointer hc = (mode & 2) != 0 ? shift.c : null, hd = (mode & 2) != 0 ? shift.d : null;
                    CPU.channelAffine(t, n, c, s, x.c, sc, hc, y.c);
                    gpu.channelAffine(t, n, c, s, x.d, sd, hd, y.d);
                    y.assertSame("channelAffine " + t + " mode " + mode);
                }
                CPU.channelAffine(t, n, c, s, y.c, scale.c, shift.c, y.c);
                gpu.channelAffine(t, n, c, s, y.d, scale.d, shift.d, y.d);
                y.assertSame("channelAffine in place " + t);
                for (boolean withB : new boolean[] {false, true}) {
                    CPU.channelSums(t, n, c, s, x.c, withB ? b.c : null, out.c);
                    gpu.channelSums(t, n, c, s, x.d, withB ? b.d : null, out.d);
                    out.assertSame("channelSums " + t + (withB ? " a*b" : ""));
                }
            }
        }
    }

    // ------------------------------------------------------------------ pooling

    @Test void maxPool() {
        Random r = new Random(6);
        int nc = 6, h = 9, w = 8;
        int[][] cases = {{3, 3, 2, 2, 1, 1}, {2, 2, 2, 2, 0, 0}, {3, 3, 1, 1, 1, 1}, {3, 2, 2, 1, 1, 0}};
        for (DType t : TYPES)
            for (int[] k : cases) {
                int oh = (h + 2 * k[4] - k[0]) / k[2] + 1, ow = (w + 2 * k[5] - k[1]) / k[3] + 1;
                String what = t + " " + Arrays.toString(k);
                try (Pair x = normal(t, nc * h * w, r); Pair y = pair(t, nc * oh * ow); Pair idx = new Pair(gpu, DType.I32, nc * oh * ow)) {
                    if (k[0] == 3 && k[2] == 1) { // a NaN and a tie-free run elsewhere
                        double[] v = x.cpu();
                        v[17] = Double.NaN;
                        x.set(v);
                    }
                    PoolGeometry pg = new PoolGeometry(2, nc / 2, h, w, k[0], k[1], k[2], k[3], k[4], k[5]);
                    assertEquals(oh, pg.oh());
                    assertEquals(ow, pg.ow());
                    CPU.maxPoolForward(t, pg, x.c, y.c, idx.c);
                    gpu.maxPoolForward(t, pg, x.d, y.d, idx.d);
                    y.assertSame("maxPoolForward " + what);
                    idx.assertSame("maxPoolForward indices " + what);
                    // scatter and gather through the same (CPU) indices on both
                    int[] ix = new int[nc * oh * ow];
                    CPU.download(idx.c, ix);
                    try (Pair id = Pair.ofInts(gpu, ix); Pair gy = normal(t, nc * oh * ow, r); Pair gx = normal(t, nc * h * w, r);
                         Pair g = normal(t, nc * h * w, r); Pair out = pair(t, nc * oh * ow)) {
                        CPU.poolScatter(t, nc, h * w, oh * ow, gy.c, id.c, gx.c);
                        gpu.poolScatter(t, nc, h * w, oh * ow, gy.d, id.d, gx.d);
                        gx.assertSame("poolScatter " + what);
                        CPU.poolGather(t, nc, h * w, oh * ow, g.c, id.c, out.c);
                        gpu.poolGather(t, nc, h * w, oh * ow, g.d, id.d, out.d);
                        out.assertSame("poolGather " + what);
                    }
                }
            }
        // a window wholly in the padding (1x1 kernel, padding 1: the border sees no input) has no geometry, so neither backend sees it
        RuntimeException e = assertThrows(RuntimeException.class, () -> new PoolGeometry(1, 1, 3, 3, 1, 1, 1, 1, 1, 1));
        assertTrue(e.getMessage().contains("wholly in the padding"), e.getMessage());
        // and index -1 (no input in the window) neither adds nor reads out of bounds on the device
        try (Pair id = Pair.ofInts(gpu, new int[] {-1, 0}); Pair gy = pair(DType.F32, 2); Pair gx = pair(DType.F32, 4);
             Pair out = pair(DType.F32, 2)) {
            gy.set(new double[] {5, 7});
            gx.set(new double[] {0, 0, 0, 0});
            gpu.poolScatter(DType.F32, 1, 4, 2, gy.d, id.d, gx.d);
            assertArrayEquals(new double[] {7, 0, 0, 0}, gx.device());
            gx.set(new double[] {3, 1, 1, 1});
            gpu.poolGather(DType.F32, 1, 4, 2, gx.d, id.d, out.d);
            assertArrayEquals(new double[] {0, 3}, out.device());
        }
    }

    @Test void avgPool() {
        Random r = new Random(7);
        int nc = 5, h = 9, w = 8;
        int[][] cases = {{2, 2, 2, 2}, {3, 3, 1, 1}, {3, 3, 2, 2}, {9, 8, 1, 1}, {2, 3, 1, 2}};
        for (DType t : TYPES)
            for (int[] k : cases) {
                int oh = (h - k[0]) / k[2] + 1, ow = (w - k[1]) / k[3] + 1;
                String what = t + " " + Arrays.toString(k);
                try (Pair x = normal(t, nc * h * w, r); Pair y = pair(t, nc * oh * ow); Pair gy = normal(t, nc * oh * ow, r);
                     Pair gx = normal(t, nc * h * w, r)) {
                    PoolGeometry g = new PoolGeometry(1, nc, h, w, k[0], k[1], k[2], k[3], 0, 0);
                    assertEquals(oh, g.oh());
                    assertEquals(ow, g.ow());
                    CPU.avgPoolForward(t, g, x.c, y.c);
                    gpu.avgPoolForward(t, g, x.d, y.d);
                    y.assertSame("avgPoolForward " + what);
                    CPU.avgPoolBackward(t, g, gy.c, gx.c);
                    gpu.avgPoolBackward(t, g, gy.d, gx.d);
                    gx.assertSame("avgPoolBackward " + what);
                }
            }
        // average pooling takes no padding: both backends refuse it
        PoolGeometry padded = new PoolGeometry(1, 1, 3, 3, 2, 2, 1, 1, 1, 1);
        try (Pair x = normal(DType.F32, 9, r); Pair y = pair(DType.F32, 16)) {
            for (boolean onGpu : new boolean[] {false, true}) {
                RuntimeException e = assertThrows(RuntimeException.class,
                        () -> (onGpu ? gpu : CPU).avgPoolForward(DType.F32, padded, onGpu ? x.d : x.c, onGpu ? y.d : y.c));
                assertTrue(e.getMessage().contains("takes no padding"), e.getMessage());
            }
        }
    }

    // ------------------------------------------------------------------ elementwise, reductions

    /** element strides of shape s read as the broadcast shape out (as core computes them) */
    static int[] strides(int[] s, int[] out) {
        int[] st = new int[s.length];
        int p = 1;
        for (int d = s.length - 1; d >= 0; d--) { st[d] = p; p *= s[d]; }
        int[] r = new int[out.length];
        int off = out.length - s.length;
        for (int i = 0; i < out.length; i++) r[i] = i < off || s[i - off] == 1 ? 0 : st[i - off];
        return r;
    }

    static int numel(int[] s) { int n = 1; for (int v : s) n *= v; return n; }

    @Test void binary() {
        Random r = new Random(8);
        int[] out = {3, 4, 5};
        int[][][] cases = {{{3, 4, 5}, {3, 4, 5}}, {{3, 4, 5}, {5}}, {{}, {3, 4, 5}}, {{3, 4, 5}, {1, 4, 1}},
                {{3, 1, 5}, {1, 4, 1}}, {{4, 1}, {3, 1, 5}}, {{1, 1, 1}, {3, 4, 5}}};
        for (DType t : TYPES)
            for (int op = 0; op < pxk_binary_ops(); op++) // every op of the table (pxops.h)
                for (int[][] c : cases) {
                    int[] sa = c[0], sb = c[1], shape = broadcast(sa, sb);
                    String what = "binary op " + pxk_binary_op_name(op).getString() + " " + t + " " + Arrays.toString(sa) + " x " + Arrays.toString(sb);
                    try (Pair a = normal(t, numel(sa), r); Pair b = op == B_DIV ? uniform(t, numel(sb), r, 0.5, 2) : normal(t, numel(sb), r);
                         Pair o = pair(t, numel(shape))) {
                        int[] as = strides(sa, shape), bs = strides(sb, shape);
                        CPU.binary(t, op, a.c, as, b.c, bs, shape, o.c);
                        gpu.binary(t, op, a.d, as, b.d, bs, shape, o.d);
                        o.assertSame(what);
                    }
                }
        // in place, contiguous: a = a * b
        for (DType t : TYPES)
            try (Pair a = normal(t, 60, r); Pair b = normal(t, 60, r)) {
                int[] s = {60};
                CPU.binary(t, B_MUL, a.c, new int[] {1}, b.c, new int[] {1}, s, a.c);
                gpu.binary(t, B_MUL, a.d, new int[] {1}, b.d, new int[] {1}, s, a.d);
                a.assertSame("binary in place " + t);
            }
        assertArrayEquals(out, broadcast(new int[] {3, 4, 5}, new int[] {5}));
    }

    static int[] broadcast(int[] a, int[] b) {
        int nd = Math.max(a.length, b.length);
        int[] s = new int[nd];
        for (int i = 0; i < nd; i++) {
            int da = i - (nd - a.length) >= 0 ? a[i - (nd - a.length)] : 1, db = i - (nd - b.length) >= 0 ? b[i - (nd - b.length)] : 1;
            s[i] = Math.max(da, db);
        }
        return s;
    }

    @Test void unary() {
        Random r = new Random(9);
        int n = 1000;
        for (DType t : TYPES)
            for (int op = 0; op < pxk_unary_ops(); op++) { // every op of the table (pxops.h)
                boolean positive = op == U_SQRT || op == U_LOG || op == U_RSQRT || op == U_RECIP;
                try (Pair x = positive ? uniform(t, n, r, 0.1, 3) : normal(t, n, r); Pair y = pair(t, n)) {
                    if (!positive) { double[] v = x.cpu(); v[3] = 0; v[10] = -0.0; x.set(v); }
                    CPU.unary(t, op, x.c, n, 1.5, -0.25, y.c);
                    gpu.unary(t, op, x.d, n, 1.5, -0.25, y.d);
                    y.assertSame("unary op " + pxk_unary_op_name(op).getString() + " " + t);
                }
            }
    }

    @Test void reduceSum() {
        Random r = new Random(10);
        int[][] shapes = {{4, 5, 6, 7}, {4, 5, 6, 7}, {4, 5, 6, 7}, {4, 5, 6, 7}, {4, 5, 6, 7}, {4, 5, 6, 7}, {3, 5000}, {5000, 3}, {1, 9, 1}};
        int[][] reduced = {{0, 1, 2, 3}, {0}, {1, 3}, {3}, {0, 2}, {}, {1}, {1}, {1}};
        for (DType t : TYPES)
            for (int i = 0; i < shapes.length; i++) {
                int[] shape = shapes[i], outShape = shape.clone();
                for (int d : reduced[i]) outShape[d] = 1;
                int[] os = strides(outShape, shape);
                for (int d = 0; d < shape.length; d++) if (outShape[d] == 1) os[d] = 0;
                int outN = numel(outShape);
                try (Pair in = normal(t, numel(shape), r); Pair out = normal(t, outN, r)) {
                    CPU.reduceSum(t, in.c, shape, os, outN, out.c);
                    gpu.reduceSum(t, in.d, shape, os, outN, out.d);
                    out.assertSame("reduceSum " + t + " " + Arrays.toString(shape) + " over " + Arrays.toString(reduced[i]));
                }
            }
    }

    @Test void rows() {
        Random r = new Random(11);
        int rows = 50, k = 10;
        int[] idx = r.ints(rows, 0, k).toArray();
        for (DType t : TYPES)
            try (Pair x = uniform(t, rows * k, r, 95, 105); Pair y = pair(t, rows * k); Pair id = Pair.ofInts(gpu, idx);
                 Pair picked = pair(t, rows); Pair g = normal(t, rows, r); Pair gx = normal(t, rows * k, r)) {
                CPU.logSoftmax(t, rows, k, x.c, y.c);
                gpu.logSoftmax(t, rows, k, x.d, y.d);
                y.assertSame("logSoftmax " + t);
                CPU.pick(t, rows, k, y.c, id.c, picked.c);
                gpu.pick(t, rows, k, y.d, id.d, picked.d);
                picked.assertSame("pick " + t);
                CPU.place(t, rows, k, g.c, id.c, gx.c);
                gpu.place(t, rows, k, g.d, id.d, gx.d);
                gx.assertSame("place " + t);
                CPU.logSoftmax(t, rows, k, x.c, x.c);
                gpu.logSoftmax(t, rows, k, x.d, x.d);
                x.assertSame("logSoftmax in place " + t);
            }
    }

    @Test void permute() {
        Random r = new Random(12);
        int a = 6, b = 4, x = 7;
        for (DType t : TYPES)
            for (int mode = 0; mode < 4; mode++)
                try (Pair in = normal(t, a * b * x, r); Pair bias = normal(t, a, r); Pair gate = Pair.bits(gpu, t, a * b * x, r, 0.5);
                     Pair out = pair(t, a * b * x)) {
                    boolean wb = (mode & 1) != 0, wg = (mode & 2) != 0;
                    CPU.permute(t, a, b, x, in.c, wb ? bias.c : null, wg ? gate.c : null, out.c);
                    gpu.permute(t, a, b, x, in.d, wb ? bias.d : null, wg ? gate.d : null, out.d);
                    out.assertSame("permute " + t + " mode " + mode);
                }
    }

    @Test void sgd() {
        Random r = new Random(13);
        int n = 500;
        double[][] settings = {{0, 0, 0, 0}, {0.9, 0, 0, 5e-4}, {0.9, 0.1, 0, 1e-3}, {0.9, 0, 1, 5e-4}};
        for (DType t : TYPES)
            for (double[] s : settings)
                for (boolean first : new boolean[] {true, false})
                    for (boolean masked : new boolean[] {false, true})
                        try (Pair p = normal(t, n, r); Pair g = normal(t, n, r); Pair buf = normal(t, n, r);
                             Pair mask = Pair.bits(gpu, t, n, r, 0.5)) {
                            if (masked) { // a NaN and an infinity where pruned must still give exactly +0
                                double[] v = mask.cpu(), gv = g.cpu();
                                v[0] = 0; v[1] = 0; v[2] = 0.5;
                                gv[0] = Double.NaN; gv[1] = Double.POSITIVE_INFINITY;
                                mask.set(v);
                                g.set(gv);
                            }
                            String what = "sgd " + t + " " + Arrays.toString(s) + (first ? " first" : "") + (masked ? " masked" : "");
                            for (int step = 0; step < 2; step++) {
                                boolean f = first && step == 0;
                                CPU.sgd(t, n, p.c, g.c, buf.c, masked ? mask.c : null, 0.1, s[0], s[1], s[3], s[2] != 0, f);
                                gpu.sgd(t, n, p.d, g.d, buf.d, masked ? mask.d : null, 0.1, s[0], s[1], s[3], s[2] != 0, f);
                            }
                            p.assertSame(what + ": weights");
                            buf.assertSame(what + ": momentum buffer");
                            if (masked) {
                                double[] m = mask.cpu(), pd = p.device(), bd = buf.device();
                                for (int i = 0; i < n; i++)
                                    if (m[i] == 0) {
                                        assertEquals(0L, Double.doubleToRawLongBits(pd[i]), what + ": pruned weight " + i + " is +0");
                                        if (s[0] != 0) assertEquals(0L, Double.doubleToRawLongBits(bd[i]), what + ": pruned momentum " + i + " is +0");
                                    }
                            }
                        }
    }

    @Test void convert() {
        Random r = new Random(14);
        int n = 300;
        for (DType from : TYPES)
            for (DType to : TYPES)
                try (Pair in = normal(from, n, r); Pair out = pair(to, n)) {
                    CPU.convert(from, in.c, to, out.c, n);
                    gpu.convert(from, in.d, to, out.d, n);
                    out.assertSame("convert " + from + " to " + to, 0);
                }
    }
}
