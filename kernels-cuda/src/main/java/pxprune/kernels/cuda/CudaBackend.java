package pxprune.kernels.cuda;

import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_N;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_T;
import static org.bytedeco.cuda.global.cublas.cublasDgemm_v2;
import static org.bytedeco.cuda.global.cublas.cublasSgemm_v2;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToDevice;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudart.cudaMemsetAsync;
import static org.bytedeco.cuda.global.cudart.cudaStreamSynchronize;

import java.util.List;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import pxprune.kernels.Backend;
import pxprune.kernels.ConvGeometry;
import pxprune.kernels.DType;
import pxprune.kernels.Device;
import pxprune.kernels.MemoryStats;
import pxprune.kernels.PoolGeometry;

/**
 * The CUDA backend. Buffers are device memory (never managed memory) from the
 * {@link CachingAllocator}, which takes it from cudaMalloc in segments and caches what is freed; a
 * {@code Pointer} holds the device address and, like on the CPU, a byte position. Matrix products
 * go to cuBLAS (row-major by swapping the operands), convolutions and training-mode batch norm to
 * cuDNN ({@link Cudnn}; without it, or with {@code -Dpxprune.cuda.conv=gemm} / {@code -Dpxprune.cuda.bn=own},
 * convolutions to im2col + cuBLAS + the permute epilogue and batch norm to pxprune's kernels),
 * everything else to the hand-written kernels of native/src/main/cuda, which mirror the CPU kernels
 * one for one. Work is queued on the calling thread's own stream (cuDNN's handle of the thread is on
 * it too); uploads and downloads go through the thread's pinned buffer and wait for that stream only
 * (the ordering rules are in {@link Cuda}). Obtain it with {@code Backends.of(Device.CUDA)}.
 */
public final class CudaBackend implements Backend {
    private static CudaBackend instance;

    /** im2col scratch is bounded to this many elements; larger batches are processed in chunks */
    private static final long COL_LIMIT = 1L << 26;

    /** every typed kernel (each exists as NAME_f32 and NAME_f64) */
    static final List<String> TYPED_KERNELS = List.of("pxc_gemm", "pxc_im2col", "pxc_col2im", "pxc_permute", "pxc_bn_train_fwd",
            "pxc_channel_affine", "pxc_bn_train_bwd", "pxc_channel_sums", "pxc_maxpool_fwd", "pxc_pool_scatter",
            "pxc_pool_gather", "pxc_avgpool_fwd", "pxc_avgpool_bwd", "pxc_binary_contig", "pxc_binary", "pxc_unary",
            "pxc_reduce_sum_block", "pxc_reduce_sum_thread", "pxc_log_softmax", "pxc_pick", "pxc_place", "pxc_sgd");
    static final List<String> OTHER_KERNELS = List.of("pxc_convert_f32_f64", "pxc_convert_f64_f32");

    final Cuda cuda;

    private CudaBackend(Cuda cuda) { this.cuda = cuda; }

    /** the backend of CUDA device number device, created on first use; throws with the reason when it cannot be used */
    static synchronized CudaBackend instance(int device) {
        Cuda cuda = Cuda.get(device); // one device per process: another number fails there
        if (instance == null) instance = new CudaBackend(cuda);
        return instance;
    }

    /** the device, driver and kernels in use, in words */
    public String describe() { return cuda.toString(); }

    @Override public Device device() { return Device.CUDA; }

    private static String k(String base, DType t) {
        return switch (t) {
            case F32 -> base + "_f32";
            case F64 -> base + "_f64";
            default -> throw new IllegalArgumentException(t + " tensors hold indices; arithmetic needs F32 or F64");
        };
    }

    // ------------------------------------------------------------------ memory

    @Override public Pointer allocate(long bytes) {
        Pointer p = cuda.malloc(bytes);
        zero(p, Math.max(1, bytes));
        return p;
    }

    @Override public Pointer allocateUninitialized(long bytes) { return cuda.malloc(bytes); }

