package pxprune.px.methods.px.fused;

import static pxprune.kernels.OpCodes.B_MUL;
import static pxprune.kernels.OpCodes.U_SQUARE;
import static pxprune.px.methods.px.fused.FusedNative.pxf_gate_mul;
import static pxprune.px.methods.px.fused.FusedNative.pxf_relu_gate;

import org.bytedeco.javacpp.Pointer;
import pxprune.kernels.Backend;
import pxprune.kernels.ConvGeometry;
import pxprune.kernels.CpuBackend;
import pxprune.kernels.DType;
import pxprune.kernels.Device;
import pxprune.kernels.KernelExtension;

/**
 * {@link PxKernels} on the CPU, composed of CpuBackend's ops (conversions, elementwise products,
 * im2col + gemm convolutions) with temporary buffers: the reference for the fused device kernels.
 */
public final class CpuPxKernels implements PxKernels {
    public static final CpuPxKernels INSTANCE = new CpuPxKernels();
    private static final CpuBackend B = CpuBackend.INSTANCE;

    private CpuPxKernels() {}

    /** registers these kernels for the CPU (META-INF/services/pxprune.kernels.KernelExtension) */
    public static final class Extension implements KernelExtension<PxKernels> {
        @Override public Class<PxKernels> type() { return PxKernels.class; }

        @Override public Device device() { return Device.CPU; }

        @Override public PxKernels create(Backend backend) { return INSTANCE; }
    }

    @Override public Device device() { return Device.CPU; }

    static long weights(ConvGeometry g) { return (long) g.k() * g.groupRows(); }

    static long outputs(ConvGeometry g) { return (long) g.n() * g.k() * g.oh() * g.ow(); }

    private static void checkFloat(DType t, String what) {
        if (t != DType.F32 && t != DType.F64) throw new IllegalArgumentException(what + " must be F32 or F64, got " + t);
    }

    /** elementwise out = a * b over n contiguous elements */
    private static void mul(DType t, Pointer a, Pointer b, Pointer out, long n) {
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("too many elements: " + n);
        B.binary(t, B_MUL, a, new int[] {1}, b, new int[] {1}, new int[] {(int) n}, out);
    }

    @Override
    public void activationConv(ConvGeometry g, Pointer x, Pointer mask, DType maskType, Pointer gate, DType gateType, Pointer y) {
        checkFloat(maskType, "activationConv: mask type");
        long nw = weights(g), ny = outputs(g);
        Pointer m64 = maskType == DType.F64 ? mask : B.allocateUninitialized(nw * 8);
        try {
            if (m64 != mask) B.convert(maskType, mask, DType.F64, m64, nw);
            B.conv2dForward(DType.F64, g, x, m64, null, y);
        } finally { if (m64 != mask) B.free(m64); }
        if (gate == null) return;
        checkFloat(gateType, "activationConv: gate type");
        Pointer g64 = gateType == DType.F64 ? gate : B.allocateUninitialized(ny * 8);
        try {
            if (g64 != gate) B.convert(gateType, gate, DType.F64, g64, ny);
            mul(DType.F64, y, g64, y, ny);
        } finally { if (g64 != gate) B.free(g64); }
    }

    @Override
    public void activationConvByteGate(ConvGeometry g, Pointer x, Pointer mask, DType maskType, Pointer gate, Pointer y) {
        if (gate == null) throw new IllegalArgumentException("activationConvByteGate: the gate must be given (use activationConv without one)");
        activationConv(g, x, mask, maskType, null, null, y);
        gateMul(outputs(g), y, gate, y);
    }

    /** the gate pass's ReLU and its byte gate in one native pass (pxfused.h relu_gate_t) */
    @Override public void reluGate(DType t, long n, Pointer z, Pointer y, Pointer gate) {
        checkFloat(t, "reluGate: type");
        if (n < 0) throw new IllegalArgumentException("reluGate: element count " + n + " is negative");
        if (n == 0) return;
        pxf_relu_gate(t.code(), z, n, y, gate);
    }

    @Override public void gateMul(long n, Pointer z, Pointer gate, Pointer y) { gateMul(DType.F64, n, z, gate, y); }

    /** A's ReLU in F32 or F64, one native pass (pxfused.h gate_mul_t) */
    @Override public void gateMul(DType t, long n, Pointer z, Pointer gate, Pointer y) {
        checkFloat(t, "gateMul: type");
        if (n < 0) throw new IllegalArgumentException("gateMul: element count " + n + " is negative");
        if (n == 0) return;
        pxf_gate_mul(t.code(), z, gate, n, y);
    }

    /** p = (theta * mask)^2 in a new buffer of type t, theta and mask read in type wt */
    private static Pointer pathWeight(DType t, DType wt, ConvGeometry g, Pointer theta, Pointer mask) {
        PxKernels.checkPathTypes("path kernels", t, wt);
        long nw = weights(g);
        Pointer p = B.allocateUninitialized(nw * t.size);
        if (wt != t) {
            Pointer m = mask == null ? null : B.allocateUninitialized(nw * t.size);
            try {
                B.convert(wt, theta, t, p, nw);
                if (m != null) {
                    B.convert(wt, mask, t, m, nw);
                    mul(t, p, m, p, nw);
                }
            } finally { if (m != null) B.free(m); }
        } else if (mask != null) mul(t, theta, mask, p, nw);
        else B.copy(theta, p, nw * t.size);
        B.unary(t, U_SQUARE, p, nw, 0, 0, p);
        return p;
    }

    @Override public void pathConvForward(DType t, DType wt, ConvGeometry g, Pointer x, Pointer theta, Pointer mask, Pointer y) {
        Pointer p = pathWeight(t, wt, g, theta, mask);
        try { B.conv2dForward(t, g, x, p, null, y); } finally { B.free(p); }
    }

    @Override
    public void pathConvBackwardData(DType t, DType wt, ConvGeometry g, Pointer gy, Pointer theta, Pointer mask, Pointer gx) {
        Pointer p = pathWeight(t, wt, g, theta, mask);
        try { B.conv2dBackwardData(t, g, gy, p, gx); } finally { B.free(p); }
    }

    @Override
    public void pathConvScore(DType t, DType wt, ConvGeometry g, Pointer x, Pointer gy, Pointer theta, Pointer mask,
                              Pointer score) {
        Pointer p = pathWeight(t, wt, g, theta, mask);
        try {
            B.conv2dBackwardWeight(t, g, x, gy, score);
            mul(t, score, p, score, weights(g));
        } finally { B.free(p); }
    }
}
