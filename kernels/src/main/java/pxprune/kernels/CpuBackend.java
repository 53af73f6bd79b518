package pxprune.kernels;

import static pxprune.jni.PxNative.*;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The CPU backend: matrix products (and so convolutions, as im2col + gemm) through OpenBLAS's
 * cblas_sgemm/dgemm via the JavaCPP presets; every other loop in the native module's C++.
 *
 * <p>Threading: one policy for the whole backend, so that no two thread pools spin against each
 * other. OpenBLAS runs single-threaded; convolutions split the batch into image chunks and large
 * matrix products split their rows, over a pool of {@code pxprune.threads} (default: the number of
 * cores) parked worker threads; inside those tasks the native loops run single-threaded, and
 * elsewhere they use OpenMP. Scratch buffers are allocated per call and freed before it returns.
 *
 * <p>Convolutions (float32) have three paths: im2col + sgemm; for 1x1 kernels, sgemm per image on
 * the tensors themselves; and direct kernels of our own ({@code native/src/main/cpp/pxconv.h}: no
 * im2col matrix, SIMD micro-kernels for AVX2+FMA and AVX-512F picked from CPUID, per-thread
 * scratch reused from call to call). Which one runs is chosen
 * per shape ({@link #convPath}) from measurements on ResNet-20's layers; the system property
 * {@value #CONV} = {@code auto} (default), {@code im2col} or {@code direct} forces one (direct falls
 * back to im2col on a CPU without AVX2, and for float64). Both paths are deterministic: the same
 * inputs and thread count give bit-identical results.
 */
public final class CpuBackend implements Backend {
    public static final CpuBackend INSTANCE = new CpuBackend();
    /**
     * im2col scratch per task is bounded to this many elements, so that it stays in a core's L2
     * cache while the product reads it (measured on ResNet-20, batch 100, 2 cores: 2^17 elements
     * ~400 ms per forward+backward, 2^21 ~510 ms, 2^23 ~540 ms)
     */
    private static final long COL_LIMIT = 1L << 17;
    /** the bytes of per-task weight-gradient slices beyond which a layer sums in fewer slices (see slices) */
    private static final long SLICE_BYTES = 16L << 20;
    /** products below this many multiply-adds run on the calling thread */
    private static final long PARALLEL_GEMM_MIN = 1L << 21;

    /**
     * system property: "true" turns on the native kernels' per-element bounds checks (index arrays
     * checked before a scatter or gather; see pxkernels.h); the test build sets it
     */
    public static final String DEBUG_BOUNDS = "pxprune.debugBounds";

    /** system property: the convolution path, "auto" (default), "im2col" or "direct" (see {@link #convPath}) */
    public static final String CONV = "pxprune.conv";

    /** how one convolution runs: im2col + sgemm, or the direct kernels with one instruction set */
    enum ConvPath {
        /**
         * im2col + sgemm; SGEMM: for 1x1 stride-1 unpadded kernels one sgemm per image on the
         * tensors themselves (im2col's matrix would be a copy of x, and the product's output
         * already has y's layout), other shapes as IM2COL; AVX2, AVX512: the direct kernels
         */
        IM2COL(ISA_NONE), SGEMM(ISA_NONE), AVX2(ISA_AVX2), AVX512(ISA_AVX512);
        final int isa;
        ConvPath(int isa) { this.isa = isa; }
    }

    private final int threads;
    private final ExecutorService pool;
    /** the value of {@value #CONV} at start: "auto", "im2col" or "direct" */
    private final String convMode;
    /** the direct kernels' instruction set on this CPU (IM2COL when it has no AVX2+FMA) */
    private final ConvPath best;

    private CpuBackend() {
        pxprune.jni.PxNative.load();
        openblas.blas_set_num_threads(1); // loads OpenBLAS now (a missing library fails early), one thread
        threads = Math.max(1, Integer.getInteger("pxprune.threads", Runtime.getRuntime().availableProcessors()));
        pxk_set_threads(threads);
        pxk_set_debug_bounds(Boolean.getBoolean(DEBUG_BOUNDS) ? 1 : 0);
        convMode = System.getProperty(CONV, "auto");
        if (!convMode.equals("auto") && !convMode.equals("im2col") && !convMode.equals("direct"))
            throw new IllegalArgumentException("-D" + CONV + "=" + convMode + " is not a convolution path; use auto, im2col or direct");
        int isa = pxprune.jni.PxNative.isa();
        best = isa == ISA_AVX512 ? ConvPath.AVX512 : isa == ISA_AVX2 ? ConvPath.AVX2 : ConvPath.IM2COL;
        pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(() -> { pxk_set_threads(1); r.run(); }, "pxprune-cpu");
            t.setDaemon(true);
            return t;
        });
    }

    /** worker threads used by convolutions and large matrix products */
    public int threads() { return threads; }

    /** the convolution paths this CPU can run, im2col first (tests run every one of them) */
    List<ConvPath> convPaths() {
        List<ConvPath> l = new ArrayList<>(List.of(ConvPath.IM2COL, ConvPath.SGEMM));
        if (best != ConvPath.IM2COL) l.add(ConvPath.AVX2);
        if (best == ConvPath.AVX512) l.add(ConvPath.AVX512);
        return l;
    }

    /** a short description of the convolution dispatch, for benchmark tables */
    public String describeConv() {
        return "conv " + convMode + ", direct kernels: " + (best == ConvPath.IM2COL ? "none (no AVX2+FMA)" : best.name());
    }

    /** which product of a convolution a path is chosen for */
    enum ConvOp { FORWARD, BACKWARD_DATA, BACKWARD_WEIGHT }

    /**
     * The path of one float32 convolution product (float64 always takes im2col). In "auto" mode the
     * direct kernels take the shapes where they measured faster than im2col + sgemm (2 cores, AMD
     * EPYC, AVX2; bench/README.md has the tables): kernels larger than 1x1, no groups, maps of at
     * least 8x8 outputs, and at most 128 input channels for the forward products (the forward, the
     * stride-1 input gradient, itself a forward convolution with the flipped kernel, and the
     * strided input gradient, decomposed by output phase) or 64 for the weight gradient. That is
     * every 3x3 convolution of ResNet-20 (1.3-3x the GFLOP/s of im2col + sgemm, also the 3-channel
     * stem) and VGG's first five; VGG's 256- and 512-channel layers on 8x8 to 2x2 maps stay on
     * OpenBLAS, whose packed products win there (the direct weight gradient has too few positions
     * per image to amortise its horizontal sums), and so do grouped or depthwise convolutions (not
     * measured). 1x1 stride-1 unpadded kernels (ResNet-50's bottlenecks) with at least
     * {@value #MIN_COLS} positions take {@link ConvPath#SGEMM}, one product per image on the
     * tensors themselves (1.0-1.4x im2col + sgemm, which copies x into its matrix and permutes y
     * back); on 7x7 maps the per-image products are too thin and im2col's batched ones win. Strided
     * 1x1 kernels (shortcuts) with at most 16 input channels take the direct kernels (ResNet-20's
     * 16-32 shortcut: 1.1-1.3x); wider ones stay on im2col (ResNet-50's downsampling: 0.6x direct).
     *
     * @param g the geometry of the product's own convolution (for BACKWARD_DATA at stride 1: the flipped forward)
     */
    ConvPath convPath(DType t, ConvGeometry g, ConvOp op) {
        if (t != DType.F32 || best == ConvPath.IM2COL || convMode.equals("im2col")) return ConvPath.IM2COL;
        if (g.kh() * g.kw() > 64 || (long) g.sh() * g.sw() > 64) return ConvPath.IM2COL; // the direct kernels' tables hold 64
        if (convMode.equals("direct")) return best;
        int cg = g.c() / g.groups();
        long ohw = (long) g.oh() * g.ow();
        boolean strided = g.sh() > 1 || g.sw() > 1;
        if (plain1x1(g) && !strided) return ohw >= MIN_COLS ? ConvPath.SGEMM : ConvPath.IM2COL;
        boolean fits = g.groups() == 1 && ohw >= 64
                && (g.kh() * g.kw() > 1 ? cg <= (op == ConvOp.BACKWARD_WEIGHT ? 64 : 128) : strided && cg <= 16);
        return fits ? best : ConvPath.IM2COL;
    }

    /**
     * Runs body(0..tasks-1) on the pool and the calling thread, dynamically balanced; the native
     * loops inside run single-threaded. Returns when all are done; rethrows the first failure.
     */
    void parallel(int tasks, IntConsumer body) {
        if (pool == null || tasks <= 1) {
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable drain = () -> { for (int i; (i = next.getAndIncrement()) < tasks; ) body.accept(i); };
        int helpers = Math.min(threads - 1, tasks - 1);
        List<Future<?>> fs = new ArrayList<>(helpers);
        for (int h = 0; h < helpers; h++) fs.add(pool.submit(drain));
        pxk_set_threads(1);
        try {
            drain.run();
        } finally {
            pxk_set_threads(threads);
        }
        for (Future<?> f : fs) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for CPU workers", e);
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof RuntimeException re) throw re;
                if (c instanceof Error er) throw er;
                throw new IllegalStateException(c);
            }
        }
    }

    @Override public Device device() { return Device.CPU; }

    @Override public Pointer allocate(long bytes) {
        Pointer p = allocateUninitialized(bytes);
        Pointer.memset(p, 0, Math.max(1, bytes));
        return p;
    }

    @Override public Pointer allocateUninitialized(long bytes) {
        BytePointer p = new BytePointer(Math.max(1, bytes));
        if (p.isNull()) throw new OutOfMemoryError("pxprune: could not allocate " + bytes + " bytes of native memory");
        accounting.allocated(p.capacity());
        return p;
    }

    @Override public void free(Pointer p) {
        long bytes = p.isNull() ? 0 : p.capacity(); // a BytePointer from allocateUninitialized: capacity in bytes
        p.deallocate();
        if (bytes > 0) accounting.freed(bytes);
    }

    /** the bytes of this backend's own allocations (allocate / allocateUninitialized, until free) */
    @Override public MemoryStats memoryStats() { return accounting.stats(); }

    @Override public void resetPeakMemory() { accounting.resetPeak(); }

    /** counts of this backend's allocations, for {@link #memoryStats()} */
    private static final class Accounting {
        private long allocated, peak, live, calls;

        synchronized void allocated(long bytes) {
            allocated += bytes;
            live++;
            calls++;
            peak = Math.max(peak, allocated);
        }

        synchronized void freed(long bytes) {
            allocated -= bytes;
            live--;
        }

        synchronized void resetPeak() { peak = allocated; }

        synchronized MemoryStats stats() { return new MemoryStats(allocated, allocated, peak, live, calls, 0); }
    }

    private final Accounting accounting = new Accounting();

    @Override public void zero(Pointer p, long bytes) { Pointer.memset(p, 0, bytes); }

    @Override public void copy(Pointer src, Pointer dst, long bytes) { Pointer.memcpy(dst, src, bytes); }

    @Override public void uploadFrom(Pointer host, Pointer dst, long bytes) { if (bytes > 0) Pointer.memcpy(dst, host, bytes); }
    @Override public void downloadTo(Pointer src, Pointer host, long bytes) { if (bytes > 0) Pointer.memcpy(host, src, bytes); }
    @Override public void upload(float[] src, Pointer dst) { fp(dst).put(src); }
    @Override public void upload(double[] src, Pointer dst) { dp(dst).put(src); }
    @Override public void upload(int[] src, Pointer dst) { ip(dst).put(src); }
    @Override public void download(Pointer src, float[] dst) { fp(src).get(dst); }
    @Override public void download(Pointer src, double[] dst) { dp(src).get(dst); }
    @Override public void download(Pointer src, int[] dst) { ip(src).get(dst); }

    /** typed views of a byte-positioned pointer (JavaCPP positions typed pointers in elements) */
    static FloatPointer fp(Pointer p) { return new FloatPointer(p).position(p.position() / 4); }
    static DoublePointer dp(Pointer p) { return new DoublePointer(p).position(p.position() / 8); }
    static IntPointer ip(Pointer p) { return new IntPointer(p).position(p.position() / 4); }
    /** a view of p advanced by {@code elems} elements of type t */
    static Pointer at(Pointer p, DType t, long elems) { return new Pointer(p).position(p.position() + elems * t.size); }

    /** C = alpha op(A) op(B) + beta C on the calling thread */
    private static void gemm1(DType t, boolean transA, boolean transB, int m, int n, int k, double alpha, Pointer a, int lda,
                              Pointer b, int ldb, double beta, Pointer c, int ldc) {
        int ta = transA ? openblas.CblasTrans : openblas.CblasNoTrans;
        int tb = transB ? openblas.CblasTrans : openblas.CblasNoTrans;
        if (t == DType.F32)
            openblas.cblas_sgemm(openblas.CblasRowMajor, ta, tb, m, n, k, (float) alpha, fp(a), lda, fp(b), ldb,
                    (float) beta, fp(c), ldc);
        else if (t == DType.F64)
            openblas.cblas_dgemm(openblas.CblasRowMajor, ta, tb, m, n, k, alpha, dp(a), lda, dp(b), ldb, beta, dp(c), ldc);
        else throw new IllegalArgumentException("gemm needs F32 or F64, got " + t);
    }

    /** large products split the rows of C (or, with few rows, its columns) over the workers */
    @Override
    public void gemm(DType t, boolean transA, boolean transB, int m, int n, int k, double alpha, Pointer a, int lda,
                     Pointer b, int ldb, double beta, Pointer c, int ldc) {
        long work = (long) m * n * k;
        if (pool == null || work < PARALLEL_GEMM_MIN) {
            gemm1(t, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        boolean byRows = m >= n;
        int len = byRows ? m : n, parts = Math.min(threads, Math.max(1, len / 16));
        parallel(parts, i -> {
            int from = (int) ((long) len * i / parts), to = (int) ((long) len * (i + 1) / parts);
            if (byRows) // rows of op(A) and of C
                gemm1(t, transA, transB, to - from, n, k, alpha, transA ? at(a, t, from) : at(a, t, (long) from * lda), lda,
                        b, ldb, beta, at(c, t, (long) from * ldc), ldc);
            else // columns of op(B) and of C
                gemm1(t, transA, transB, m, to - from, k, alpha, a, lda,
                        transB ? at(b, t, (long) from * ldb) : at(b, t, from), ldb, beta, at(c, t, from), ldc);
        });
    }

    /** products narrower than this many columns run far below the BLAS's speed */
    private static final int MIN_COLS = 128;

    /**
     * images per task: the im2col matrix stays below COL_LIMIT elements unless that would make the
     * product narrower than MIN_COLS columns (small late-stage feature maps), and every worker gets work
     */
    private int chunk(ConvGeometry g) {
        long ohw = (long) g.oh() * g.ow(), per = (long) g.c() * g.kh() * g.kw() * ohw;
        long byCache = Math.max(Math.max(1, COL_LIMIT / Math.max(1, per)), (MIN_COLS + ohw - 1) / ohw);
        long byThreads = (g.n() + threads - 1) / threads;
        return (int) Math.max(1, Math.min(byCache, byThreads));
    }

    private static void im2col(DType t, ConvGeometry g, Pointer x, int nn, Pointer col) {
        pxk_im2col(t.code(), x, nn, g.c(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(), g.dh(), g.dw(),
                g.oh(), g.ow(), col);
    }

    /**
     * one chunk of images [n0, n0+nn) of a lane (lane, and whether the chunk is the lane's first),
     * with the lane's scratch buffers
     */
    private interface ConvTask { void run(int lane, boolean first, int n0, int nn, Pointer col, Pointer tmp); }

    /** how many chunks of {@link #chunk} images the batch splits into */
    private int chunks(ConvGeometry g) {
        int nb = chunk(g);
        return (g.n() + nb - 1) / nb;
    }

    /**
     * the batch's image chunks over {@code lanes} parallel lanes (at most {@link #chunks}), each lane
     * a contiguous run of chunks in order with scratch buffers of its own
     */
    private void convTasks(DType t, ConvGeometry g, int lanes, ConvTask body) {
        int nb = chunk(g), tasks = chunks(g), ohw = g.oh() * g.ow();
        long colBytes = (long) g.c() * g.kh() * g.kw() * nb * ohw * t.size, tmpBytes = (long) g.k() * nb * ohw * t.size;
        parallel(lanes, lane -> {
            int first = (int) ((long) tasks * lane / lanes), end = (int) ((long) tasks * (lane + 1) / lanes);
            Pointer col = allocateUninitialized(colBytes), tmp = allocateUninitialized(tmpBytes);
            try {
                for (int task = first; task < end; task++) {
                    int n0 = task * nb;
                    body.run(lane, task == first, n0, Math.min(nb, g.n() - n0), col, tmp);
                }
            } finally { free(col); free(tmp); }
        });
    }

    @Override
    public void conv2dForward(DType t, ConvGeometry g, Pointer x, Pointer w, Pointer bias, Pointer y) {
        conv2dForward(t, g, x, w, bias, y, convPath(t, g, ConvOp.FORWARD));
    }

    /** the geometry array of the direct kernels (PxNative.CG_*) */
    private static int[] geom(ConvGeometry g) {
        return new int[] {g.n(), g.c(), g.h(), g.w(), g.k(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(), g.dh(), g.dw(),
                g.groups(), g.oh(), g.ow()};
    }

    /** output channels per task when a batch is split by channels: a multiple of both kernels' blocks (4, 8) */
    private static final int K_ALIGN = 16;

    /**
     * the tasks of a direct kernel: image chunks [n0, n0+nn) (at most {@code maxChunks}, in order),
     * each split into output-channel ranges when there are fewer images than workers (batch 1)
     */
    private interface DirectTask { void run(int chunk, int n0, int nn, int k0, int k1); }

    private void directTasks(ConvGeometry g, int maxChunks, DirectTask body) { directTasks(g.n(), g.k(), maxChunks, body); }

    /** the same over {@code n} images and {@code channels} channels of the product's output */
    private void directTasks(int n, int channels, int maxChunks, DirectTask body) {
        int chunks = Math.min(n, maxChunks);
        int kparts = chunks >= threads ? 1 : Math.min((threads + chunks - 1) / chunks, (channels + K_ALIGN - 1) / K_ALIGN);
        int kstep = (channels + kparts - 1) / kparts;
        int kstepAligned = (kstep + K_ALIGN - 1) / K_ALIGN * K_ALIGN;
        int kp = (channels + kstepAligned - 1) / kstepAligned;
        parallel(chunks * kp, i -> {
            int c = i / kp, j = i % kp;
            int n0 = (int) ((long) n * c / chunks), n1 = (int) ((long) n * (c + 1) / chunks);
            int k0 = j * kstepAligned, k1 = Math.min(channels, k0 + kstepAligned);
            body.run(c, n0, n1 - n0, k0, k1);
        });
    }

    /**
     * a 1x1 unpadded convolution without groups: per image a plain product y[n] = W[K, C] x'[n][C, OH*OW],
     * x' being x itself at stride 1 and its every sh-th row and sw-th column otherwise
     */
    static boolean plain1x1(ConvGeometry g) {
        return g.kh() == 1 && g.kw() == 1 && g.ph() == 0 && g.pw() == 0 && g.groups() == 1;
    }

    /** image n of x as the product's right-hand side [C, OH*OW]: x itself at stride 1, else subsampled into col */
    private Pointer plainInput(DType t, ConvGeometry g, Pointer x, int n, Pointer col) {
        Pointer xn = at(x, t, (long) n * g.c() * g.h() * g.w());
        if (g.sh() == 1 && g.sw() == 1) return xn;
        im2col(t, g, xn, 1, col);
        return col;
    }

    /** the subsampling scratch of one task of a strided 1x1 product (none at stride 1) */
    private Pointer plainScratch(DType t, ConvGeometry g) {
        return g.sh() == 1 && g.sw() == 1 ? null : allocateUninitialized((long) g.c() * g.oh() * g.ow() * t.size);
    }

    /**
     * body(n) for every image, over the workers: image ranges when there are at least as many
     * images as workers (each product on one thread, {@code single} false), else one image after
     * another with each product split over the workers ({@code single} true)
     */
    private interface ImageTask { void run(int task, int n0, int n1, boolean single); }

    private int imageTasks(int n, ImageTask body) { return imageTasks(n, Math.min(n, 4 * threads), body); }

    /** as imageTasks(n, body) with at most `most` tasks */
    private int imageTasks(int n, int most, ImageTask body) {
        if (n < threads || pool == null || most <= 1) {
            body.run(0, 0, n, true);
            return 1;
        }
        int tasks = Math.min(n, most);
        parallel(tasks, i -> body.run(i, (int) ((long) n * i / tasks), (int) ((long) n * (i + 1) / tasks), false));
        return tasks;
    }

    void conv2dForward(DType t, ConvGeometry g, Pointer x, Pointer w, Pointer bias, Pointer y, ConvPath path) {
        if (path == ConvPath.SGEMM && plain1x1(g)) {
            int hw = g.oh() * g.ow();
            imageTasks(g.n(), (task, n0, n1, single) -> {
                Pointer col = plainScratch(t, g);
                try {
                    for (int n = n0; n < n1; n++) {
                        Pointer yn = at(y, t, (long) n * g.k() * hw), xn = plainInput(t, g, x, n, col);
                        if (single) gemm(t, false, false, g.k(), hw, g.c(), 1, w, g.c(), xn, hw, 0, yn, hw);
                        else gemm1(t, false, false, g.k(), hw, g.c(), 1, w, g.c(), xn, hw, 0, yn, hw);
                        if (bias != null) pxk_permute(t.code(), yn, g.k(), 1, hw, bias, null, yn); // adds the bias in place
                    }
                } finally { if (col != null) free(col); }
            });
            return;
        }
        if (path != ConvPath.IM2COL && path != ConvPath.SGEMM) {
            requireF32(t, path);
            int[] ge = geom(g);
            // several chunks per worker: the pool balances them dynamically (results do not depend on the split)
            directTasks(g, 4 * threads, (c, n0, nn, k0, k1) -> pxk_conv_fwd_direct(path.isa, ge, x, w, bias, y, n0, nn, k0, k1));
            return;
        }
        int ohw = g.oh() * g.ow(), rows = g.groupRows(), kg = g.k() / g.groups();
        boolean single = chunk(g) >= g.n(); // one task: let the product itself use the workers
        convTasks(t, g, chunks(g), (lane, first, n0, nn, col, tmp) -> {
            int cols = nn * ohw;
            Pointer yn = at(y, t, (long) n0 * g.k() * ohw);
            Pointer out = nn == 1 ? yn : tmp; // [K, 1, ohw] is already y's layout
            im2col(t, g, at(x, t, (long) n0 * g.c() * g.h() * g.w()), nn, col);
            for (int gi = 0; gi < g.groups(); gi++) {
                Pointer wg = at(w, t, (long) gi * kg * rows), cg = at(col, t, (long) gi * rows * cols), og = at(out, t, (long) gi * kg * cols);
                if (single) gemm(t, false, false, kg, cols, rows, 1, wg, rows, cg, cols, 0, og, cols);
                else gemm1(t, false, false, kg, cols, rows, 1, wg, rows, cg, cols, 0, og, cols);
            }
            if (nn > 1 || bias != null) pxk_permute(t.code(), out, g.k(), nn, ohw, bias, null, yn); // in place when nn == 1
        });
    }

    /** gy's images [n0, n0+nn) as [K, nn*ohw] (a view of gy itself for one image, else a copy into tmp) */
    private static Pointer transposedChunk(DType t, ConvGeometry g, Pointer gy, int n0, int nn, Pointer tmp) {
        long ohw = (long) g.oh() * g.ow();
        Pointer src = at(gy, t, n0 * g.k() * ohw);
        if (nn == 1) return src;
        pxk_permute(t.code(), src, nn, g.k(), ohw, null, null, tmp);
        return tmp;
    }

    private static void requireF32(DType t, ConvPath path) {
        if (t != DType.F32) throw new IllegalArgumentException("conv2d: the direct path " + path + " runs float32 only, got " + t
                + "; use ConvPath.IM2COL");
    }

    @Override
    public void conv2dBackwardData(DType t, ConvGeometry g, Pointer gy, Pointer w, Pointer gx) {
        conv2dBackwardData(t, g, gy, w, gx, null);
    }

    /** the stride-1 case maps to a forward convolution, which takes {@code path} (null: chosen per shape) */
    void conv2dBackwardData(DType t, ConvGeometry g, Pointer gy, Pointer w, Pointer gx, ConvPath path) {
        if (g.sh() == 1 && g.sw() == 1 && g.dh() == 1 && g.dw() == 1 && g.groups() == 1 && g.ph() < g.kh() && g.pw() < g.kw()) {
            // stride 1: the input gradient is a forward convolution of gy with the kernel flipped
            // in space and transposed in channels, padded by k-1-p (a thin product without col2im)
            ConvGeometry f = new ConvGeometry(g.n(), g.k(), g.oh(), g.ow(), g.c(), g.kh(), g.kw(), 1, 1,
                    g.kh() - 1 - g.ph(), g.kw() - 1 - g.pw(), 1, 1, 1);
            Pointer wf = allocateUninitialized((long) g.c() * g.k() * g.kh() * g.kw() * t.size);
            try {
                pxk_flip_kernel(t.code(), w, g.k(), g.c(), g.kh(), g.kw(), wf);
                conv2dForward(t, f, gy, wf, null, gx, path != null ? path : convPath(t, f, ConvOp.BACKWARD_DATA));
            } finally { free(wf); }
            return;
        }
        ConvPath p = path != null ? path : convPath(t, g, ConvOp.BACKWARD_DATA);
        if (p.isa != ISA_NONE && g.dh() == 1 && g.dw() == 1 && g.groups() == 1) {
            // any stride: decomposed by output phase into stride-1 correlations with the taps of
            // the flipped kernel that land on each phase (pxconv.h's backward_data), no col2im
            requireF32(t, p);
            int[] ge = geom(g);
            Pointer wp = allocateUninitialized((long) g.k() * g.groupRows() * 4);
            try {
                pxk_conv_pack_bwdd(ge, w, wp);
                directTasks(g.n(), g.c(), 4 * threads, (c, n0, nn, c0, c1) -> pxk_conv_bwdd_direct(p.isa, ge, gy, wp, gx, n0, nn, c0, c1));
            } finally { free(wp); }
            return;
        }
        int ohw = g.oh() * g.ow(), rows = g.groupRows(), kg = g.k() / g.groups();
        long img = (long) g.c() * g.h() * g.w();
        boolean single = chunk(g) >= g.n();
        convTasks(t, g, chunks(g), (lane, first, n0, nn, col, tmp) -> {
            int cols = nn * ohw;
            Pointer gyT = transposedChunk(t, g, gy, n0, nn, tmp);
            for (int gi = 0; gi < g.groups(); gi++) {
                Pointer wg = at(w, t, (long) gi * kg * rows), yg = at(gyT, t, (long) gi * kg * cols), cg = at(col, t, (long) gi * rows * cols);
                if (single) gemm(t, true, false, rows, cols, kg, 1, wg, rows, yg, cols, 0, cg, cols);
                else gemm1(t, true, false, rows, cols, kg, 1, wg, rows, yg, cols, 0, cg, cols);
            }
            Pointer gxn = at(gx, t, n0 * img);
            zero(gxn, nn * img * t.size);
            pxk_col2im(t.code(), col, nn, g.c(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(),
                    g.dh(), g.dw(), g.oh(), g.ow(), gxn);
        });
    }

    @Override
    public void conv2dBackwardWeight(DType t, ConvGeometry g, Pointer x, Pointer gy, Pointer gw) {
        conv2dBackwardWeight(t, g, x, gy, gw, convPath(t, g, ConvOp.BACKWARD_WEIGHT));
    }

    void conv2dBackwardWeight(DType t, ConvGeometry g, Pointer x, Pointer gy, Pointer gw, ConvPath path) {
        if (path == ConvPath.SGEMM && plain1x1(g)) {
            // gw = sum over images of gy[n][K, HW] x[n][C, HW]^T, one accumulating product per
            // image into the task's own slice, the slices then summed in task order (deterministic)
            int hw = g.oh() * g.ow();
            long wElems = (long) g.k() * g.c();
            int most = g.n() < threads || pool == null ? 1 : slices(Math.min(g.n(), 4 * threads), wElems, t);
            Pointer parts = most == 1 ? gw : allocateUninitialized(most * wElems * t.size);
            try {
                int tasks = imageTasks(g.n(), most, (task, n0, n1, single) -> {
                    Pointer part = at(parts, t, task * wElems), col = plainScratch(t, g);
                    try {
                        for (int n = n0; n < n1; n++) {
                            Pointer gyn = at(gy, t, (long) n * g.k() * hw), xn = plainInput(t, g, x, n, col);
                            double beta = n == n0 ? 0 : 1;
                            if (single) gemm(t, false, true, g.k(), g.c(), hw, 1, gyn, hw, xn, hw, beta, part, g.c());
                            else gemm1(t, false, true, g.k(), g.c(), hw, 1, gyn, hw, xn, hw, beta, part, g.c());
                        }
                    } finally { if (col != null) free(col); }
                });
                if (most > 1) {
                    int[] shape = {tasks, (int) wElems}, os = {0, 1};
                    zero(gw, wElems * t.size);
                    pxk_reduce_sum(t.code(), parts, shape, os, 2, wElems, gw);
                }
            } finally {
                if (most > 1) free(parts);
            }
            return;
        }
        if (path != ConvPath.IM2COL && path != ConvPath.SGEMM) {
            requireF32(t, path);
            int[] ge = geom(g);
            // image chunks (a few per worker, so that a worker the OS descheduled delays the
            // others little), each summing into its own slice of `parts` (channel ranges write
            // disjoint rows of it); the slices are then added in chunk order: deterministic for a
            // given thread count
            int chunks = Math.min(g.n(), 4 * threads);
            long wElems = (long) g.k() * g.groupRows();
            Pointer parts = chunks == 1 ? gw : allocateUninitialized(chunks * wElems * 4);
            try {
                directTasks(g, chunks, (c, n0, nn, k0, k1) ->
                        pxk_conv_bwdw_direct(path.isa, ge, x, gy, at(parts, t, c * wElems), n0, nn, k0, k1));
                if (chunks > 1) {
                    int[] shape = {chunks, (int) wElems}, os = {0, 1};
                    zero(gw, wElems * 4);
                    pxk_reduce_sum(t.code(), parts, shape, os, 2, wElems, gw);
                }
            } finally {
                if (chunks > 1) free(parts);
            }
            return;
        }
        int ohw = g.oh() * g.ow(), rows = g.groupRows(), kg = g.k() / g.groups(), tasks = chunks(g);
        long wElems = (long) g.k() * rows;
        // each lane takes a contiguous run of image chunks and accumulates them, in order, into its
        // own slice of `parts`; the slices are summed at the end in lane order (deterministic for a
        // given thread count). One lane per chunk balances the load best; wide layers use fewer
        // lanes, so that the slices stay within SLICE_BYTES (VGG's and ResNet-50's 512-channel 3x3
        // layers: 9.4 MB a slice)
        int lanes = tasks == 1 ? 1 : slices(tasks, wElems, t);
        boolean single = lanes == 1;
        Pointer parts = single ? gw : allocateUninitialized(lanes * wElems * t.size);
        try {
            convTasks(t, g, lanes, (lane, first, n0, nn, col, tmp) -> {
                int cols = nn * ohw;
                double beta = first ? 0 : 1;
                Pointer part = at(parts, t, (long) lane * wElems);
                im2col(t, g, at(x, t, (long) n0 * g.c() * g.h() * g.w()), nn, col);
                Pointer gyT = transposedChunk(t, g, gy, n0, nn, tmp);
                for (int gi = 0; gi < g.groups(); gi++) {
                    Pointer yg = at(gyT, t, (long) gi * kg * cols), cg = at(col, t, (long) gi * rows * cols), pg = at(part, t, (long) gi * kg * rows);
                    if (single) gemm(t, false, true, kg, rows, cols, 1, yg, cols, cg, cols, beta, pg, rows);
                    else gemm1(t, false, true, kg, rows, cols, 1, yg, cols, cg, cols, beta, pg, rows);
                }
            });
            if (!single) {
                int[] shape = {lanes, (int) wElems}, os = {0, 1};
                zero(gw, wElems * t.size);
                pxk_reduce_sum(t.code(), parts, shape, os, 2, wElems, gw);
            }
        } finally {
            if (!single) free(parts);
        }
    }

    /**
     * the weight-gradient slices summed at the end (each a full copy of the gradient): want (one
     * per task, the best load balance) when they fit SLICE_BYTES together, else as many as fit, at
     * least one per thread
     */
    private int slices(int want, long wElems, DType t) {
        long fit = Math.max(1, SLICE_BYTES / (wElems * t.size));
        return (int) Math.min(want, Math.max(threads, fit));
    }

    // ------------------------------------------------------------------ sparse convolutions
    /**
     * The sparse kernels (native/src/main/cpp/pxsparse.h) take float32 ungrouped convolutions on a
     * CPU with AVX2+FMA, with the same tap and stride limits as the direct kernels. Which layers
     * use them (by density and shape) is the caller's choice: nn's Sparsity.
     */
    @Override public boolean sparseConv(DType t, ConvGeometry g) {
        return t == DType.F32 && best != ConvPath.IM2COL && g.groups() == 1 && g.kh() * g.kw() <= 64 && (long) g.sh() * g.sw() <= 64;
    }

    private void requireSparse(DType t, ConvGeometry g, KeptWeights kept, ConvPath path) {
        if (!sparseConv(t, g) || path.isa == ISA_NONE)
            throw new IllegalArgumentException("conv2d: the sparse kernels take float32 ungrouped convolutions with at most 64 taps "
                    + "on a CPU with AVX2+FMA; got " + t + ", groups " + g.groups() + ", " + describeConv() + "; use the dense path");
        if (kept.rows() != g.k() || kept.rowLength() != g.groupRows())
            throw new IllegalArgumentException("conv2d: kept weights of a [" + kept.rows() + ", " + kept.rowLength()
                    + "] weight do not fit a convolution with " + g.k() + " output channels of " + g.groupRows()
                    + " weights each; build them from this layer's mask");
    }

    @Override
    public void sparseConv2dForward(DType t, ConvGeometry g, KeptWeights kept, Pointer x, Pointer w, Pointer bias, Pointer y) {
        sparseConv2dForward(t, g, kept, x, w, bias, y, best);
    }

    void sparseConv2dForward(DType t, ConvGeometry g, KeptWeights kept, Pointer x, Pointer w, Pointer bias, Pointer y, ConvPath path) {
        requireSparse(t, g, kept, path);
        int[] ge = geom(g);
        Pointer rows = kept.rowsPointer(), fidx = kept.fidxPointer();
        directTasks(g, 4 * threads, (c, n0, nn, k0, k1) -> pxk_sp_conv_fwd(path.isa, ge, x, w, rows, fidx, bias, y, n0, nn, k0, k1));
    }

    @Override
    public void sparseConv2dBackwardData(DType t, ConvGeometry g, KeptWeights kept, Pointer gy, Pointer w, Pointer gx) {
        sparseConv2dBackwardData(t, g, kept, gy, w, gx, best);
    }

    void sparseConv2dBackwardData(DType t, ConvGeometry g, KeptWeights kept, Pointer gy, Pointer w, Pointer gx, ConvPath path) {
        requireSparse(t, g, kept, path);
        int[] ge = geom(g);
        Pointer cols = kept.colsPointer(), tfidx = kept.tfidxPointer();
        directTasks(g.n(), g.c(), 4 * threads, (c, n0, nn, c0, c1) -> pxk_sp_conv_bwdd(path.isa, ge, gy, w, cols, tfidx, gx, n0, nn, c0, c1));
    }

    @Override
    public void sparseConv2dBackwardWeight(DType t, ConvGeometry g, KeptWeights kept, Pointer x, Pointer gy, Pointer gw) {
        sparseConv2dBackwardWeight(t, g, kept, x, gy, gw, best);
    }

    /**
     * image chunks each summing the kept weights' gradient into a compact slice of their own
     * (channel ranges of a chunk write disjoint entries), then the slices added in chunk order and
     * scattered into gw: deterministic for a given thread count, as the dense weight gradient
     */
    void sparseConv2dBackwardWeight(DType t, ConvGeometry g, KeptWeights kept, Pointer x, Pointer gy, Pointer gw, ConvPath path) {
        requireSparse(t, g, kept, path);
        int[] ge = geom(g);
        int chunks = Math.min(g.n(), 4 * threads), nnz = kept.kept();
        long wElems = (long) g.k() * g.groupRows();
        Pointer rows = kept.rowsPointer(), fidx = kept.fidxPointer();
        if (nnz == 0) { // an emptied layer: its gradient is zero, nothing to compute
            zero(gw, wElems * 4);
            return;
        }
        Pointer parts = allocateUninitialized((long) chunks * nnz * 4);
        try {
            directTasks(g, chunks, (c, n0, nn, k0, k1) ->
                    pxk_sp_conv_bwdw(path.isa, ge, x, gy, rows, fidx, at(parts, t, (long) c * nnz), n0, nn, k0, k1));
            pxk_sp_reduce_scatter(chunks, nnz, parts, fidx, wElems, gw);
        } finally { free(parts); }
    }

    @Override
    public void batchNormTrainForward(DType t, int n, int c, long s, Pointer x, Pointer gamma, Pointer beta, double eps,
                                      double momentum, Pointer runMean, Pointer runVar, Pointer y, Pointer mean, Pointer invstd) {
        pxk_bn_train_fwd(t.code(), x, n, c, s, gamma, beta, eps, momentum, runMean, runVar, y, mean, invstd);
    }

    @Override
    public void batchNormTrainBackward(DType t, int n, int c, long s, Pointer x, Pointer gy, Pointer mean, Pointer invstd,
                                       Pointer gamma, Pointer gx, Pointer dgamma, Pointer dbeta) {
        pxk_bn_train_bwd(t.code(), x, gy, n, c, s, mean, invstd, gamma, gx, dgamma, dbeta);
    }

    @Override
    public void channelAffine(DType t, int n, int c, long s, Pointer x, Pointer scale, Pointer shift, Pointer y) {
        pxk_channel_affine(t.code(), x, n, c, s, scale, shift, y);
    }

    @Override public void channelSums(DType t, int n, int c, long s, Pointer a, Pointer b, Pointer out) {
        pxk_channel_sums(t.code(), a, b, n, c, s, out);
    }

    @Override public void maxPoolForward(DType t, PoolGeometry g, Pointer x, Pointer y, Pointer idx) {
        pxk_maxpool_fwd(t.code(), x, g.toArray(), y, idx);
    }

    @Override public void poolScatter(DType t, long nc, long hw, long ohw, Pointer gy, Pointer idx, Pointer gx) {
        pxk_pool_scatter(t.code(), gy, idx, nc, hw, ohw, gx);
    }

    @Override public void poolGather(DType t, long nc, long hw, long ohw, Pointer g, Pointer idx, Pointer out) {
        pxk_pool_gather(t.code(), g, idx, nc, hw, ohw, out);
    }

    @Override public void avgPoolForward(DType t, PoolGeometry g, Pointer x, Pointer y) {
        pxk_avgpool_fwd(t.code(), x, g.toArray(), y);
    }

    @Override public void avgPoolBackward(DType t, PoolGeometry g, Pointer gy, Pointer gx) {
        pxk_avgpool_bwd(t.code(), gy, g.toArray(), gx);
    }

    @Override public void binary(DType t, int op, Pointer a, int[] as, Pointer b, int[] bs, int[] shape, Pointer out) {
        pxk_binary(t.code(), op, a, as, b, bs, shape, shape.length, out);
    }

    @Override public void unary(DType t, int op, Pointer x, long n, double alpha, double beta, Pointer out) {
        pxk_unary(t.code(), op, x, n, alpha, beta, out);
    }

    @Override public void reduceSum(DType t, Pointer in, int[] shape, int[] os, long outN, Pointer out) {
        pxk_reduce_sum(t.code(), in, shape, os, shape.length, outN, out);
    }

    @Override public void logSoftmax(DType t, long rows, int k, Pointer x, Pointer y) { pxk_log_softmax(t.code(), x, rows, k, y); }

    @Override public void pick(DType t, long rows, int k, Pointer x, Pointer idx, Pointer out) { pxk_pick(t.code(), x, idx, rows, k, out); }

    @Override public void place(DType t, long rows, int k, Pointer g, Pointer idx, Pointer gx) { pxk_place(t.code(), g, idx, rows, k, gx); }

    @Override public void permute(DType t, int a, int b, long x, Pointer in, Pointer bias, Pointer gate, Pointer out) {
        pxk_permute(t.code(), in, a, b, x, bias, gate, out);
    }

    @Override
    public void sgd(DType t, long n, Pointer p, Pointer g, Pointer buf, Pointer mask, double lr, double momentum,
                    double dampening, double weightDecay, boolean nesterov, boolean firstStep) {
        pxk_sgd(t.code(), p, g, buf, mask, n, lr, momentum, dampening, weightDecay, nesterov ? 1 : 0, firstStep ? 1 : 0);
    }

    @Override public void convert(DType from, Pointer in, DType to, Pointer out, long n) {
        pxk_convert(from.code(), in, to.code(), out, n);
    }
}
