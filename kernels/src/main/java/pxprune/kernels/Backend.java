package pxprune.kernels;

import org.bytedeco.javacpp.Pointer;

/**
 * The operations the tensor library needs from a device. Every {@code Pointer} is a device
 * buffer positioned at its first element (core passes views with a byte position); every buffer
 * is contiguous. Outputs that a kernel accumulates into are documented as such; all others are
 * overwritten. Implementations are stateless and thread-safe.
 */
public interface Backend {
    Device device();

    /**
     * The kernels of type T that a module above the engine registers for this backend's device
     * ({@link KernelExtension}), created on first use and kept; throws IllegalStateException with the
     * reason when there are none or they cannot be used.
     */
    default <T> T extension(Class<T> type) { return KernelExtensions.of(this, type); }

    /** a zero-filled buffer of {@code bytes} bytes, owned by the caller, freed with {@link #free}. */
    Pointer allocate(long bytes);

    /** a buffer whose contents are undefined (for outputs a kernel overwrites entirely) */
    default Pointer allocateUninitialized(long bytes) { return allocate(bytes); }

    void free(Pointer p);

    void zero(Pointer p, long bytes);

    void copy(Pointer src, Pointer dst, long bytes);

    /** copies {@code bytes} from host memory (a CPU backend buffer) into dst on this device */
    void uploadFrom(Pointer host, Pointer dst, long bytes);

    /** copies {@code bytes} from src on this device into host memory (a CPU backend buffer) */
    void downloadTo(Pointer src, Pointer host, long bytes);

    void upload(float[] src, Pointer dst);

    void upload(double[] src, Pointer dst);

    void upload(int[] src, Pointer dst);

    void download(Pointer src, float[] dst);

    void download(Pointer src, double[] dst);

    void download(Pointer src, int[] dst);

    /** C = alpha op(A) op(B) + beta C, row-major. */
    void gemm(DType t, boolean transA, boolean transB, int m, int n, int k, double alpha, Pointer a, int lda,
              Pointer b, int ldb, double beta, Pointer c, int ldc);

    /** y = conv(x, w) + bias (bias may be null). */
    void conv2dForward(DType t, ConvGeometry g, Pointer x, Pointer w, Pointer bias, Pointer y);

    /** gx = the gradient of conv w.r.t. x for upstream gy (overwrites gx). */
    void conv2dBackwardData(DType t, ConvGeometry g, Pointer gy, Pointer w, Pointer gx);

    /** gw = the gradient of conv w.r.t. w for upstream gy (overwrites gw). */
    void conv2dBackwardWeight(DType t, ConvGeometry g, Pointer x, Pointer gy, Pointer gw);

    /**
     * Whether this backend runs the sparse convolution kernels (the {@code sparseConv2d*} methods)
     * for this element type and geometry; where it does not, callers use the dense products.
     */
    default boolean sparseConv(DType t, ConvGeometry g) { return false; }

    /**
     * y = conv(x, w * mask) + bias (bias may be null), computed at the kept weights only: the
     * pruned entries of w are not read.
     */
    default void sparseConv2dForward(DType t, ConvGeometry g, KeptWeights kept, Pointer x, Pointer w, Pointer bias, Pointer y) {
        throw new UnsupportedOperationException(device() + " backend has no sparse convolution kernels; use the dense path");
    }

    /** gx = the gradient of conv(x, w * mask) w.r.t. x for upstream gy (overwrites gx) */
    default void sparseConv2dBackwardData(DType t, ConvGeometry g, KeptWeights kept, Pointer gy, Pointer w, Pointer gx) {
        throw new UnsupportedOperationException(device() + " backend has no sparse convolution kernels; use the dense path");
    }

    /**
     * gw = the gradient of conv(x, w * mask) w.r.t. w for upstream gy (overwrites gw; zero at the
     * pruned weights)
     */
    default void sparseConv2dBackwardWeight(DType t, ConvGeometry g, KeptWeights kept, Pointer x, Pointer gy, Pointer gw) {
        throw new UnsupportedOperationException(device() + " backend has no sparse convolution kernels; use the dense path");
    }

    /** Batch norm with batch statistics over x [n, c, s]; running stats (nullable) updated in place. */
    void batchNormTrainForward(DType t, int n, int c, long s, Pointer x, Pointer gamma, Pointer beta, double eps,
                               double momentum, Pointer runMean, Pointer runVar, Pointer y, Pointer mean, Pointer invstd);

