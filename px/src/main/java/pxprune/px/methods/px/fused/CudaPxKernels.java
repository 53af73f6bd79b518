package pxprune.px.methods.px.fused;

import java.util.List;
import org.bytedeco.javacpp.Pointer;
import pxprune.kernels.Backend;
import pxprune.kernels.ConvGeometry;
import pxprune.kernels.DType;
import pxprune.kernels.Device;
import pxprune.kernels.KernelExtension;
import pxprune.kernels.cuda.CudaKernels;

/**
 * {@link PxKernels} on CUDA: each method is one launch of a kernel of
 * px/src/main/cuda/pxfused.cu, reading the weights (mask, or theta and mask) and the gate
 * where they are, with no intermediate buffers. A and P's forward are an implicit-GEMM
 * convolution (64x64 output tiles) with the weight transform on load and the gate in the epilogue
 * (float32/float64 or byte gates); the gate pass's ReLU writes its output and its byte gate in one
 * pass; the path kernels also read a float32 model's theta and mask under float64 signals.
 */
public final class CudaPxKernels implements PxKernels {
    static final List<String> KERNELS = List.of("pxf_act_conv_w32_g32", "pxf_act_conv_w32_g64", "pxf_act_conv_w64_g32",
            "pxf_act_conv_w64_g64", "pxf_path_conv_fwd_f32", "pxf_path_conv_fwd_f64", "pxf_path_conv_bwd_data_f32",
            "pxf_path_conv_bwd_data_f64", "pxf_path_conv_score_f32", "pxf_path_conv_score_f64",
            "pxf_path_conv_score_thread_f32", "pxf_path_conv_score_thread_f64", "pxf_path_conv_fwd_f64_w32",
            "pxf_path_conv_bwd_data_f64_w32", "pxf_path_conv_score_f64_w32", "pxf_path_conv_score_thread_f64_w32",
            "pxf_act_conv_w32_gu8", "pxf_act_conv_w64_gu8", "pxf_relu_gate_f32", "pxf_relu_gate_f64", "pxf_gate_mul_u8");

    /** where px's build puts the PTX of px/src/main/cuda (build-ptx.sh, run by px's pom) */
    static final String PTX_DIR = "/pxprune/px/cuda/";

    /** up to this many output positions (n * oh * ow), a thread per weight sums them; beyond, a block per weight */
    private static final long SCORE_THREAD_COLS = 2048;

    private static final int TILE = 64;
    private final CudaKernels cuda;

    private CudaPxKernels(CudaKernels cuda) { this.cuda = cuda; }

    /** registers these kernels for CUDA (META-INF/services/pxprune.kernels.KernelExtension) */
    public static final class Extension implements KernelExtension<PxKernels> {
        @Override public Class<PxKernels> type() { return PxKernels.class; }

        @Override public Device device() { return Device.CUDA; }

        @Override public PxKernels create(Backend backend) { return new CudaPxKernels(CudaKernels.load(backend, CudaPxKernels.class, PTX_DIR)); }
    }

    @Override public Device device() { return Device.CUDA; }

    /** the PxcConv struct of pxcuda.cuh */
    private static int[] geometry(ConvGeometry g) {
        return new int[] {g.n(), g.c(), g.h(), g.w(), g.k(), g.kh(), g.kw(), g.sh(), g.sw(), g.ph(), g.pw(), g.dh(), g.dw(),
                g.oh(), g.ow(), g.groups()};
    }

    private static String suffix(DType t, String what) {
        return switch (t) {
            case F32 -> "32";
            case F64 -> "64";
            default -> throw new IllegalArgumentException(what + " must be F32 or F64, got " + t);
        };
    }

