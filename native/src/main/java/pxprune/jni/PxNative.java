package pxprune.jni;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JNI entry points of the hand-written kernels in {@code src/main/cpp/pxkernels.h}, generated and
 * compiled by JavaCPP's builder at build time. Every buffer is a contiguous native buffer; {@code dt}
 * is 0 for float32 and 1 for float64. Nullable pointer arguments say so in the header. The direct
 * (im2col-free) float32 convolution kernels are in {@code src/main/cpp/pxconv.h}, with their
 * AVX2+FMA and AVX-512F micro-kernels in {@code pxconv_impl.h}; the sparse (kept-weights-only)
 * float32 convolution kernels in {@code src/main/cpp/pxsparse.h} and {@code pxsparse_impl.h}.
 */
@Platform(include = {"pxkernels.h", "pxconv.h", "pxsparse.h"}, link = "gomp")
public final class PxNative {
    static { Loader.load(); }

    private PxNative() {}

    /** Loads the native library (idempotent); call before first use to fail early. */
    public static void load() { Loader.load(PxNative.class); }

    public static final int DT_F32 = 0, DT_F64 = 1;
    /**
     * Codes of the element-wise ops of {@link #pxk_binary} and {@link #pxk_unary}: positions in the op table of
     * {@code src/main/cpp/pxops.h} (PX_BINARY_OPS and PX_UNARY_OPS), which holds each op's body for the C++ and
     * the CUDA kernels. kernels' OpTableTest fails when these and the table disagree.
     */
    public static final int B_ADD = 0, B_SUB = 1, B_MUL = 2, B_DIV = 3, B_MAX = 4, B_GTMASK = 5;
    public static final int U_NEG = 0, U_SQUARE = 1, U_ABS = 2, U_SQRT = 3, U_EXP = 4, U_LOG = 5, U_RELU = 6,
            U_SIGN = 7, U_STEP = 8, U_RSQRT = 9, U_RECIP = 10, U_AFFINE = 11;