    @Override public void free(Pointer p) { cuda.free(p); }

    /** the caching allocator's statistics (device memory) */
    @Override public MemoryStats memoryStats() { return cuda.allocator.stats(); }

    @Override public void resetPeakMemory() { cuda.allocator.resetPeak(); }

    /** waits for the device, then gives the allocator's free segments back to the driver */
    @Override public long releaseCached() { return cuda.allocator.releaseCached(); }

    @Override public void synchronize() { cuda.synchronize(); }

    /**
     * Notes that this thread's stream uses p, a buffer another thread allocated and will free, so
     * that its reuse waits for this thread's work (PyTorch's {@code record_stream}).
     */
    public void recordUse(Pointer p) { cuda.recordUse(p); }

    @Override public void zero(Pointer p, long bytes) {
        if (bytes <= 0) return;
        Cuda.rt(cudaMemsetAsync(p, 0, bytes, cuda.stream()), "cudaMemsetAsync");
    }

    @Override public void copy(Pointer src, Pointer dst, long bytes) {
        if (bytes <= 0) return;
        Cuda.rt(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, cuda.stream()), "cudaMemcpyAsync (device to device)");
    }

    /** puts {@code n} bytes from offset {@code off} into the pinned buffer (before the copy to the device) */
    private interface Fill { void into(Pointer pinned, long off, long n); }

    /** takes {@code n} bytes for offset {@code off} out of the pinned buffer (after the copy from the device) */
    private interface Drain { void from(Pointer pinned, long off, long n); }

    /** host to device through the pinned buffer, a piece at a time, each awaited on this thread's stream */
    private void toDevice(Fill fill, Pointer dst, long bytes) {
        if (bytes <= 0) return;
        CUstream_st s = cuda.stream();
        Pointer pinned = cuda.pinned(bytes);
        for (long off = 0; off < bytes; off += pinned.capacity()) {
            long n = Math.min(pinned.capacity(), bytes - off);
            fill.into(pinned, off, n);
            Cuda.rt(cudaMemcpyAsync(offset(dst, off), pinned, n, cudaMemcpyHostToDevice, s), "cudaMemcpyAsync (upload)");
            Cuda.rt(cudaStreamSynchronize(s), "cudaStreamSynchronize (upload)");
        }
    }

    /** device to host through the pinned buffer: waits for the work queued before on this thread's stream */
    private void toHost(Pointer src, Drain drain, long bytes) {
        if (bytes <= 0) return;
        CUstream_st s = cuda.stream();
        Pointer pinned = cuda.pinned(bytes);
        for (long off = 0; off < bytes; off += pinned.capacity()) {
            long n = Math.min(pinned.capacity(), bytes - off);
            Cuda.rt(cudaMemcpyAsync(pinned, offset(src, off), n, cudaMemcpyDeviceToHost, s), "cudaMemcpyAsync (download)");
            Cuda.rt(cudaStreamSynchronize(s), "cudaStreamSynchronize (download)");
            drain.from(pinned, off, n);
        }
    }

    private static Pointer offset(Pointer p, long bytes) { return new Pointer(p).position(p.position() + bytes); }

    @Override public void uploadFrom(Pointer host, Pointer dst, long bytes) {
        toDevice((pin, off, n) -> Pointer.memcpy(pin, offset(host, off), n), dst, bytes);
    }

    @Override public void downloadTo(Pointer src, Pointer host, long bytes) {
        toHost(src, (pin, off, n) -> Pointer.memcpy(offset(host, off), pin, n), bytes);
    }

    @Override public void upload(float[] src, Pointer dst) {
        toDevice((pin, off, n) -> new FloatPointer(pin).put(src, (int) (off / 4), (int) (n / 4)), dst, 4L * src.length);
    }

    @Override public void upload(double[] src, Pointer dst) {
        toDevice((pin, off, n) -> new DoublePointer(pin).put(src, (int) (off / 8), (int) (n / 8)), dst, 8L * src.length);
    }

    @Override public void upload(int[] src, Pointer dst) {
        toDevice((pin, off, n) -> new IntPointer(pin).put(src, (int) (off / 4), (int) (n / 4)), dst, 4L * src.length);
    }

    @Override public void download(Pointer src, float[] dst) {
        toHost(src, (pin, off, n) -> new FloatPointer(pin).get(dst, (int) (off / 4), (int) (n / 4)), 4L * dst.length);
    }

    @Override public void download(Pointer src, double[] dst) {
        toHost(src, (pin, off, n) -> new DoublePointer(pin).get(dst, (int) (off / 8), (int) (n / 8)), 8L * dst.length);
    }

    @Override public void download(Pointer src, int[] dst) {
        toHost(src, (pin, off, n) -> new IntPointer(pin).get(dst, (int) (off / 4), (int) (n / 4)), 4L * dst.length);
    }

    /** a view of p advanced by {@code elems} elements of type t */
    static Pointer at(Pointer p, DType t, long elems) { return new Pointer(p).position(p.position() + elems * t.size); }

    // ------------------------------------------------------------------ matrix products

    private static final ThreadLocal<FloatPointer> F_SCALARS = ThreadLocal.withInitial(() -> new FloatPointer(2));
    private static final ThreadLocal<DoublePointer> D_SCALARS = ThreadLocal.withInitial(() -> new DoublePointer(2));

    /**
     * Row-major C = alpha op(A) op(B) + beta C as the column-major product C^T = op(B)^T op(A)^T:
     * cuBLAS gets B first, with n and m swapped. Without cuBLAS (see {@link #describe()}), pxprune's
     * own tiled kernel.
     */
    @Override
    public void gemm(DType t, boolean transA, boolean transB, int m, int n, int k, double alpha, Pointer a, int lda,
                     Pointer b, int ldb, double beta, Pointer c, int ldc) {
        if (m == 0 || n == 0) return;
        if (cuda.cublasMissing != null) {
            ownGemm(t, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        int opA = transA ? CUBLAS_OP_T : CUBLAS_OP_N, opB = transB ? CUBLAS_OP_T : CUBLAS_OP_N;
        cublasContext blas = cuda.blas();
        if (t == DType.F32) {
            FloatPointer s = F_SCALARS.get();
            s.put(0, (float) alpha).put(1, (float) beta);
            Cuda.blasCheck(cublasSgemm_v2(blas, opB, opA, n, m, k, s.position(0), fp(b), ldb, fp(a), lda,
                    new FloatPointer(s).position(1), fp(c), ldc), "sgemm");
        } else if (t == DType.F64) {
            DoublePointer s = D_SCALARS.get();
            s.put(0, alpha).put(1, beta);
            Cuda.blasCheck(cublasDgemm_v2(blas, opB, opA, n, m, k, s.position(0), dp(b), ldb, dp(a), lda,
                    new DoublePointer(s).position(1), dp(c), ldc), "dgemm");
        } else throw new IllegalArgumentException("gemm needs F32 or F64, got " + t);
        if (cuda.syncEveryLaunch) Cuda.rt(cudaStreamSynchronize(cuda.stream()), "gemm");
    }

    /** the gemm kernel used when cuBLAS is absent (package-private for tests) */
    void ownGemm(DType t, boolean transA, boolean transB, int m, int n, int k, double alpha, Pointer a, int lda, Pointer b,
                 int ldb, double beta, Pointer c, int ldc) {
        if (m == 0 || n == 0) return;
        if ((m + 63) / 64 > 65535) throw new IllegalArgumentException("gemm: m = " + m + " is too large for the gemm kernel");
        cuda.launch(k("pxc_gemm", t), (n + 63) / 64, (m + 63) / 64, 1, cuda.args().i32(transA ? 1 : 0).i32(transB ? 1 : 0).i32(m)
                .i32(n).i32(k).f64(alpha).ptr(a).i32(lda).ptr(b).i32(ldb).f64(beta).ptr(c).i32(ldc));
    }

    /** typed views of a byte-positioned device pointer (typed pointers are positioned in elements) */
    private static FloatPointer fp(Pointer p) { return new FloatPointer(p).position(p.position() / 4); }
    private static DoublePointer dp(Pointer p) { return new DoublePointer(p).position(p.position() / 8); }

    // ------------------------------------------------------------------ convolution: im2col + gemm

    /** images per chunk so that the im2col matrix stays below COL_LIMIT elements */
    private static int chunk(ConvGeometry g) {
        long per = (long) g.c() * g.kh() * g.kw() * g.oh() * g.ow();
        return (int) Math.max(1, Math.min(g.n(), COL_LIMIT / Math.max(1, per)));
    }

    void im2col(DType t, ConvGeometry g, Pointer x, int nn, Pointer col) {
        long total = (long) g.c() * g.kh() * g.kw() * nn * g.oh() * g.ow();
        cuda.launch1d(k("pxc_im2col", t), total, cuda.args().ptr(x).i32(nn).i32(g.c()).i32(g.h()).i32(g.w()).i32(g.kh())
                .i32(g.kw()).i32(g.sh()).i32(g.sw()).i32(g.ph()).i32(g.pw()).i32(g.dh()).i32(g.dw()).i32(g.oh())
                .i32(g.ow()).ptr(col));
    }

    void col2im(DType t, ConvGeometry g, Pointer col, int nn, Pointer x) {
        long total = (long) nn * g.c() * g.h() * g.w();
        cuda.launch1d(k("pxc_col2im", t), total, cuda.args().ptr(col).i32(nn).i32(g.c()).i32(g.h()).i32(g.w()).i32(g.kh())
                .i32(g.kw()).i32(g.sh()).i32(g.sw()).i32(g.ph()).i32(g.pw()).i32(g.dh()).i32(g.dw()).i32(g.oh())
                .i32(g.ow()).ptr(x));
    }

    /** cuDNN's convolution forward where {@link Cuda#convCudnn()} gives it and the shape fits, else im2col + gemm */
    @Override
    public void conv2dForward(DType t, ConvGeometry g, Pointer x, Pointer w, Pointer bias, Pointer y) {
        Cudnn d = cuda.convCudnn();
        if (d != null && Cudnn.fits(g)) d.forward(t, g, x, w, bias, y);
        else gemmConv2dForward(t, g, x, w, bias, y);
    }

    /** cuDNN's backward data where {@link Cuda#convCudnn()} gives it and the shape fits, else gemm + col2im */
    @Override
    public void conv2dBackwardData(DType t, ConvGeometry g, Pointer gy, Pointer w, Pointer gx) {
        Cudnn d = cuda.convCudnn();
        if (d != null && Cudnn.fits(g)) d.backwardData(t, g, gy, w, gx);
        else gemmConv2dBackwardData(t, g, gy, w, gx);
    }

    /** cuDNN's backward filter where {@link Cuda#convCudnn()} gives it and the shape fits, else im2col + gemm */
    @Override
    public void conv2dBackwardWeight(DType t, ConvGeometry g, Pointer x, Pointer gy, Pointer gw) {
        Cudnn d = cuda.convCudnn();
        if (d != null && Cudnn.fits(g)) d.backwardFilter(t, g, x, gy, gw);
        else gemmConv2dBackwardWeight(t, g, x, gy, gw);
    }

    /** convolution forward by im2col + gemm + the permute epilogue (the path without cuDNN; package-private for tests) */
    void gemmConv2dForward(DType t, ConvGeometry g, Pointer x, Pointer w, Pointer bias, Pointer y) {
        int nb = chunk(g), ohw = g.oh() * g.ow(), rows = g.groupRows(), kg = g.k() / g.groups();
        Pointer col = cuda.scratch((long) g.c() * g.kh() * g.kw() * nb * ohw * t.size);
        Pointer out = cuda.scratch((long) g.k() * nb * ohw * t.size);
        try {
            for (int n0 = 0; n0 < g.n(); n0 += nb) {
                int nn = Math.min(nb, g.n() - n0), cols = nn * ohw;
                im2col(t, g, at(x, t, (long) n0 * g.c() * g.h() * g.w()), nn, col);
                for (int gi = 0; gi < g.groups(); gi++)
                    gemm(t, false, false, kg, cols, rows, 1, at(w, t, (long) gi * kg * rows), rows,
                            at(col, t, (long) gi * rows * cols), cols, 0, at(out, t, (long) gi * kg * cols), cols);
                permute(t, g.k(), nn, ohw, out, bias, null, at(y, t, (long) n0 * g.k() * ohw));
            }
        } finally { cuda.freeScratch(col); cuda.freeScratch(out); }
    }

    /** backward data by gemm + col2im (the path without cuDNN; package-private for tests) */
    void gemmConv2dBackwardData(DType t, ConvGeometry g, Pointer gy, Pointer w, Pointer gx) {
        int nb = chunk(g), ohw = g.oh() * g.ow(), rows = g.groupRows(), kg = g.k() / g.groups();
        long img = (long) g.c() * g.h() * g.w();
        Pointer col = cuda.scratch((long) g.c() * g.kh() * g.kw() * nb * ohw * t.size);
        Pointer gyT = cuda.scratch((long) g.k() * nb * ohw * t.size);
        try {
            zero(gx, g.n() * img * t.size);
            for (int n0 = 0; n0 < g.n(); n0 += nb) {
                int nn = Math.min(nb, g.n() - n0), cols = nn * ohw;
                permute(t, nn, g.k(), ohw, at(gy, t, (long) n0 * g.k() * ohw), null, null, gyT);
                for (int gi = 0; gi < g.groups(); gi++)
                    gemm(t, true, false, rows, cols, kg, 1, at(w, t, (long) gi * kg * rows), rows,
                            at(gyT, t, (long) gi * kg * cols), cols, 0, at(col, t, (long) gi * rows * cols), cols);
                col2im(t, g, col, nn, at(gx, t, n0 * img));
            }
        } finally { cuda.freeScratch(col); cuda.freeScratch(gyT); }
    }

    /** backward filter by im2col + gemm (the path without cuDNN; package-private for tests) */
    void gemmConv2dBackwardWeight(DType t, ConvGeometry g, Pointer x, Pointer gy, Pointer gw) {
        int nb = chunk(g), ohw = g.oh() * g.ow(), rows = g.groupRows(), kg = g.k() / g.groups();
        Pointer col = cuda.scratch((long) g.c() * g.kh() * g.kw() * nb * ohw * t.size);
        Pointer gyT = cuda.scratch((long) g.k() * nb * ohw * t.size);
        try {
            for (int n0 = 0; n0 < g.n(); n0 += nb) {
                int nn = Math.min(nb, g.n() - n0), cols = nn * ohw;
                im2col(t, g, at(x, t, (long) n0 * g.c() * g.h() * g.w()), nn, col);
                permute(t, nn, g.k(), ohw, at(gy, t, (long) n0 * g.k() * ohw), null, null, gyT);
                for (int gi = 0; gi < g.groups(); gi++)
                    gemm(t, false, true, kg, rows, cols, 1, at(gyT, t, (long) gi * kg * cols), cols,
                            at(col, t, (long) gi * rows * cols), cols, n0 == 0 ? 0 : 1, at(gw, t, (long) gi * kg * rows), rows);
            }
        } finally { cuda.freeScratch(col); cuda.freeScratch(gyT); }
    }

    // ------------------------------------------------------------------ batch norm

    /**
     * cuDNN's batch norm ({@link Cudnn#batchNormForward}) where {@link Cuda#bnCudnn()} gives it and the
     * shape fits, else pxprune's kernel (one block per channel). cuDNN is the default because it is
     * what PyTorch uses; that it is faster than ours has not been measured (no GPU where this was written).
     */
    @Override
    public void batchNormTrainForward(DType t, int n, int c, long s, Pointer x, Pointer gamma, Pointer beta, double eps,
                                      double momentum, Pointer runMean, Pointer runVar, Pointer y, Pointer mean, Pointer invstd) {
        Cudnn d = cuda.bnCudnn();
        if (d != null && Cudnn.fits(n, c, s, eps))
            d.batchNormForward(this, t, n, c, s, x, gamma, beta, eps, momentum, runMean, runVar, y, mean, invstd);
        else ownBatchNormTrainForward(t, n, c, s, x, gamma, beta, eps, momentum, runMean, runVar, y, mean, invstd);
    }

    /** cuDNN's batch-norm backward or pxprune's kernel, chosen as in {@link #batchNormTrainForward} */
    @Override
    public void batchNormTrainBackward(DType t, int n, int c, long s, Pointer x, Pointer gy, Pointer mean, Pointer invstd,
                                       Pointer gamma, Pointer gx, Pointer dgamma, Pointer dbeta) {
        Cudnn d = cuda.bnCudnn();
        if (d != null && Cudnn.fits(n, c, s, 1e-5)) d.batchNormBackward(this, t, n, c, s, x, gy, mean, invstd, gamma, gx, dgamma, dbeta);
        else ownBatchNormTrainBackward(t, n, c, s, x, gy, mean, invstd, gamma, gx, dgamma, dbeta);
    }

    /** pxprune's batch-norm forward kernel (package-private for tests) */
    void ownBatchNormTrainForward(DType t, int n, int c, long s, Pointer x, Pointer gamma, Pointer beta, double eps,
                                  double momentum, Pointer runMean, Pointer runVar, Pointer y, Pointer mean, Pointer invstd) {
        cuda.launch(k("pxc_bn_train_fwd", t), c, 1, 1, cuda.args().ptr(x).i32(n).i32(c).i64(s).ptr(gamma).ptr(beta).f64(eps)
                .f64(momentum).ptr(runMean).ptr(runVar).ptr(y).ptr(mean).ptr(invstd));
    }

    /** pxprune's batch-norm backward kernel (package-private for tests) */
    void ownBatchNormTrainBackward(DType t, int n, int c, long s, Pointer x, Pointer gy, Pointer mean, Pointer invstd,
                                   Pointer gamma, Pointer gx, Pointer dgamma, Pointer dbeta) {
        cuda.launch(k("pxc_bn_train_bwd", t), c, 1, 1, cuda.args().ptr(x).ptr(gy).i32(n).i32(c).i64(s).ptr(mean).ptr(invstd)
                .ptr(gamma).ptr(gx).ptr(dgamma).ptr(dbeta));
    }

    @Override
    public void channelAffine(DType t, int n, int c, long s, Pointer x, Pointer scale, Pointer shift, Pointer y) {
        cuda.launch1d(k("pxc_channel_affine", t), (long) n * c * s,
                cuda.args().ptr(x).i32(n).i32(c).i64(s).ptr(scale).ptr(shift).ptr(y));
    }

    @Override public void channelSums(DType t, int n, int c, long s, Pointer a, Pointer b, Pointer out) {
        cuda.launch(k("pxc_channel_sums", t), c, 1, 1, cuda.args().ptr(a).ptr(b).i32(n).i32(c).i64(s).ptr(out));
    }

    // ------------------------------------------------------------------ pooling

    @Override public void maxPoolForward(DType t, PoolGeometry g, Pointer x, Pointer y, Pointer idx) {
        cuda.launch1d(k("pxc_maxpool_fwd", t), g.planes() * g.outPlane(), cuda.args().ptr(x).ints(g.toArray()).ptr(y).ptr(idx));
    }

    @Override public void poolScatter(DType t, long nc, long hw, long ohw, Pointer gy, Pointer idx, Pointer gx) {
        cuda.launch1d(k("pxc_pool_scatter", t), nc * ohw, cuda.args().ptr(gy).ptr(idx).i64(nc).i64(hw).i64(ohw).ptr(gx));
    }

    @Override public void poolGather(DType t, long nc, long hw, long ohw, Pointer g, Pointer idx, Pointer out) {
        cuda.launch1d(k("pxc_pool_gather", t), nc * ohw, cuda.args().ptr(g).ptr(idx).i64(nc).i64(hw).i64(ohw).ptr(out));
    }

    /** average pooling's kernels take no padding (the C++ kernels refuse it the same way) */
    private static void requireNoPadding(String kernel, PoolGeometry g) {
        if (g.ph() != 0 || g.pw() != 0)
            throw new IllegalArgumentException(kernel + ": average pooling takes no padding, got " + g.ph() + "x" + g.pw());
    }

    @Override public void avgPoolForward(DType t, PoolGeometry g, Pointer x, Pointer y) {
        requireNoPadding("avgpool_fwd", g);
        cuda.launch1d(k("pxc_avgpool_fwd", t), g.planes() * g.outPlane(), cuda.args().ptr(x).ints(g.toArray()).ptr(y));
    }

    @Override public void avgPoolBackward(DType t, PoolGeometry g, Pointer gy, Pointer gx) {
        requireNoPadding("avgpool_bwd", g);
        cuda.launch1d(k("pxc_avgpool_bwd", t), g.planes() * g.inPlane(), cuda.args().ptr(gy).ints(g.toArray()).ptr(gx));
    }

    // ------------------------------------------------------------------ elementwise, reductions

    static final int MAX_DIMS = 8;

    @Override public void binary(DType t, int op, Pointer a, int[] as, Pointer b, int[] bs, int[] shape, Pointer out) {
        long n = 1;
        for (int s : shape) n *= s;
        if (n == 0) return;
        boolean ca = true, cb = true;
        long st = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1) {
                if (as[d] != st) ca = false;
                if (bs[d] != st) cb = false;
            }
            st *= shape[d];
        }
        if (ca && cb) {
            cuda.launch1d(k("pxc_binary_contig", t), n, cuda.args().i32(op).ptr(a).ptr(b).ptr(out).i64(n));
            return;
        }
        // drop size-1 dims, merge neighbours that are contiguous for both operands
        int[] sh = new int[shape.length], sa = new int[shape.length], sb = new int[shape.length];
        int nd = 0;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) continue;
            if (nd > 0 && sa[nd - 1] == (long) as[d] * shape[d] && sb[nd - 1] == (long) bs[d] * shape[d]) {
                sh[nd - 1] *= shape[d];
                sa[nd - 1] = as[d];
                sb[nd - 1] = bs[d];
            } else {
                sh[nd] = shape[d];
                sa[nd] = as[d];
                sb[nd] = bs[d];
                nd++;
            }
        }
        if (nd > MAX_DIMS)
            throw new IllegalArgumentException("CUDA binary op: at most " + MAX_DIMS + " non-mergeable dims, got " + nd);
        int[] s = new int[1 + 3 * MAX_DIMS];
        s[0] = nd;
        System.arraycopy(sh, 0, s, 1, nd);
        System.arraycopy(sa, 0, s, 1 + MAX_DIMS, nd);
        System.arraycopy(sb, 0, s, 1 + 2 * MAX_DIMS, nd);
        cuda.launch1d(k("pxc_binary", t), n, cuda.args().i32(op).ptr(a).ptr(b).ptr(out).i64(n).ints(s));
    }

    @Override public void unary(DType t, int op, Pointer x, long n, double alpha, double beta, Pointer out) {
        cuda.launch1d(k("pxc_unary", t), n, cuda.args().i32(op).ptr(x).i64(n).f64(alpha).f64(beta).ptr(out));
    }

    @Override public void reduceSum(DType t, Pointer in, int[] shape, int[] os, long outN, Pointer out) {
        long n = 1;
        for (int s : shape) n *= s;
        if (n == 0 || outN == 0) return;
        int[] sh = new int[shape.length], so = new int[shape.length];
        int nd = 0;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) continue;
            boolean merge = nd > 0 && (so[nd - 1] == 0 && os[d] == 0
                    || so[nd - 1] != 0 && os[d] != 0 && so[nd - 1] == (long) os[d] * shape[d]);
            if (merge) {
                sh[nd - 1] *= shape[d];
                so[nd - 1] = os[d];
            } else {
                sh[nd] = shape[d];
                so[nd] = os[d];
                nd++;
            }
        }
        if (nd > MAX_DIMS)
            throw new IllegalArgumentException("CUDA reduceSum: at most " + MAX_DIMS + " non-mergeable dims, got " + nd);
        int[] s = new int[1 + 2 * MAX_DIMS];
        s[0] = nd;
        System.arraycopy(sh, 0, s, 1, nd);
        System.arraycopy(so, 0, s, 1 + MAX_DIMS, nd);
        long red = n / outN;
        Cuda.Args a = cuda.args().ptr(in).ptr(out).i64(outN).i64(red).ints(s);
        if (red >= Cuda.BLOCK || outN < 4096) cuda.launch(k("pxc_reduce_sum_block", t), Math.min(outN, 1L << 20), 1, 1, a);
        else cuda.launch1d(k("pxc_reduce_sum_thread", t), outN, a);
    }

    @Override public void logSoftmax(DType t, long rows, int k, Pointer x, Pointer y) {
        cuda.launch1d(k("pxc_log_softmax", t), rows, cuda.args().ptr(x).i64(rows).i32(k).ptr(y));
    }

    @Override public void pick(DType t, long rows, int k, Pointer x, Pointer idx, Pointer out) {
        cuda.launch1d(k("pxc_pick", t), rows, cuda.args().ptr(x).ptr(idx).i64(rows).i32(k).ptr(out));
    }

    @Override public void place(DType t, long rows, int k, Pointer g, Pointer idx, Pointer gx) {
        cuda.launch1d(k("pxc_place", t), rows, cuda.args().ptr(g).ptr(idx).i64(rows).i32(k).ptr(gx));
    }

    @Override public void permute(DType t, int a, int b, long x, Pointer in, Pointer bias, Pointer gate, Pointer out) {
        cuda.launch1d(k("pxc_permute", t), (long) a * b * x, cuda.args().ptr(in).i32(a).i32(b).i64(x).ptr(bias).ptr(gate).ptr(out));
    }

    @Override
    public void sgd(DType t, long n, Pointer p, Pointer g, Pointer buf, Pointer mask, double lr, double momentum,
                    double dampening, double weightDecay, boolean nesterov, boolean firstStep) {
        cuda.launch1d(k("pxc_sgd", t), n, cuda.args().ptr(p).ptr(g).ptr(buf).ptr(mask).i64(n).f64(lr).f64(momentum)
                .f64(dampening).f64(weightDecay).i32(nesterov ? 1 : 0).i32(firstStep ? 1 : 0));
    }

    @Override public void convert(DType from, Pointer in, DType to, Pointer out, long n) {
        if (from == to) { copy(in, out, n * from.size); return; }
        if (from == DType.F32 && to == DType.F64)
            cuda.launch1d("pxc_convert_f32_f64", n, cuda.args().ptr(in).ptr(out).i64(n));
        else if (from == DType.F64 && to == DType.F32)
            cuda.launch1d("pxc_convert_f64_f32", n, cuda.args().ptr(in).ptr(out).i64(n));
        else throw new IllegalArgumentException("convert: " + from + " to " + to + " is not supported");
    }
}
