package pxprune.kernels.cuda;

import static org.bytedeco.cuda.global.cudnn.*;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntFunction;
import java.util.function.IntToLongFunction;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdDataAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdFilterAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;
import pxprune.kernels.ConvGeometry;
import pxprune.kernels.DType;

/**
 * cuDNN 9 for the CUDA backend, through the JavaCPP presets ({@code org.bytedeco.cuda.global.cudnn}):
 * 2-D convolution forward, backward data and backward filter (groups, dilation, strides and padding
 * as {@link ConvGeometry} has them, NCHW) and training-mode batch normalization, forward and backward.
 * Owned by {@link Cuda}, which loads it on first use ({@link Cuda#cudnn()}).
 *
 * <ul>
 * <li>One cuDNN handle per thread, bound to that thread's stream ({@link Cuda#stream()}, cudnnSetStream) and
 *     kept with its lane, so cuDNN's work is ordered with the thread's kernels, copies and cuBLAS calls,
 *     and a download waits for it like for any other work of the thread.</li>
 * <li>Tensor, filter and convolution descriptors are made once per (shape, dtype) and kept. float32
 *     convolutions use {@code CUDNN_FMA_MATH} (no tensor cores, so no TF32: the benchmark rules compare
 *     FP32 with TF32 off); float64 ones {@code CUDNN_DEFAULT_MATH}.</li>
 * <li>The algorithm of each direction is chosen once per (shape, dtype), on first use, by
 *     {@code cudnnFind*AlgorithmEx} (which times every algorithm on the real buffers) with a workspace as
 *     large as the hungriest algorithm wants, up to {@link #MAX_WORKSPACE}; where Find fails, by the
 *     heuristic {@code cudnnGet*Algorithm_v7}, which {@code -Dpxprune.cuda.conv.search=heuristic} asks for
 *     outright (no timing runs: quicker first iterations, PyTorch's {@code cudnn.benchmark=False}). The choice
 *     is cached ({@link #searches()}, {@link #hits()} count). Results using tensor-core math are skipped for
 *     float32.</li>
 * <li>Workspaces come from {@link Cuda#scratch(long)} (the {@link CachingAllocator}, for this thread's
 *     stream) and go back right after the call is queued: the free is stream-ordered, so the block is
 *     only handed out again to work queued after the convolution on the same stream (or, from another
 *     stream, once an event says the convolution is done).</li>
 * <li>Handles (one per lane that used cuDNN) and descriptors (one set per shape seen) are kept for the
 *     life of the process, never destroyed: a few per network, small next to its activations.</li>
 * <li>Batch norm uses {@code CUDNN_BATCHNORM_SPATIAL} (statistics per channel over N and the spatial
 *     dims, x viewed as [N, C, S, 1]), {@code cudnnBatchNormalizationForwardTraining} and
 *     {@code cudnnBatchNormalizationBackward}. Their definitions are PyTorch's and the CPU backend's:
 *     saved mean = the batch mean, saved inverse variance = 1/sqrt(biased variance + eps), running mean
 *     and running variance blended with factor = momentum, the running variance from the unbiased
 *     (M/(M-1)) batch variance (cuDNN documentation, "cudnnBatchNormalizationForwardTraining"). It is the default because PyTorch
 *     uses it; that it is faster than pxprune's own batch-norm kernels is unmeasured (no GPU run yet):
 *     {@code -Dpxprune.cuda.bn=own} selects ours.</li>
 * </ul>
 * See https://docs.nvidia.com/deeplearning/cudnn/api/latest/api/cudnn-cnn-library.html and
 * .../cudnn-ops-library.html for the calls.
 */
final class Cudnn {
    /** stands for the status of a Find that was not run */
    private static final int HEURISTIC = -1;

    /** the most workspace an algorithm search offers (1 GiB) */
    static final long MAX_WORKSPACE = 1L << 30;