    public static native void pxk_im2col(int dt, Pointer x, int N, int C, int H, int W, int kh, int kw, int sh, int sw,
                                         int ph, int pw, int dh, int dw, int OH, int OW, Pointer col);
    public static native void pxk_col2im(int dt, Pointer col, int N, int C, int H, int W, int kh, int kw, int sh, int sw,
                                         int ph, int pw, int dh, int dw, int OH, int OW, Pointer x);
    public static native void pxk_permute(int dt, Pointer in, int A, int B, long X, Pointer bias, Pointer gate, Pointer out);
    public static native void pxk_bn_train_fwd(int dt, Pointer x, int N, int C, long S, Pointer gamma, Pointer beta,
                                               double eps, double momentum, Pointer runMean, Pointer runVar, Pointer y,
                                               Pointer mean, Pointer invstd);
    public static native void pxk_channel_affine(int dt, Pointer x, int N, int C, long S, Pointer scale, Pointer shift, Pointer y);
    public static native void pxk_bn_train_bwd(int dt, Pointer x, Pointer gy, int N, int C, long S, Pointer mean,
                                               Pointer invstd, Pointer gamma, Pointer gx, Pointer dgamma, Pointer dbeta);
    public static native void pxk_channel_sums(int dt, Pointer a, Pointer b, int N, int C, long S, Pointer out);
    /**
     * geom: the 12 ints of pxops.h's PxPool, {@code n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow}
     * ({@code pxprune.kernels.PoolGeometry#toArray()}), for this and the average pooling kernels
     */
    public static native void pxk_maxpool_fwd(int dt, Pointer x, int[] geom, Pointer y, Pointer idx);
    public static native void pxk_pool_scatter(int dt, Pointer gy, Pointer idx, long NC, long HW, long OHW, Pointer gx);
    public static native void pxk_pool_gather(int dt, Pointer g, Pointer idx, long NC, long HW, long OHW, Pointer out);
    public static native void pxk_avgpool_fwd(int dt, Pointer x, int[] geom, Pointer y);
    public static native void pxk_avgpool_bwd(int dt, Pointer gy, int[] geom, Pointer gx);
    public static native void pxk_binary(int dt, int op, Pointer a, int[] as, Pointer b, int[] bs, int[] shape, int nd, Pointer out);
    public static native void pxk_unary(int dt, int op, Pointer x, long n, double alpha, double beta, Pointer out);
    /** the number of unary ops in pxops.h's table (codes 0 .. n-1) */
    public static native int pxk_unary_ops();
    /** the number of binary ops in pxops.h's table (codes 0 .. n-1) */
    public static native int pxk_binary_ops();
    /** the name of unary op {@code op} in pxops.h's table (NEG for {@link #U_NEG}), null past its end */
    public static native @Cast("const char*") BytePointer pxk_unary_op_name(int op);
    /** the name of binary op {@code op} in pxops.h's table (ADD for {@link #B_ADD}), null past its end */
    public static native @Cast("const char*") BytePointer pxk_binary_op_name(int op);
    public static native void pxk_reduce_sum(int dt, Pointer in, int[] shape, int[] os, int nd, long outN, Pointer out);
    public static native void pxk_log_softmax(int dt, Pointer x, long R, int K, Pointer y);
    public static native void pxk_pick(int dt, Pointer x, Pointer idx, long R, int K, Pointer out);
    public static native void pxk_place(int dt, Pointer g, Pointer idx, long R, int K, Pointer gx);
    public static native void pxk_sgd(int dt, Pointer p, Pointer g, Pointer buf, Pointer mask, long n, double lr,
                                      double momentum, double dampening, double wd, int nesterov, int first);
    /** w [K, C, kh, kw] -> out [C, K, kh, kw], flipped in space */
    public static native void pxk_flip_kernel(int dt, Pointer w, int K, int C, int kh, int kw, Pointer out);
    /**
     * Turns the kernels' per-element bounds checks on or off for all threads (off by default; the
     * test build turns them on): index arrays are checked in a pre-pass and a bad index throws a
     * RuntimeException instead of writing out of bounds. The cheap per-call checks are always on.
     */
    public static native void pxk_set_debug_bounds(int on);
    public static native int pxk_debug_bounds();
    /** OpenMP threads for regions the calling thread starts (a per-thread setting) */
    public static native void pxk_set_threads(int n);
    public static native int pxk_max_threads();
    public static native void pxk_convert(int dtIn, Pointer in, int dtOut, Pointer out, long n);

    /** instruction sets of the direct convolution kernels ({@link #pxk_conv_isa()}) */
    public static final int ISA_NONE = 0, ISA_AVX2 = 1, ISA_AVX512 = 2;
    /** indices into the geometry array of the direct convolution kernels */
    public static final int CG_N = 0, CG_C = 1, CG_H = 2, CG_W = 3, CG_K = 4, CG_KH = 5, CG_KW = 6, CG_SH = 7, CG_SW = 8,
            CG_PH = 9, CG_PW = 10, CG_DH = 11, CG_DW = 12, CG_GROUPS = 13, CG_OH = 14, CG_OW = 15, CG_LEN = 16;
    /** the widest instruction set of the direct convolution kernels this CPU runs: ISA_AVX512, ISA_AVX2 or ISA_NONE */
    public static native int pxk_conv_isa();

    /**
     * The system property (and, where it is not set, the environment variable {@code PXPRUNE_ISA}) that caps the
     * instruction set of the hand-written kernels in the whole JVM: {@code avx512}, {@code avx2} or {@code none}. It lets
     * an AVX-512 machine run, and test, the AVX2 kernels with their summation order; OpenBLAS has its own switch,
     * the environment variable {@code OPENBLAS_CORETYPE} (e.g. Haswell), read when the library loads.
     */
    public static final String ISA_PROPERTY = "pxprune.isa";

    /** the instruction set the kernels use: {@link #pxk_conv_isa()} capped by {@link #ISA_PROPERTY} */
    public static int isa() {
        String cap = System.getProperty(ISA_PROPERTY, System.getenv("PXPRUNE_ISA"));
        int best = pxk_conv_isa();
        if (cap == null || cap.isBlank()) return best;
        int c = switch (cap.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "avx512", "avx-512", "avx512f" -> ISA_AVX512;
            case "avx2" -> ISA_AVX2;
            case "none", "portable" -> ISA_NONE;
            default -> throw new IllegalArgumentException("-D" + ISA_PROPERTY + " (or PXPRUNE_ISA) = '" + cap
                    + "' is not an instruction set; give avx512, avx2 or none");
        };
        return Math.min(best, c);
    }

