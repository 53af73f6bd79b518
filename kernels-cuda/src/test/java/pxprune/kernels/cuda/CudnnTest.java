package pxprune.kernels.cuda;

import static org.bytedeco.cuda.global.cudnn.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;

import java.util.Random;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import pxprune.kernels.Backend;
import pxprune.kernels.Backends;
import pxprune.kernels.ConvGeometry;
import pxprune.kernels.CpuBackend;
import pxprune.kernels.CudaTest;
import pxprune.kernels.DType;
import pxprune.kernels.Device;

/**
 * cuDNN in the CUDA backend ({@link Cudnn}) against the CPU backend: convolution forward, backward
 * data and backward filter on shapes with strides, padding, dilation, groups and 1x1 windows, float32
 * to 1e-5 and float64 to 1e-12 relative to the largest magnitude; training-mode batch norm forward and
 * backward; the algorithm cache; the fallback paths (im2col + gemm, pxprune's batch-norm kernels); and
 * cuDNN's errors. Where no GPU is present these run against the emulator's cuDNN stand-in
 * (src/test/emulator/emu_cudnn.cpp), which must then be loaded: they check the Java side's use of cuDNN
 * and the stand-in's arithmetic, not a GPU. On a device without cuDNN they are skipped with the reason.
 */
@CudaTest
class CudnnTest {
    static final Backend CPU = CpuBackend.INSTANCE;
    static final DType[] TYPES = {DType.F32, DType.F64};
    static CudaBackend gpu;
    static Cudnn cudnn;
    static boolean emulator;

    @BeforeAll static void load() {
        gpu = (CudaBackend) Backends.of(Device.CUDA);
        emulator = gpu.cuda.deviceName.contains("emulator");
        System.out.println("CUDA backend: " + gpu.describe());
        cudnn = gpu.cuda.cudnn();
        if (cudnn == null) {
            // the emulator builds a cuDNN stand-in, so there its absence is a bug
            assertTrue(!emulator, "the emulator's cuDNN stand-in did not load: " + gpu.cuda.cudnnMissing());
            abort("no cuDNN: " + gpu.cuda.cudnnMissing());
        }
    }

    /** n, c, h, w, k, kh, kw, sh, sw, ph, pw, dh, dw, groups */
    static final ConvGeometry[] SHAPES = {
            new ConvGeometry(2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1),   // 3x3 same
            new ConvGeometry(2, 4, 9, 7, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1),   // stride 2, odd sizes
            new ConvGeometry(1, 4, 10, 9, 4, 3, 2, 1, 2, 2, 0, 2, 1, 1),  // dilation, non-square window
            new ConvGeometry(2, 8, 6, 6, 16, 1, 1, 1, 1, 0, 0, 1, 1, 1),  // 1x1
            new ConvGeometry(2, 8, 8, 8, 8, 1, 1, 2, 2, 0, 0, 1, 1, 1),   // 1x1 stride 2 (ResNet shortcut)
            new ConvGeometry(2, 6, 7, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 3),   // groups 3
            new ConvGeometry(2, 4, 6, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4),   // depthwise
            new ConvGeometry(3, 4, 9, 8, 6, 3, 2, 2, 1, 1, 0, 1, 2, 2),   // groups, stride, dilation mixed
            new ConvGeometry(1, 2, 5, 5, 3, 5, 5, 1, 1, 2, 2, 1, 1, 1),   // window as large as the input
            new ConvGeometry(2, 3, 4, 4, 2, 3, 3, 3, 3, 2, 2, 2, 2, 1),   // padding > 1, stride 3, dilation 2
            new ConvGeometry(4, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1)}; // a ResNet-20 layer, small

    static int nx(ConvGeometry g) { return g.n() * g.c() * g.h() * g.w(); }
    static int nw(ConvGeometry g) { return g.k() * g.groupRows(); }
    static int ny(ConvGeometry g) { return g.n() * g.k() * g.oh() * g.ow(); }

    private static Pair normal(DType t, int n, Random r) { return Pair.normal(gpu, t, n, r); }