    /** the implicit-GEMM grid: output pixels x output channels per group x groups */
    private void launchTiled(String kernel, ConvGeometry g, CudaKernels.Args a) {
        long cols = (long) g.n() * g.oh() * g.ow();
        int kg = g.k() / g.groups();
        long by = (kg + TILE - 1) / TILE;
        if (by > 65535 || g.groups() > 65535) throw new IllegalArgumentException("convolution too wide for " + kernel + ": " + g);
        cuda.launch(kernel, (cols + TILE - 1) / TILE, (int) by, g.groups(), a);
    }

    @Override
    public void activationConv(ConvGeometry g, Pointer x, Pointer mask, DType maskType, Pointer gate, DType gateType, Pointer y) {
        String gs = gate == null ? "64" : suffix(gateType, "activationConv: gate type");
        String kernel = "pxf_act_conv_w" + suffix(maskType, "activationConv: mask type") + "_g" + gs;
        launchTiled(kernel, g, cuda.args().ptr(x).ptr(mask).ptr(gate).ptr(y).ints(geometry(g)));
    }

    @Override
    public void activationConvByteGate(ConvGeometry g, Pointer x, Pointer mask, DType maskType, Pointer gate, Pointer y) {
        if (gate == null) throw new IllegalArgumentException("activationConvByteGate: the gate must be given (use activationConv without one)");
        String kernel = "pxf_act_conv_w" + suffix(maskType, "activationConvByteGate: mask type") + "_gu8";
        launchTiled(kernel, g, cuda.args().ptr(x).ptr(mask).ptr(gate).ptr(y).ints(geometry(g)));
    }

    @Override public void reluGate(DType t, long n, Pointer z, Pointer y, Pointer gate) {
        if (n == 0) return;
        cuda.launch1d("pxf_relu_gate_f" + suffix(t, "reluGate: type"), n, cuda.args().ptr(z).ptr(y).ptr(gate).i64(n));
    }

    @Override public void gateMul(long n, Pointer z, Pointer gate, Pointer y) {
        if (n == 0) return;
        cuda.launch1d("pxf_gate_mul_u8", n, cuda.args().ptr(z).ptr(gate).ptr(y).i64(n));
    }

    /** the kernel suffix of a (signal, weight) type pair: f32, f64 or f64_w32 */
    private static String pathSuffix(DType t, DType wt, String what) {
        PxKernels.checkPathTypes(what, t, wt);
        return t == DType.F32 ? "f32" : wt == DType.F64 ? "f64" : "f64_w32";
    }

    @Override
    public void pathConvForward(DType t, DType wt, ConvGeometry g, Pointer x, Pointer theta, Pointer mask, Pointer y) {
        launchTiled("pxf_path_conv_fwd_" + pathSuffix(t, wt, "pathConvForward"), g,
                cuda.args().ptr(x).ptr(theta).ptr(mask).ptr(y).ints(geometry(g)));
    }

    @Override
    public void pathConvBackwardData(DType t, DType wt, ConvGeometry g, Pointer gy, Pointer theta, Pointer mask, Pointer gx) {
        long total = (long) g.n() * g.c() * g.h() * g.w();
        cuda.launch1d("pxf_path_conv_bwd_data_" + pathSuffix(t, wt, "pathConvBackwardData"), total,
                cuda.args().ptr(gy).ptr(theta).ptr(mask).ptr(gx).ints(geometry(g)));
    }

    @Override
    public void pathConvScore(DType t, DType wt, ConvGeometry g, Pointer x, Pointer gy, Pointer theta, Pointer mask,
                              Pointer score) {
        long weights = (long) g.k() * g.groupRows(), cols = (long) g.n() * g.oh() * g.ow();
        CudaKernels.Args a = cuda.args().ptr(x).ptr(gy).ptr(theta).ptr(mask).ptr(score).ints(geometry(g));
        String s = pathSuffix(t, wt, "pathConvScore");
        if (cols <= SCORE_THREAD_COLS) cuda.launch1d("pxf_path_conv_score_thread_" + s, weights, a);
        else cuda.launch("pxf_path_conv_score_" + s, Math.min(weights, 1L << 20), 1, 1, a);
    }
}