    /** "AVX-512F", "AVX2+FMA" or "portable C++ (no AVX2)" */
    public static String isaName(int isa) {
        return isa == ISA_AVX512 ? "AVX-512F" : isa == ISA_AVX2 ? "AVX2+FMA" : "portable C++ (no AVX2)";
    }
    /**
     * float32 direct convolution forward for images [n0, n0+nn) and output channels [k0, k1) with the
     * micro-kernels of instruction set {@code isa} (which must be supported); geom holds the CG_*
     * entries; bias may be null. Uses the calling thread only.
     */
    public static native void pxk_conv_fwd_direct(int isa, int[] geom, Pointer x, Pointer w, Pointer bias, Pointer y,
                                                  int n0, int nn, int k0, int k1);
    /**
     * the weights of the phase-decomposed input gradient (pxconv.h's backward_data): wp, C*K*kh*kw
     * floats, from w [K, C, kh, kw]; dilation 1 and no groups
     */
    public static native void pxk_conv_pack_bwdd(int[] geom, Pointer w, Pointer wp);
    /**
     * float32 direct input gradient of a convolution of any stride (dilation 1, no groups): gx's
     * images [n0, n0+nn), input channels [c0, c1) are overwritten from gy and the weights packed by
     * {@link #pxk_conv_pack_bwdd}. Uses the calling thread only.
     */
    public static native void pxk_conv_bwdd_direct(int isa, int[] geom, Pointer gy, Pointer wp, Pointer gx,
                                                   int n0, int nn, int c0, int c1);
    /**
     * float32 direct weight gradient: rows [k0, k1) of gw [K, C/groups, kh, kw] are overwritten with
     * the sum over images [n0, n0+nn) of gy (x) x. Uses the calling thread only.
     */
    public static native void pxk_conv_bwdw_direct(int isa, int[] geom, Pointer x, Pointer gy, Pointer gw,
                                                   int n0, int nn, int k0, int k1);

    /**
     * float32 sparse convolution forward (pxsparse.h): images [n0, n0+nn), output channels [k0, k1)
     * of y from the kept weights of w listed by rows (K+1 ints) and fidx (flat indices into w by
     * output channel); no groups; bias may be null. Uses the calling thread only.
     */
    public static native void pxk_sp_conv_fwd(int isa, int[] geom, Pointer x, Pointer w, Pointer rows, Pointer fidx, Pointer bias,
                                              Pointer y, int n0, int nn, int k0, int k1);
    /**
     * float32 sparse input gradient: images [n0, n0+nn), input channels [c0, c1) of gx (overwritten)
     * from gy and the kept weights of w listed by cols (C*kh*kw+1 ints) and tfidx (flat indices by
     * input channel and tap, then output channel). Uses the calling thread only.
     */
    public static native void pxk_sp_conv_bwdd(int isa, int[] geom, Pointer gy, Pointer w, Pointer cols, Pointer tfidx, Pointer gx,
                                               int n0, int nn, int c0, int c1);
    /**
     * float32 sparse weight gradient at the kept weights of output channels [k0, k1): entries
     * rows[k0] .. rows[k1] of the compact gv (nnz floats) are overwritten with the sum over images
     * [n0, n0+nn). Uses the calling thread only.
     */
    public static native void pxk_sp_conv_bwdw(int isa, int[] geom, Pointer x, Pointer gy, Pointer rows, Pointer fidx, Pointer gv,
                                               int n0, int nn, int k0, int k1);
    /** gw (wElems floats) = 0 except gw[fidx[e]] = the sum over parts p, in order, of part[p*nnz + e] */
    public static native void pxk_sp_reduce_scatter(int parts, int nnz, Pointer part, Pointer fidx, long wElems, Pointer gw);
}