    /** Backward of the batch-statistics batch norm; gx, dgamma, dbeta each nullable. */
    void batchNormTrainBackward(DType t, int n, int c, long s, Pointer x, Pointer gy, Pointer mean, Pointer invstd,
                                Pointer gamma, Pointer gx, Pointer dgamma, Pointer dbeta);

    /** y[n,c,s] = x[n,c,s] * scale[c] + shift[c] (either nullable). */
    void channelAffine(DType t, int n, int c, long s, Pointer x, Pointer scale, Pointer shift, Pointer y);

    /** out[c] = sum over n, s of a[n,c,s] (times b[n,c,s] if b is not null). */
    void channelSums(DType t, int n, int c, long s, Pointer a, Pointer b, Pointer out);

    /**
     * Max pooling of x [g.n, g.c, g.h, g.w] into y [g.n, g.c, g.oh, g.ow]; idx (I32, y's shape) gets
     * each window's argmax as a flat index into its [h, w] plane (the first maximum; a NaN wins).
     */
    void maxPoolForward(DType t, PoolGeometry g, Pointer x, Pointer y, Pointer idx);

    /** gx[idx] += gy through pooling indices (gx accumulates). */
    void poolScatter(DType t, long nc, long hw, long ohw, Pointer gy, Pointer idx, Pointer gx);

    /** out = g[idx] through pooling indices. */
    void poolGather(DType t, long nc, long hw, long ohw, Pointer g, Pointer idx, Pointer out);

    /** Average pooling of x into y; g has no padding. */
    void avgPoolForward(DType t, PoolGeometry g, Pointer x, Pointer y);

    /** Average pooling's backward: gx accumulates gy spread over each window; g has no padding. */
    void avgPoolBackward(DType t, PoolGeometry g, Pointer gy, Pointer gx);

    /** broadcasting binary op over {@code shape}; as/bs: element strides of a and b (0 = broadcast). */
    void binary(DType t, int op, Pointer a, int[] as, Pointer b, int[] bs, int[] shape, Pointer out);

    void unary(DType t, int op, Pointer x, long n, double alpha, double beta, Pointer out);

    /** out (zeroed by the caller, accumulates) = sum of in over the dims where os is 0. */
    void reduceSum(DType t, Pointer in, int[] shape, int[] os, long outN, Pointer out);

    void logSoftmax(DType t, long rows, int k, Pointer x, Pointer y);

    void pick(DType t, long rows, int k, Pointer x, Pointer idx, Pointer out);

    /** gx accumulates. */
    void place(DType t, long rows, int k, Pointer g, Pointer idx, Pointer gx);

    /** conv-output epilogue: out[b,a,x] = (in[a,b,x] + bias[a]) * gate[b,a,x] (bias, gate nullable). */
    void permute(DType t, int a, int b, long x, Pointer in, Pointer bias, Pointer gate, Pointer out);

    /** PyTorch's SGD step, in place, with an optional 0/1 mask applied to weight, momentum and step. */
    void sgd(DType t, long n, Pointer p, Pointer g, Pointer buf, Pointer mask, double lr, double momentum,
             double dampening, double weightDecay, boolean nesterov, boolean firstStep);

    void convert(DType from, Pointer in, DType to, Pointer out, long n);

    /**
     * This backend's memory accounting now: what is allocated, what is held from the system, peaks
     * and counts. Leak tests compare {@code allocatedBytes} with a baseline.
     */
    default MemoryStats memoryStats() { return MemoryStats.NONE; }

    /**
     * Starts a new peak: {@code memoryStats().peakAllocatedBytes} becomes what is allocated now, so
     * that the peak of one piece of work (a training step, a scoring) can be read after it.
     */
    default void resetPeakMemory() {}

    /**
     * Gives memory this backend caches but does not use back to the system (on CUDA: the caching
     * allocator's free segments, after waiting for the device); returns the bytes released.
     */
    default long releaseCached() { return 0; }

    /**
     * Waits until the work this thread queued on the device is done (on CUDA: this thread's stream).
     * Downloads do this on their own; call it before timing, or before handing a buffer this thread
     * computed to another thread.
     */
    default void synchronize() {}
}