    /** cuDNN's three directions (called on Cudnn itself) against the CPU, with and without bias */
    @Test void convolutionMatchesCpu() {
        Random r = new Random(21);
        for (DType t : TYPES)
            for (ConvGeometry g : SHAPES)
                try (Pair x = normal(t, nx(g), r); Pair w = normal(t, nw(g), r); Pair b = normal(t, g.k(), r);
                     Pair y = normal(t, ny(g), r); Pair gy = normal(t, ny(g), r); Pair gx = normal(t, nx(g), r);
                     Pair gw = normal(t, nw(g), r)) {
                    String what = g + " " + t;
                    CPU.conv2dForward(t, g, x.c, w.c, null, y.c);
                    cudnn.forward(t, g, x.d, w.d, null, y.d);
                    y.assertSame("cuDNN forward " + what);
                    CPU.conv2dForward(t, g, x.c, w.c, b.c, y.c);
                    cudnn.forward(t, g, x.d, w.d, b.d, y.d);
                    y.assertSame("cuDNN forward + bias " + what);
                    CPU.conv2dBackwardData(t, g, gy.c, w.c, gx.c);
                    cudnn.backwardData(t, g, gy.d, w.d, gx.d);
                    gx.assertSame("cuDNN backward data " + what);
                    CPU.conv2dBackwardWeight(t, g, x.c, gy.c, gw.c);
                    cudnn.backwardFilter(t, g, x.d, gy.d, gw.d);
                    gw.assertSame("cuDNN backward filter " + what);
                }
    }