    final Cuda cuda;
    /** cudnnGetVersion(), e.g. 91900 for 9.19.0 */
    final long version;
    /** whether algorithms are chosen by timing them (cudnnFind*AlgorithmEx) or by cuDNN's heuristic only */
    final boolean find;
    /**
     * pxprune.cuda.conv.algo=deterministic: only algorithms cuDNN reports deterministic, and no Winograd or FFT
     * ones (whose float32 error is 1e-6 to 1e-4 relative, against about sqrt(K) * 6e-8 for a direct or GEMM
     * sum of K products): the same bits on every run, for tests and bitwise-reproducible checkpoints.
     * fastest (the default): whatever cuDNN times fastest, TF32 excluded.
     */
    final boolean deterministic;
    private final ConcurrentHashMap<ConvKey, ConvPlan> convs = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<BnKey, BnPlan> bns = new ConcurrentHashMap<>();
    private final AtomicLong searches = new AtomicLong(), hits = new AtomicLong();
    /** immutable host scalars 1 and 0 for alpha and beta, by type (cuDNN reads double scalars for double data) */
    private final FloatPointer oneF = new FloatPointer(1f), zeroF = new FloatPointer(0f);
    private final DoublePointer oneD = new DoublePointer(1.0), zeroD = new DoublePointer(0.0);

    /** loads cuDNN; throws (IllegalStateException, LinkageError) with the reason when it cannot be used */
    Cudnn(Cuda cuda) {
        this.cuda = cuda;
        String preload = CudaLibraries.cudnnFailure();
        if (preload != null) throw new IllegalStateException("cuDNN could not be loaded from pxprune.cuda.libs / PXPRUNE_CUDA_LIBS: " + preload);
        Loader.load(cudnn.class);
        version = cudnnGetVersion();
        if (version < 90000)
            throw new IllegalStateException("cuDNN " + versionString(version) + " was found; pxprune needs cuDNN 9");
        find = !"heuristic".equals(cuda.convSearch);
        String policy = System.getProperty("pxprune.cuda.conv.algo", "fastest");
        if (!policy.equals("fastest") && !policy.equals("deterministic"))
            throw new IllegalArgumentException("-Dpxprune.cuda.conv.algo=" + policy + " is not a cuDNN algorithm policy; use fastest or deterministic");
        deterministic = policy.equals("deterministic");
        handle(); // fails here, not on the first convolution, if cuDNN cannot make a handle
    }

    static String versionString(long v) { return v / 10000 + "." + v % 10000 / 100 + "." + v % 100; }

    private cudnnContext newHandle(Cuda.Lane lane) {
        cuda.bind();
        cudnnContext h = new cudnnContext();
        check(cudnnCreate(h), "cudnnCreate", "a handle");
        // STREAM: the handle's work goes on this thread's stream, ordered with its launches, copies and cuBLAS calls
        check(cudnnSetStream(h, lane.stream), "cudnnSetStream", "this thread's stream");
        return h;
    }

    /** this thread's handle, on its stream (kept with the thread's lane, so a thread adopting the lane reuses it) */
    cudnnContext handle() {
        Cuda.Lane l = cuda.lane();
        if (l.cudnn == null) l.cudnn = newHandle(l);
        return (cudnnContext) l.cudnn;
    }

    /** how many algorithm searches (Find or the heuristic) have run, one per (shape, dtype, direction) */
    long searches() { return searches.get(); }

    /** how many convolutions used an algorithm found before */
    long hits() { return hits.get(); }

    // ------------------------------------------------------------------ errors

    static String errorString(int status) {
        BytePointer s = cudnnGetErrorString(status);
        return s == null || s.isNull() ? "cudnnStatus_t " + status : s.getString() + " (" + status + ")";
    }

    /** throws, naming the call, the shape, cuDNN's status and (cudnnGetLastErrorString) its reason, unless status is success */
    static void check(int status, String call, String shape) {
        if (status != CUDNN_STATUS_SUCCESS) {
            String why = lastError();
            throw new IllegalStateException("cuDNN " + call + " failed for " + shape + ": " + errorString(status)
                    + (why.isEmpty() ? "" : ": " + why));
        }
    }

