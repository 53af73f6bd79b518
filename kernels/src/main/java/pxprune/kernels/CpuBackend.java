package pxprune.kernels;

import static pxprune.jni.PxNative.*;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas;

/**
 * The CPU backend: matrix products (and so convolutions, as im2col + gemm) through OpenBLAS's
 * cblas_sgemm/dgemm via the JavaCPP presets; every other loop in the native module's C++.
 * Stateless: scratch buffers are allocated per call and freed before it returns.
 */
public final class CpuBackend implements Backend {
    public static final CpuBackend INSTANCE = new CpuBackend();
    /** im2col scratch is bounded to this many elements; larger batches are processed in chunks. */
    private static final long COL_LIMIT = 1L << 21;

    private CpuBackend() {
        pxprune.jni.PxNative.load();
        openblas.blas_get_num_threads(); // loads OpenBLAS now, so that a missing library fails early
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
        return p;
    }

    @Override public void free(Pointer p) { p.deallocate(); }

    @Override public void zero(Pointer p, long bytes) { Pointer.memset(p, 0, bytes); }

    @Override public void copy(Pointer src, Pointer dst, long bytes) { Pointer.memcpy(dst, src, bytes); }

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

    @Override
    public void gemm(DType t, boolean transA, boolean transB, int m, int n, int k, double alpha, Pointer a, int lda,
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

    /** images per chunk so that the im2col matrix stays below COL_LIMIT elements */
    private static int chunk(ConvGeometry g) {
        long per = (long) g.c() * g.kh() * g.kw() * g.oh() * g.ow();
        return (int) Math.max(1, Math.min(g.n(), COL_LIMIT / Math.max(1, per)));
    }

    private static void im2col(DType t, ConvGeometry g, Pointer x, int nn, Pointer col) {
        pxk_im2col(t.code(), x, nn, g.c(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(), g.dh(), g.dw(),
                g.oh(), g.ow(), col);
    }

    @Override
    public void conv2dForward(DType t, ConvGeometry g, Pointer x, Pointer w, Pointer bias, Pointer y) {
        int nb = chunk(g), ohw = g.oh() * g.ow(), rows = g.groupRows(), kg = g.k() / g.groups();
        Pointer col = allocateUninitialized((long) g.c() * g.kh() * g.kw() * nb * ohw * t.size);
        Pointer out = allocateUninitialized((long) g.k() * nb * ohw * t.size);
        try {
            for (int n0 = 0; n0 < g.n(); n0 += nb) {
                int nn = Math.min(nb, g.n() - n0), cols = nn * ohw;
                im2col(t, g, at(x, t, (long) n0 * g.c() * g.h() * g.w()), nn, col);
                for (int gi = 0; gi < g.groups(); gi++)
                    gemm(t, false, false, kg, cols, rows, 1, at(w, t, (long) gi * kg * rows), rows,
                            at(col, t, (long) gi * rows * cols), cols, 0, at(out, t, (long) gi * kg * cols), cols);
                pxk_permute(t.code(), out, g.k(), nn, ohw, bias, null, at(y, t, (long) n0 * g.k() * ohw));
            }
        } finally { free(col); free(out); }
    }

    @Override
    public void conv2dBackwardData(DType t, ConvGeometry g, Pointer gy, Pointer w, Pointer gx) {
        int nb = chunk(g), ohw = g.oh() * g.ow(), rows = g.groupRows(), kg = g.k() / g.groups();
        long img = (long) g.c() * g.h() * g.w();
        Pointer col = allocateUninitialized((long) g.c() * g.kh() * g.kw() * nb * ohw * t.size);
        Pointer gyT = allocateUninitialized((long) g.k() * nb * ohw * t.size);
        try {
            zero(gx, g.n() * img * t.size);
            for (int n0 = 0; n0 < g.n(); n0 += nb) {
                int nn = Math.min(nb, g.n() - n0), cols = nn * ohw;
                pxk_permute(t.code(), at(gy, t, (long) n0 * g.k() * ohw), nn, g.k(), ohw, null, null, gyT);
                for (int gi = 0; gi < g.groups(); gi++)
                    gemm(t, true, false, rows, cols, kg, 1, at(w, t, (long) gi * kg * rows), rows,
                            at(gyT, t, (long) gi * kg * cols), cols, 0, at(col, t, (long) gi * rows * cols), cols);
                pxk_col2im(t.code(), col, nn, g.c(), g.h(), g.w(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(),
                        g.dh(), g.dw(), g.oh(), g.ow(), at(gx, t, n0 * img));
            }
        } finally { free(col); free(gyT); }
    }

    @Override
    public void conv2dBackwardWeight(DType t, ConvGeometry g, Pointer x, Pointer gy, Pointer gw) {
        int nb = chunk(g), ohw = g.oh() * g.ow(), rows = g.groupRows(), kg = g.k() / g.groups();
        Pointer col = allocateUninitialized((long) g.c() * g.kh() * g.kw() * nb * ohw * t.size);
        Pointer gyT = allocateUninitialized((long) g.k() * nb * ohw * t.size);
        try {
            for (int n0 = 0; n0 < g.n(); n0 += nb) {
                int nn = Math.min(nb, g.n() - n0), cols = nn * ohw;
                im2col(t, g, at(x, t, (long) n0 * g.c() * g.h() * g.w()), nn, col);
                pxk_permute(t.code(), at(gy, t, (long) n0 * g.k() * ohw), nn, g.k(), ohw, null, null, gyT);
                for (int gi = 0; gi < g.groups(); gi++)
                    gemm(t, false, true, kg, rows, cols, 1, at(gyT, t, (long) gi * kg * cols), cols,
                            at(col, t, (long) gi * rows * cols), cols, n0 == 0 ? 0 : 1, at(gw, t, (long) gi * kg * rows), rows);
            }
        } finally { free(col); free(gyT); }
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

    @Override
    public void maxPoolForward(DType t, long nc, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int oh,
                               int ow, Pointer x, Pointer y, Pointer idx) {
        pxk_maxpool_fwd(t.code(), x, nc, h, w, kh, kw, sh, sw, ph, pw, oh, ow, y, idx);
    }

    @Override public void poolScatter(DType t, long nc, long hw, long ohw, Pointer gy, Pointer idx, Pointer gx) {
        pxk_pool_scatter(t.code(), gy, idx, nc, hw, ohw, gx);
    }

    @Override public void poolGather(DType t, long nc, long hw, long ohw, Pointer g, Pointer idx, Pointer out) {
        pxk_pool_gather(t.code(), g, idx, nc, hw, ohw, out);
    }

    @Override
    public void avgPoolForward(DType t, long nc, int h, int w, int kh, int kw, int sh, int sw, int oh, int ow, Pointer x, Pointer y) {
        pxk_avgpool_fwd(t.code(), x, nc, h, w, kh, kw, sh, sw, oh, ow, y);
    }

    @Override
    public void avgPoolBackward(DType t, long nc, int h, int w, int kh, int kw, int sh, int sw, int oh, int ow, Pointer gy, Pointer gx) {
        pxk_avgpool_bwd(t.code(), gy, nc, h, w, kh, kw, sh, sw, oh, ow, gx);
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