    /** the Backend methods go to cuDNN unless -Dpxprune.cuda.conv=gemm */
    @Test void backendRoutesConvolutionToCudnn() {
        ConvGeometry g = new ConvGeometry(1, 2, 5, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        Random r = new Random(22);
        try (Pair x = normal(DType.F32, nx(g), r); Pair w = normal(DType.F32, nw(g), r); Pair y = normal(DType.F32, ny(g), r)) {
            long before = cudnn.searches() + cudnn.hits();
            CPU.conv2dForward(DType.F32, g, x.c, w.c, null, y.c);
            gpu.conv2dForward(DType.F32, g, x.d, w.d, null, y.d);
            y.assertSame("backend conv2dForward");
            long calls = cudnn.searches() + cudnn.hits() - before;
            assertEquals("gemm".equals(gpu.cuda.convChoice) ? 0 : 1, calls, "cuDNN calls by conv2dForward");
        }
        String d = gpu.describe();
        assertTrue(d.contains("conv: " + ("gemm".equals(gpu.cuda.convChoice) ? "im2col+gemm (-Dpxprune.cuda.conv=gemm)" : "cuDNN 9.")), d);
        assertTrue(d.contains("batch norm: " + ("own".equals(gpu.cuda.bnChoice) ? "pxprune's kernels (-Dpxprune.cuda.bn=own)" : "cuDNN 9.")), d);
    }

    /** the algorithm is searched once per (shape, dtype, direction), then taken from the cache */
    @Test void algorithmCacheHitsOnTheSecondCall() {
        ConvGeometry g = new ConvGeometry(1, 3, 6, 6, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1); // used by no other test
        Random r = new Random(23);
        for (DType t : TYPES)
            try (Pair x = normal(t, nx(g), r); Pair w = normal(t, nw(g), r); Pair y = normal(t, ny(g), r);
                 Pair gy = normal(t, ny(g), r); Pair gx = normal(t, nx(g), r); Pair gw = normal(t, nw(g), r)) {
                for (int direction = 0; direction < 3; direction++) {
                    assertEquals(null, cudnn.chosen(g, t, direction), "no algorithm before the first call");
                    for (int call = 0; call < 2; call++) {
                        long s = cudnn.searches(), h = cudnn.hits();
                        switch (direction) {
                            case 0 -> cudnn.forward(t, g, x.d, w.d, null, y.d);
                            case 1 -> cudnn.backwardData(t, g, gy.d, w.d, gx.d);
                            default -> cudnn.backwardFilter(t, g, x.d, gy.d, gw.d);
                        }
                        assertEquals(call == 0 ? 1 : 0, cudnn.searches() - s, t + " direction " + direction + " call " + call + ": searches");
                        assertEquals(call == 0 ? 0 : 1, cudnn.hits() - h, t + " direction " + direction + " call " + call + ": hits");
                    }
                    Cudnn.Algo a = cudnn.chosen(g, t, direction);
                    assertNotNull(a);
                    assertTrue(a.how().startsWith(cudnn.find ? "cudnnFind" : "cudnnGet"), "chosen by " + (cudnn.find ? "Find: " : "the heuristic: ") + a);
                    // the stand-in "times" the im2col-in-the-workspace algorithm fastest for a 3x3 window; its heuristic prefers algorithm 0
                    if (emulator) assertEquals(cudnn.find, a.algo() != 0 && a.workspace() > 0, "the stand-in's choice: " + a);
                }
                // the results are right after the search too (Find leaves the output undefined)
                CPU.conv2dForward(t, g, x.c, w.c, null, y.c);
                y.assertSame("forward after the search " + t);
            }
        if (emulator) { // 1x1: algorithm 0, no workspace
            ConvGeometry one = new ConvGeometry(1, 4, 3, 3, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1);
            try (Pair x = normal(DType.F32, nx(one), r); Pair w = normal(DType.F32, nw(one), r); Pair y = normal(DType.F32, ny(one), r)) {
                cudnn.forward(DType.F32, one, x.d, w.d, null, y.d);
                assertEquals(new Cudnn.Algo(0, 0, cudnn.find ? "cudnnFindConvolutionForwardAlgorithmEx" : "cudnnGetConvolutionForwardAlgorithm_v7"),
                        cudnn.chosen(one, DType.F32, 0));
            }
        }
    }

    /** threads get handles of their own; a shape first used by several threads at once is searched once */
    @Test void threadsShareTheCacheNotTheHandle() throws Exception {
        ConvGeometry g = new ConvGeometry(2, 4, 5, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1); // used by no other test
        Random r = new Random(27);
        int threads = 4;
        Pair x = normal(DType.F64, nx(g), r), w = normal(DType.F64, nw(g), r);
        Pair[] ys = new Pair[threads];
        long[] handles = new long[threads];
        try {
            for (int i = 0; i < threads; i++) ys[i] = normal(DType.F64, ny(g), r);
            long searches = cudnn.searches();
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(threads);
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
            try {
                java.util.List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    int id = i;
                    done.add(pool.submit(() -> {
                        handles[id] = cudnn.handle().address();
                        start.await();
                        cudnn.forward(DType.F64, g, x.d, w.d, null, ys[id].d);
                        gpu.synchronize(); // the work is on this thread's stream; the test thread reads ys after
                        return null;
                    }));
                }
                for (java.util.concurrent.Future<?> f : done) f.get();
            } finally {
                pool.shutdown();
            }
            assertEquals(1, cudnn.searches() - searches, "one search for the shape");
            assertEquals(threads, java.util.Arrays.stream(handles).distinct().count(), "a handle per thread");
            assertTrue(java.util.Arrays.stream(handles).noneMatch(h -> h == cudnn.handle().address()), "not the test thread's");
            CPU.conv2dForward(DType.F64, g, x.c, w.c, null, ys[0].c);
            double[] expected = ys[0].cpu();
            for (Pair y : ys) Pair.assertClose("forward on another thread", expected, y.device(), 1e-12);
        } finally {
            x.close();
            w.close();
            for (Pair y : ys) if (y != null) y.close();
        }
    }

    /** im2col + gemm, the path without cuDNN, on the same shapes */
    @Test void gemmFallbackMatchesCpu() {
        Random r = new Random(24);
        for (DType t : TYPES)
            for (ConvGeometry g : SHAPES)
                try (Pair x = normal(t, nx(g), r); Pair w = normal(t, nw(g), r); Pair b = normal(t, g.k(), r);
                     Pair y = normal(t, ny(g), r); Pair gy = normal(t, ny(g), r); Pair gx = normal(t, nx(g), r);
                     Pair gw = normal(t, nw(g), r)) {
                    String what = g + " " + t;
                    CPU.conv2dForward(t, g, x.c, w.c, b.c, y.c);
                    gpu.gemmConv2dForward(t, g, x.d, w.d, b.d, y.d);
                    y.assertSame("im2col+gemm forward " + what);
                    CPU.conv2dBackwardData(t, g, gy.c, w.c, gx.c);
                    gpu.gemmConv2dBackwardData(t, g, gy.d, w.d, gx.d);
                    gx.assertSame("gemm+col2im backward data " + what);
                    CPU.conv2dBackwardWeight(t, g, x.c, gy.c, gw.c);
                    gpu.gemmConv2dBackwardWeight(t, g, x.d, gy.d, gw.d);
                    gw.assertSame("im2col+gemm backward weight " + what);
                }
    }