    /** cuDNN's message about the last error on this thread (cudnnGetLastErrorString, cuDNN 9), "" if none */
    static String lastError() {
        byte[] b = new byte[1024];
        try {
            cudnnGetLastErrorString(b, b.length);
        } catch (UnsatisfiedLinkError e) {
            return "";
        }
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, java.nio.charset.StandardCharsets.UTF_8).trim();
    }

    private void synced(String what) {
        if (cuda.syncEveryLaunch) Cuda.drv(org.bytedeco.cuda.global.cudart.cuCtxSynchronize(), what);
    }

    private Pointer one(DType t) { return t == DType.F64 ? oneD : oneF; }
    private Pointer zero(DType t) { return t == DType.F64 ? zeroD : zeroF; }

    static int dataType(DType t) {
        return switch (t) {
            case F32 -> CUDNN_DATA_FLOAT;
            case F64 -> CUDNN_DATA_DOUBLE;
            default -> throw new IllegalArgumentException(t + " tensors hold indices; cuDNN needs F32 or F64");
        };
    }

    static cudnnTensorStruct tensor(DType t, int n, int c, int h, int w, String shape) {
        cudnnTensorStruct d = new cudnnTensorStruct();
        check(cudnnCreateTensorDescriptor(d), "cudnnCreateTensorDescriptor", shape);
        check(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, dataType(t), n, c, h, w), "cudnnSetTensor4dDescriptor", shape);
        return d;
    }

    // ------------------------------------------------------------------ convolution

    /** whether cuDNN takes this convolution: every tensor below 2^31 elements (larger ones go to im2col + gemm, in chunks) */
    static boolean fits(ConvGeometry g) {
        long in = (long) g.n() * g.c() * g.h() * g.w(), out = (long) g.n() * g.k() * g.oh() * g.ow();
        long wt = (long) g.k() * g.groupRows();
        return in <= Integer.MAX_VALUE && out <= Integer.MAX_VALUE && wt <= Integer.MAX_VALUE;
    }

    private record ConvKey(ConvGeometry g, DType t) {}

    /** an algorithm and the workspace it needs */
    record Algo(int algo, long workspace, String how) {}

    /** the directions of a convolution, as {@link #chosen} numbers them */
    static final int FORWARD = 0, BACKWARD_DATA = 1, BACKWARD_FILTER = 2;

    /** the descriptors of one convolution shape and the algorithm of each direction, once chosen */
    private static final class ConvPlan {
        final String shape;
        final cudnnTensorStruct x, y, bias;
        final cudnnFilterStruct w;
        final cudnnConvolutionStruct conv;
        /** by direction: {@link #FORWARD}, {@link #BACKWARD_DATA}, {@link #BACKWARD_FILTER} */
        final AtomicReferenceArray<Algo> algos = new AtomicReferenceArray<>(3);

        ConvPlan(ConvGeometry g, DType t) {
            shape = "conv2d " + g + " " + t;
            x = tensor(t, g.n(), g.c(), g.h(), g.w(), shape);
            y = tensor(t, g.n(), g.k(), g.oh(), g.ow(), shape);
            bias = tensor(t, 1, g.k(), 1, 1, shape);
            w = new cudnnFilterStruct();
            check(cudnnCreateFilterDescriptor(w), "cudnnCreateFilterDescriptor", shape);
            check(cudnnSetFilter4dDescriptor(w, dataType(t), CUDNN_TENSOR_NCHW, g.k(), g.c() / g.groups(), g.kh(), g.kw()),
                    "cudnnSetFilter4dDescriptor", shape);
            conv = new cudnnConvolutionStruct();
            check(cudnnCreateConvolutionDescriptor(conv), "cudnnCreateConvolutionDescriptor", shape);
            check(cudnnSetConvolution2dDescriptor(conv, g.ph(), g.pw(), g.sh(), g.sw(), g.dh(), g.dw(), CUDNN_CROSS_CORRELATION,
                    dataType(t)), "cudnnSetConvolution2dDescriptor", shape);
            check(cudnnSetConvolutionGroupCount(conv, g.groups()), "cudnnSetConvolutionGroupCount", shape);
            check(cudnnSetConvolutionMathType(conv, t == DType.F32 ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH),
                    "cudnnSetConvolutionMathType", shape);
        }
    }

    private ConvPlan plan(ConvGeometry g, DType t) {
        dataType(t);
        return convs.computeIfAbsent(new ConvKey(g, t), k -> new ConvPlan(k.g(), k.t()));
    }

    /** the algorithm (package-private for tests) chosen for a direction of this shape, or null when none is yet */
    Algo chosen(ConvGeometry g, DType t, int direction) {
        ConvPlan p = convs.get(new ConvKey(g, t));
        if (p == null) return null;
        return p.algos.get(direction);
    }

    /** whether a result's math type is allowed: no tensor cores (TF32) for float32 */
    private static boolean mathOk(DType t, int mathType) {
        return t != DType.F32 || mathType == CUDNN_FMA_MATH || mathType == CUDNN_DEFAULT_MATH;
    }

    /** a workspace of at least bytes, or null for 0 bytes */
    private Pointer workspace(long bytes) { return bytes > 0 ? cuda.scratch(bytes) : null; }

    private void release(Pointer ws) { if (ws != null) cuda.freeScratch(ws); }

    /** the search workspace: the largest any algorithm wants (below MAX_WORKSPACE), 0 if that cannot be had */
    private long searchWorkspace(long[] sizes) {
        long max = 0;
        for (long s : sizes) if (s <= MAX_WORKSPACE) max = Math.max(max, s);
        return max;
    }

    private Pointer tryWorkspace(long bytes) {
        try {
            return workspace(bytes);
        } catch (OutOfMemoryError e) {
            return null;
        }
    }

    /** y = conv(x, w) (+ bias per output channel) */
    void forward(DType t, ConvGeometry g, Pointer x, Pointer w, Pointer bias, Pointer y) {
        ConvPlan p = plan(g, t);
        cudnnContext h = handle();
        Algo a = algo(p, FORWARD, () -> findForward(h, p, t, x, w, y));
        Pointer ws = workspace(a.workspace());
        try {
            check(cudnnConvolutionForward(h, one(t), p.x, x, p.w, w, p.conv, a.algo(), ws, a.workspace(), zero(t), p.y, y),
                    "cudnnConvolutionForward (algorithm " + a.algo() + ")", p.shape);
            if (bias != null) check(cudnnAddTensor(h, one(t), p.bias, bias, one(t), p.y, y), "cudnnAddTensor (bias)", p.shape);
        } finally { release(ws); }
        synced("cudnnConvolutionForward");
    }

    /** gx = the gradient of conv w.r.t. x for upstream gy (overwrites gx) */
    void backwardData(DType t, ConvGeometry g, Pointer gy, Pointer w, Pointer gx) {
        ConvPlan p = plan(g, t);
        cudnnContext h = handle();
        Algo a = algo(p, BACKWARD_DATA, () -> findBackwardData(h, p, t, gy, w, gx));
        Pointer ws = workspace(a.workspace());
        try {
            check(cudnnConvolutionBackwardData(h, one(t), p.w, w, p.y, gy, p.conv, a.algo(), ws, a.workspace(), zero(t), p.x, gx),
                    "cudnnConvolutionBackwardData (algorithm " + a.algo() + ")", p.shape);
        } finally { release(ws); }
        synced("cudnnConvolutionBackwardData");
    }

    /** gw = the gradient of conv w.r.t. w for upstream gy (overwrites gw) */
    void backwardFilter(DType t, ConvGeometry g, Pointer x, Pointer gy, Pointer gw) {
        ConvPlan p = plan(g, t);
        cudnnContext h = handle();
        Algo a = algo(p, BACKWARD_FILTER, () -> findBackwardFilter(h, p, t, x, gy, gw));
        Pointer ws = workspace(a.workspace());
        try {
            check(cudnnConvolutionBackwardFilter(h, one(t), p.x, x, p.y, gy, p.conv, a.algo(), ws, a.workspace(), zero(t), p.w, gw),
                    "cudnnConvolutionBackwardFilter (algorithm " + a.algo() + ")", p.shape);
        } finally { release(ws); }
        synced("cudnnConvolutionBackwardFilter");
    }

    /** the algorithm of a direction of p: chosen by search on first use (once, whichever thread comes first), then cached */
    private Algo algo(ConvPlan p, int direction, Supplier<Algo> search) {
        Algo a = p.algos.get(direction);
        if (a != null) { hits.incrementAndGet(); return a; }
        synchronized (p) {
            a = p.algos.get(direction);
            if (a == null) {
                a = search.get();
                p.algos.set(direction, a);
                searches.incrementAndGet();
            } else hits.incrementAndGet();
            return a;
        }
    }

    private Algo findForward(cudnnContext h, ConvPlan p, DType t, Pointer x, Pointer w, Pointer y) {
        int count = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
        try (SizeTPointer sz = new SizeTPointer(1); cudnnConvolutionFwdAlgoPerf_t perf = new cudnnConvolutionFwdAlgoPerf_t(count)) {
            return search(t, p, "forward", "cudnnFindConvolutionForwardAlgorithmEx", "cudnnGetConvolutionForwardAlgorithm_v7", count,
                    i -> cudnnGetConvolutionForwardWorkspaceSize(h, p.x, p.w, p.conv, p.y, i, sz) == CUDNN_STATUS_SUCCESS
                            ? sz.get() : Long.MAX_VALUE,
                    (n, ws, limit) -> cudnnFindConvolutionForwardAlgorithmEx(h, p.x, x, p.w, w, p.conv, p.y, y, count, n, perf, ws, limit),
                    n -> cudnnGetConvolutionForwardAlgorithm_v7(h, p.x, p.w, p.conv, p.y, count, n, perf),
                    i -> { cudnnConvolutionFwdAlgoPerf_t e = perf.getPointer(i);
                        return new Result(e.status(), e.mathType(), e.memory(), e.algo(), e.determinism(), FWD_APPROXIMATE.contains(e.algo())); });
        }
    }

    private Algo findBackwardData(cudnnContext h, ConvPlan p, DType t, Pointer gy, Pointer w, Pointer gx) {
        int count = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
        try (SizeTPointer sz = new SizeTPointer(1); cudnnConvolutionBwdDataAlgoPerf_t perf = new cudnnConvolutionBwdDataAlgoPerf_t(count)) {
            return search(t, p, "backward-data", "cudnnFindConvolutionBackwardDataAlgorithmEx", "cudnnGetConvolutionBackwardDataAlgorithm_v7",
                    count,
                    i -> cudnnGetConvolutionBackwardDataWorkspaceSize(h, p.w, p.y, p.conv, p.x, i, sz) == CUDNN_STATUS_SUCCESS
                            ? sz.get() : Long.MAX_VALUE,
                    (n, ws, limit) -> cudnnFindConvolutionBackwardDataAlgorithmEx(h, p.w, w, p.y, gy, p.conv, p.x, gx, count, n, perf, ws, limit),
                    n -> cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p.w, p.y, p.conv, p.x, count, n, perf),
                    i -> { cudnnConvolutionBwdDataAlgoPerf_t e = perf.getPointer(i);
                        return new Result(e.status(), e.mathType(), e.memory(), e.algo(), e.determinism(), BWD_DATA_APPROXIMATE.contains(e.algo())); });
        }
    }

    private Algo findBackwardFilter(cudnnContext h, ConvPlan p, DType t, Pointer x, Pointer gy, Pointer gw) {
        int count = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
        try (SizeTPointer sz = new SizeTPointer(1); cudnnConvolutionBwdFilterAlgoPerf_t perf = new cudnnConvolutionBwdFilterAlgoPerf_t(count)) {
            return search(t, p, "backward-filter", "cudnnFindConvolutionBackwardFilterAlgorithmEx",
                    "cudnnGetConvolutionBackwardFilterAlgorithm_v7", count,
                    i -> cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p.x, p.y, p.conv, p.w, i, sz) == CUDNN_STATUS_SUCCESS
                            ? sz.get() : Long.MAX_VALUE,
                    (n, ws, limit) -> cudnnFindConvolutionBackwardFilterAlgorithmEx(h, p.x, x, p.y, gy, p.conv, p.w, gw, count, n, perf, ws, limit),
                    n -> cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p.x, p.y, p.conv, p.w, count, n, perf),
                    i -> { cudnnConvolutionBwdFilterAlgoPerf_t e = perf.getPointer(i);
                        return new Result(e.status(), e.mathType(), e.memory(), e.algo(), e.determinism(), BWD_FILTER_APPROXIMATE.contains(e.algo())); });
        }
    }

    /** one entry of a cudnn*AlgoPerf_t array (the three directions' structs have these fields but no common type) */
    private record Result(int status, int mathType, long memory, int algo, int determinism, boolean winogradOrFft) {}

    /** the Winograd and FFT algorithms of each direction (excluded by the deterministic policy) */
    static final java.util.Set<Integer> FWD_APPROXIMATE = java.util.Set.of(CUDNN_CONVOLUTION_FWD_ALGO_FFT,
            CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING, CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD, CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED);
    static final java.util.Set<Integer> BWD_DATA_APPROXIMATE = java.util.Set.of(CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT,
            CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING, CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD, CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED);
    static final java.util.Set<Integer> BWD_FILTER_APPROXIMATE = java.util.Set.of(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT,
            CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED);

    /** cudnnFind*AlgorithmEx of one direction: fills the perf array, the count in n[0] */
    private interface FindCall { int call(int[] n, Pointer workspace, long workspaceBytes); }

    /**
     * The search of one direction: time the algorithms with cudnnFind*AlgorithmEx in a workspace as large
     * as the hungriest one asks for (unless -Dpxprune.cuda.conv.search=heuristic or that workspace cannot be
     * had), take the fastest usable result (status success, no TF32 for float32, within the workspace);
     * failing that, cuDNN's heuristic cudnnGet*Algorithm_v7 within MAX_WORKSPACE.
     */
    private Algo search(DType t, ConvPlan p, String direction, String findName, String getName, int count, IntToLongFunction workspaceSize,
                        FindCall findCall, ToIntFunction<int[]> getCall, IntFunction<Result> result) {
        long[] sizes = new long[count];
        for (int i = 0; i < count; i++) sizes[i] = workspaceSize.applyAsLong(i);
        long limit = find ? searchWorkspace(sizes) : 0;
        Pointer ws = tryWorkspace(limit);
        if (ws == null) limit = 0;
        int[] n = new int[1];
        int r = !find ? HEURISTIC : findCall.call(n, ws, limit);
        release(ws);
        if (r == CUDNN_STATUS_SUCCESS) {
            Algo a = firstUsable(t, n[0], result, limit, findName, deterministic);
            if (a != null) return a;
        }
        String found = r == HEURISTIC ? "not run, -Dpxprune.cuda.conv.search=heuristic"
                : r == CUDNN_STATUS_SUCCESS ? "no usable result" : errorString(r);
        r = getCall.applyAsInt(n);
        check(r, getName + " (after Find: " + found + ")", p.shape);
        Algo a = firstUsable(t, n[0], result, MAX_WORKSPACE, getName, deterministic);
        if (a != null) return a;
        throw new IllegalStateException("cuDNN has no " + (deterministic ? "deterministic non-Winograd/FFT " : "") + direction
                + " algorithm for " + p.shape + " (Find: " + found + "); run with -Dpxprune.cuda.conv=gemm"
                + (deterministic ? " or -Dpxprune.cuda.conv.algo=fastest" : ""));
    }

    /**
     * the first of n results (cuDNN sorts them fastest first) that succeeded, fits t's math rule and maxWorkspace,
     * and (deterministic) is deterministic and neither Winograd nor FFT; or null
     */
    private static Algo firstUsable(DType t, int n, IntFunction<Result> result, long maxWorkspace, String how, boolean deterministic) {
        for (int i = 0; i < n; i++) {
            Result e = result.apply(i);
            if (deterministic && (e.determinism() != CUDNN_DETERMINISTIC || e.winogradOrFft())) continue;
            if (e.status() == CUDNN_STATUS_SUCCESS && mathOk(t, e.mathType()) && e.memory() <= maxWorkspace)
                return new Algo(e.algo(), e.memory(), how);
        }
        return null;
    }

    // ------------------------------------------------------------------ batch norm

    /**
     * whether cuDNN takes this batch norm: x [n, c, s] below 2^31 elements, more than one value per
     * channel (the unbiased variance needs two), eps at least CUDNN_BN_MIN_EPSILON
     */
    static boolean fits(int n, int c, long s, double eps) {
        return s <= Integer.MAX_VALUE && (long) n * c * s <= Integer.MAX_VALUE && (long) n * s >= 2 && eps >= CUDNN_BN_MIN_EPSILON;
    }

    private record BnKey(DType t, int n, int c, long s) {}

    private static final class BnPlan {
        final String shape;
        final cudnnTensorStruct x, channel;

        BnPlan(BnKey k) {
            shape = "batch norm [" + k.n() + ", " + k.c() + ", " + k.s() + "] " + k.t();
            x = tensor(k.t(), k.n(), k.c(), (int) k.s(), 1, shape);
            channel = tensor(k.t(), 1, k.c(), 1, 1, shape);
        }
    }

    private BnPlan bnPlan(DType t, int n, int c, long s) {
        dataType(t);
        return bns.computeIfAbsent(new BnKey(t, n, c, s), BnPlan::new);
    }

    /**
     * Training-mode batch norm, the Backend's contract: gamma, beta, runMean, runVar nullable (cuDNN wants
     * scale and bias, so ones and zeros stand in; running statistics both or neither, so a scratch
     * buffer stands in for a missing one). be: the backend, for the stand-in buffers.
     */
    void batchNormForward(CudaBackend be, DType t, int n, int c, long s, Pointer x, Pointer gamma, Pointer beta, double eps,
                          double momentum, Pointer runMean, Pointer runVar, Pointer y, Pointer mean, Pointer invstd) {
        BnPlan p = bnPlan(t, n, c, s);
        long bytes = (long) c * t.size;
        Pointer g = gamma != null ? gamma : ones(be, t, c);
        Pointer b = beta != null ? beta : zeros(be, bytes);
        boolean oneRunning = (runMean == null) != (runVar == null);
        Pointer rm = runMean, rv = runVar;
        if (oneRunning) { if (rm == null) rm = zeros(be, bytes); else rv = zeros(be, bytes); }
        try {
            check(cudnnBatchNormalizationForwardTraining(handle(), CUDNN_BATCHNORM_SPATIAL, one(t), zero(t), p.x, x, p.x, y,
                    p.channel, g, b, momentum, rm, rv, eps, mean, invstd), "cudnnBatchNormalizationForwardTraining", p.shape);
        } finally {
            if (gamma == null) cuda.freeScratch(g);
            if (beta == null) cuda.freeScratch(b);
            if (oneRunning) cuda.freeScratch(runMean == null ? rm : rv);
        }
        synced("cudnnBatchNormalizationForwardTraining");
    }

    /** the backward of {@link #batchNormForward}; gx, dgamma, dbeta nullable (scratch stands in: cuDNN writes all three) */
    void batchNormBackward(CudaBackend be, DType t, int n, int c, long s, Pointer x, Pointer gy, Pointer mean, Pointer invstd,
                           Pointer gamma, Pointer gx, Pointer dgamma, Pointer dbeta) {
        if (gx == null && dgamma == null && dbeta == null) return;
        BnPlan p = bnPlan(t, n, c, s);
        long bytes = (long) c * t.size;
        Pointer g = gamma != null ? gamma : ones(be, t, c);
        Pointer dx = gx != null ? gx : cuda.scratch((long) n * c * s * t.size);
        Pointer dg = dgamma != null ? dgamma : cuda.scratch(bytes), db = dbeta != null ? dbeta : cuda.scratch(bytes);
        try {
            // eps is only read when the saved statistics are null; ours never are
            check(cudnnBatchNormalizationBackward(handle(), CUDNN_BATCHNORM_SPATIAL, one(t), zero(t), one(t), zero(t), p.x, x,
                    p.x, gy, p.x, dx, p.channel, g, dg, db, 1e-5, mean, invstd), "cudnnBatchNormalizationBackward", p.shape);
        } finally {
            if (gamma == null) cuda.freeScratch(g);
            if (gx == null) cuda.freeScratch(dx);
            if (dgamma == null) cuda.freeScratch(dg);
            if (dbeta == null) cuda.freeScratch(db);
        }
        synced("cudnnBatchNormalizationBackward");
    }

    private Pointer zeros(CudaBackend be, long bytes) {
        Pointer p = cuda.scratch(bytes);
        be.zero(p, bytes);
        return p;
    }

    private Pointer ones(CudaBackend be, DType t, int c) {
        Pointer p = cuda.scratch((long) c * t.size);
        if (t == DType.F64) {
            double[] v = new double[c];
            java.util.Arrays.fill(v, 1);
            be.upload(v, p);
        } else {
            float[] v = new float[c];
            java.util.Arrays.fill(v, 1);
            be.upload(v, p);
        }
        return p;
    }

    @Override public String toString() {
        return "cuDNN " + version / 10000 + "." + version % 10000 / 100 + (find ? "" : " (heuristic algorithms)")
                + (deterministic ? " (deterministic algorithms, no Winograd/FFT)" : "");
    }
}