    // ------------------------------------------------------------------ batch norm

    /** n, c, s: images, channels, spatial size (s = 1: BatchNorm1d on [N, C]) */
    static final int[][] BN_SHAPES = {{4, 5, 37}, {6, 3, 1}, {8, 16, 16}, {1, 4, 9}};

    interface BnForward { void run(Backend b, DType t, int n, int c, long s, Pointer x, Pointer gamma, Pointer beta, double eps,
                                   double momentum, Pointer rm, Pointer rv, Pointer y, Pointer mean, Pointer invstd); }

    interface BnBackward { void run(Backend b, DType t, int n, int c, long s, Pointer x, Pointer gy, Pointer mean, Pointer invstd,
                                    Pointer gamma, Pointer gx, Pointer dgamma, Pointer dbeta); }

    /** forward (affine or not; running statistics both, none, or only one) and backward (every subset of outputs) vs CPU */
    static void batchNorm(String path, BnForward fwd, BnBackward bwd) {
        Random r = new Random(25);
        for (DType t : TYPES)
            for (int[] sh : BN_SHAPES)
                for (boolean affine : new boolean[] {false, true})
                    for (int running = 0; running < 4; running++) { // bit 0: running mean, bit 1: running var
                        int n = sh[0], c = sh[1], s = sh[2], total = n * c * s;
                        boolean withMean = (running & 1) != 0, withVar = (running & 2) != 0;
                        String what = path + " " + t + " [" + n + ", " + c + ", " + s + "]" + (affine ? " affine" : "")
                                + " running " + running;
                        try (Pair x = Pair.uniform(gpu, t, total, r, 2, 4); Pair gamma = Pair.uniform(gpu, t, c, r, 0.5, 1.5);
                             Pair beta = normal(t, c, r); Pair rm = normal(t, c, r); Pair rv = Pair.uniform(gpu, t, c, r, 0.5, 2);
                             Pair y = normal(t, total, r); Pair mean = normal(t, c, r); Pair invstd = normal(t, c, r)) {
                            CPU.batchNormTrainForward(t, n, c, s, x.c, affine ? gamma.c : null, affine ? beta.c : null, 1e-5, 0.1,
                                    withMean ? rm.c : null, withVar ? rv.c : null, y.c, mean.c, invstd.c);
                            fwd.run(gpu, t, n, c, s, x.d, affine ? gamma.d : null, affine ? beta.d : null, 1e-5, 0.1,
                                    withMean ? rm.d : null, withVar ? rv.d : null, y.d, mean.d, invstd.d);
                            y.assertSame(what + ": y");
                            mean.assertSame(what + ": saved mean");
                            invstd.assertSame(what + ": saved invstd");
                            rm.assertSame(what + ": running mean");
                            rv.assertSame(what + ": running var (unbiased)");
                            if (running != 3) continue;
                            for (int outputs = 1; outputs < 8; outputs++) // bit 0: gx, bit 1: dgamma, bit 2: dbeta
                                try (Pair gy = normal(t, total, r); Pair gx = normal(t, total, r); Pair dg = normal(t, c, r);
                                     Pair db = normal(t, c, r)) {
                                    boolean wx = (outputs & 1) != 0, wg = (outputs & 2) != 0, wb = (outputs & 4) != 0;
                                    CPU.batchNormTrainBackward(t, n, c, s, x.c, gy.c, mean.c, invstd.c, affine ? gamma.c : null,
                                            wx ? gx.c : null, wg ? dg.c : null, wb ? db.c : null);
                                    bwd.run(gpu, t, n, c, s, x.d, gy.d, mean.d, invstd.d, affine ? gamma.d : null,
                                            wx ? gx.d : null, wg ? dg.d : null, wb ? db.d : null);
                                    String o = what + " outputs " + outputs;
                                    gx.assertSame(o + ": gx");
                                    dg.assertSame(o + ": dgamma");
                                    db.assertSame(o + ": dbeta");
                                }
                        }
                    }
    }

    @Test void batchNormThroughCudnnMatchesCpu() {
        batchNorm("cuDNN",
                (b, t, n, c, s, x, g, be, eps, m, rm, rv, y, mean, is) ->
                        cudnn.batchNormForward(gpu, t, n, c, s, x, g, be, eps, m, rm, rv, y, mean, is),
                (b, t, n, c, s, x, gy, mean, is, g, gx, dg, db) ->
                        cudnn.batchNormBackward(gpu, t, n, c, s, x, gy, mean, is, g, gx, dg, db));
    }

    @Test void ownBatchNormKernelsMatchCpu() {
        batchNorm("own kernels",
                (b, t, n, c, s, x, g, be, eps, m, rm, rv, y, mean, is) ->
                        gpu.ownBatchNormTrainForward(t, n, c, s, x, g, be, eps, m, rm, rv, y, mean, is),
                (b, t, n, c, s, x, gy, mean, is, g, gx, dg, db) ->
                        gpu.ownBatchNormTrainBackward(t, n, c, s, x, gy, mean, is, g, gx, dg, db));
    }

    /** cuDNN's forward statistics feed pxprune's backward kernel and the other way round (both define invstd alike) */
    @Test void batchNormPathsAgree() {
        Random r = new Random(26);
        int n = 3, c = 4, s = 10, total = n * c * s;
        for (DType t : TYPES)
            try (Pair x = normal(t, total, r); Pair g = Pair.uniform(gpu, t, c, r, 0.5, 1.5); Pair b = normal(t, c, r);
                 Pair y = normal(t, total, r); Pair mean = normal(t, c, r); Pair is = normal(t, c, r); Pair gy = normal(t, total, r);
                 Pair gx = normal(t, total, r); Pair dg = normal(t, c, r); Pair db = normal(t, c, r)) {
                CPU.batchNormTrainForward(t, n, c, s, x.c, g.c, b.c, 1e-3, 0.1, null, null, y.c, mean.c, is.c);
                cudnn.batchNormForward(gpu, t, n, c, s, x.d, g.d, b.d, 1e-3, 0.1, null, null, y.d, mean.d, is.d);
                CPU.batchNormTrainBackward(t, n, c, s, x.c, gy.c, mean.c, is.c, g.c, gx.c, dg.c, db.c);
                gpu.ownBatchNormTrainBackward(t, n, c, s, x.d, gy.d, mean.d, is.d, g.d, gx.d, dg.d, db.d);
                gx.assertSame("own backward after cuDNN forward " + t);
                gpu.ownBatchNormTrainForward(t, n, c, s, x.d, g.d, b.d, 1e-3, 0.1, null, null, y.d, mean.d, is.d);
                cudnn.batchNormBackward(gpu, t, n, c, s, x.d, gy.d, mean.d, is.d, g.d, gx.d, dg.d, db.d);
                gx.assertSame("cuDNN backward after own forward " + t);
                dg.assertSame("cuDNN dgamma after own forward " + t);
            }
    }

    // ------------------------------------------------------------------ errors

    /** a bad-parameter status of cuDNN 9: the class 2000-2999 (CUDNN_STATUS_BAD_PARAM and its sub-codes) */
    static boolean badParam(int status) { return status >= 2000 && status <= 2999; }

    @Test void errorsNameTheCallTheShapeAndCudnnsReason() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Cudnn.check(CUDNN_STATUS_BAD_PARAM, "cudnnConvolutionForward", "conv2d X F32"));
        assertTrue(e.getMessage().startsWith("cuDNN cudnnConvolutionForward failed for conv2d X F32: CUDNN_STATUS_BAD_PARAM (2000)"),
                e.getMessage());

        // descriptors that disagree: y is not the output shape of x * w (cuDNN checks this)
        try (FloatPointer one = new FloatPointer(1f); FloatPointer zero = new FloatPointer(0f)) {
            cudnnTensorStruct x = Cudnn.tensor(DType.F32, 1, 2, 5, 5, "x"), y = Cudnn.tensor(DType.F32, 1, 3, 4, 4, "y");
            cudnnFilterStruct w = new cudnnFilterStruct();
            Cudnn.check(cudnnCreateFilterDescriptor(w), "create", "w");
            Cudnn.check(cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 3, 2, 3, 3), "set", "w");
            cudnnConvolutionStruct conv = new cudnnConvolutionStruct();
            Cudnn.check(cudnnCreateConvolutionDescriptor(conv), "create", "conv");
            Cudnn.check(cudnnSetConvolution2dDescriptor(conv, 1, 1, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT), "set", "conv");
            Pointer dx = gpu.allocate(4 * 50), dw = gpu.allocate(4 * 54), dy = gpu.allocate(4 * 75);
            try {
                int r = cudnnConvolutionForward(cudnn.handle(), one, x, dx, w, dw, conv, 0, null, 0, zero, y, dy);
                // cuDNN 9 reports bad parameters with sub-codes (2001-2999: BAD_PARAM_NULL_POINTER, ..._SHAPE_MISMATCH, ...)
                assertTrue(badParam(r), "y of 4x4 for a 5x5 input with padding 1: " + Cudnn.errorString(r));
                String why = Cudnn.lastError();
                if (emulator) assertEquals("the output descriptor is 1x3x4x4, the convolution of 1x2x5x5 by 3x2x3x3 gives 1x3x5x5", why);
                else System.out.println("cuDNN's reason for a wrong output descriptor: " + why);
                if (emulator) { // the stand-in's workspace algorithm with no workspace
                    cudnnTensorStruct y5 = Cudnn.tensor(DType.F32, 1, 3, 5, 5, "y5");
                    r = cudnnConvolutionForward(cudnn.handle(), one, x, dx, w, dw, conv, CUDNN_CONVOLUTION_FWD_ALGO_GEMM, null, 0, zero, y5, dy);
                    assertTrue(badParam(r), "workspace too small: " + Cudnn.errorString(r));
                    e = assertThrows(IllegalStateException.class, () -> Cudnn.check(CUDNN_STATUS_BAD_PARAM, "cudnnConvolutionForward", "s"));
                    assertTrue(e.getMessage().endsWith(": CUDNN_STATUS_BAD_PARAM (2000): algorithm 2 needs a workspace of 1800 bytes, got 0 at (nil)"),
                            e.getMessage());
                    // a host pointer where device memory belongs (a GPU would fault): rejected at the call
                    try (FloatPointer host = new FloatPointer(50)) {
                        r = cudnnConvolutionForward(cudnn.handle(), one, x, host, w, dw, conv, 0, null, 0, zero, y5, dy);
                        assertEquals(CUDNN_STATUS_EXECUTION_FAILED, r, "a host pointer as x: " + Cudnn.errorString(r));
                        String reason = Cudnn.lastError();
                        assertTrue(reason.contains(": x at ") && reason.contains("host memory, not device memory"), reason);
                    }
                    assertEquals(CUDNN_STATUS_SUCCESS, cudnnDestroyTensorDescriptor(y5));
                    assertTrue(badParam(cudnnConvolutionForward(cudnn.handle(), one, x, dx, w, dw, conv, 0, null, 0,
                            zero, y5, dy)), "a destroyed descriptor");
                }
            } finally {
                gpu.free(dx); gpu.free(dw); gpu.free(dy);
                cudnnDestroyTensorDescriptor(x);
                cudnnDestroyTensorDescriptor(y);
                cudnnDestroyFilterDescriptor(w);
                cudnnDestroyConvolutionDescriptor(conv);
            }
        }
    }

    @Test void routeChoicesAreChecked() {
        String key = "pxprune.test.route";
        System.setProperty(key, "cudnnn");
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Cuda.choice(key, "cudnn", "gemm"));
            assertEquals("-Dpxprune.test.route=cudnnn is not understood; use cudnn or gemm (or leave it unset)", e.getMessage());
            System.setProperty(key, " gemm ");
            assertEquals("gemm", Cuda.choice(key, "cudnn", "gemm"));
        } finally {
            System.clearProperty(key);
        }
        assertEquals(null, Cuda.choice(key, "cudnn", "gemm"));
        assertTrue(Cuda.cudnnLibraryMessage(new UnsatisfiedLinkError("no jnicudnn in java.library.path"))
                .startsWith("cuDNN 9 (libcudnn_graph.so.9, libcudnn_ops.so.9, libcudnn_cnn.so.9, libcudnn_adv.so.9) could not be loaded"
                        + " (no jnicudnn in java.library.path)"));
    }
}
