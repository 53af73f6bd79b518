package pxprune.px.methods.px.fused;

import java.util.Arrays;
import java.util.function.Consumer;
import org.bytedeco.javacpp.Pointer;
import pxprune.kernels.ConvGeometry;
import pxprune.kernels.DType;
import pxprune.core.CustomOp;
import pxprune.core.GradMode;
import pxprune.core.Ops;
import pxprune.core.Tensor;

/**
 * The fused layers of PX's auxiliary networks (docs/px-method.md#score) as tensor operations, each
 * one call of the tensor's backend's {@link PxKernels} (a kernel extension, {@code backend.extension(PxKernels.class)}): px's PxScorer evaluates the
 * activation network A and the path-kernel network P through them when the model is on a device.
 * A linear layer [out, in] is the 1x1 convolution of its input [n, in] read as [n, in, 1, 1] (the same
 * memory), so no data moves.
 *
 * <p>Gates are U8 tensors (one byte per element, 0 or 1) owned by the caller and on the tensor's
 * device: {@link #reluGate} writes them in the gate pass, {@link #activationConv} and {@link #gateMul}
 * read them in A. PxScorer's CPU path keeps its gates this way too (reluGate, and gateMul in A's float32
 * or float64).
 *
 * <p>{@link #pathConv2d} is differentiable in its input x. Its weight p = (theta*mask)^2 is never
 * materialised and is not a graph input: the backward hands the layer's PX scores
 * {@code p * dR/dp} (= dR/d ln p, docs/px-method.md#score step 5; one fused kernel) to a sink
 * instead of returning a weight gradient. So that the graph is recorded although neither the all-ones
 * input nor the weights require a gradient, every call takes an <em>anchor</em>: a leaf that requires
 * a gradient and gets none (0 from {@link Autograd#grad}); the caller differentiates the root
 * with respect to it.
 */
public final class PxOps {
    private PxOps() {}

    private static PxKernels px(Tensor t) { return t.backend().extension(PxKernels.class); }

    /** the ops' argument failures, "op: problem; fix", as core's ops word theirs */
    private static IllegalArgumentException fail(String op, String message) {
        return new IllegalArgumentException(op + ": " + message);
    }

    private static String shape(Tensor t) { return Arrays.toString(t.shape()); }

    private static void sameDevice(String op, String what, Tensor x, Tensor t) {
        if (t.device() != x.device())
            throw fail(op, what + " is on " + t.device() + " but the input on " + x.device() + "; move both to one device");
    }

    private static void floating(String op, String what, Tensor t) {
        if (t.dtype() != DType.F32 && t.dtype() != DType.F64)
            throw fail(op, what + " must be F32 or F64, got " + t.dtype());
    }

    /** the geometry of the 1x1 convolution that a linear layer w [out, in] is on x [n, in] */
    private static ConvGeometry linearGeometry(String op, Tensor x, Tensor w) {
        if (w.dim() != 2) throw fail(op, "weight must be 2-D [out, in], got " + w.dim() + "-D " + shape(w));
        if (x.dim() != 2 || x.size(1) != w.size(1))
            throw fail(op, "input " + shape(x) + " does not fit weight " + shape(w)
                    + "; it must be [batch, " + w.size(1) + "]");
        return new ConvGeometry(x.size(0), x.size(1), 1, 1, w.size(0), 1, 1, 1, 1, 0, 0, 1, 1, 1);
    }

    private static ConvGeometry convGeometry(String op, Tensor x, Tensor w, int stride, int padding, int dilation, int groups) {
        if (x.dim() != 4) throw fail(op, "input must be 4-D [N, C, H, W], got " + x.dim() + "-D " + shape(x));
        return Ops.convGeometry(x, w, stride, padding, dilation, groups);
    }

    /** gate: a U8 tensor of n elements on x's device */
    private static void checkGate(String op, Tensor gate, Tensor x, long n) {
        if (gate == null) throw fail(op, "the gate is null; pass the byte gate of " + n + " elements the gate pass recorded");
        if (gate.dtype() != DType.U8 || gate.numel() != n)
            throw fail(op, "the gate is " + gate.dtype() + " " + shape(gate) + "; it must be U8 with " + n + " elements, one per output");
        sameDevice(op, "the gate", x, gate);
    }

    // ------------------------------------------------------------------ the activation network A (no gradient)

    /**
     * A's convolution {@code y = conv(x, mask) * gate} in float64 (x F64, mask F32 or F64 on x's device),
     * gate a U8 tensor of y's size or null (no gate: none follows directly). Not differentiable.
     */
    public static Tensor activationConv(Tensor x, Tensor mask, Tensor gate, int stride, int padding, int dilation, int groups) {
        ConvGeometry g = convGeometry("activationConv", x, mask, stride, padding, dilation, groups);
        return activation("activationConv", x, mask, gate, g, new int[] {g.n(), g.k(), g.oh(), g.ow()});
    }

    /** A's linear layer {@code y = (x mask^T) * gate}, x [n, in] F64, mask [out, in]; gate as {@link #activationConv} */
    public static Tensor activationLinear(Tensor x, Tensor mask, Tensor gate) {
        ConvGeometry g = linearGeometry("activationLinear", x, mask);
        return activation("activationLinear", x, mask, gate, g, new int[] {g.n(), g.k()});
    }

    private static Tensor activation(String op, Tensor x, Tensor mask, Tensor gate, ConvGeometry g, int[] shape) {
        if (x.dtype() != DType.F64) throw fail(op, "input must be F64 (A's signal grows with every fan-in), got " + x.dtype());
        floating(op, "mask", mask);
        sameDevice(op, "mask", x, mask);
        if (gate != null) checkGate(op, gate, x, Tensor.numel(shape));
        Tensor y = Tensor.uninitialized(DType.F64, x.device(), shape);
        if (gate == null) px(x).activationConv(g, x.ptr(), mask.ptr(), mask.dtype(), null, null, y.ptr());
        else px(x).activationConvByteGate(g, x.ptr(), mask.ptr(), mask.dtype(), gate.ptr(), y.ptr());
        return y;
    }

    /**
     * A's ReLU where no convolution took the gate: {@code y = z * gate}, i.e. z where the gate is 1 and 0
     * where it is 0 (z F32 or F64, gate a U8 tensor of z's size on z's device; the CPU takes both types, a device
     * may take F64 only, {@link PxKernels#gateMul(DType, long, Pointer, Pointer, Pointer)}). Not differentiable.
     */
    public static Tensor gateMul(Tensor z, Tensor gate) {
        floating("gateMul", "input", z);
        checkGate("gateMul", gate, z, z.numel());
        Tensor y = Tensor.uninitialized(z.dtype(), z.device(), z.shape());
        px(z).gateMul(z.dtype(), z.numel(), z.ptr(), gate.ptr(), y.ptr());
        return y;
    }

    /**
     * The gate pass's ReLU: returns {@code max(z, 0)} and writes {@code 1[z > 0]} into gate (a U8 tensor of
     * z's size on z's device), one pass. Not differentiable (the gate pass runs without gradient).
     */
    public static Tensor reluGate(Tensor z, Tensor gate) {
        floating("reluGate", "input", z);
        checkGate("reluGate", gate, z, z.numel());
        Tensor y = Tensor.uninitialized(z.dtype(), z.device(), z.shape());
        px(z).reluGate(z.dtype(), z.numel(), z.ptr(), y.ptr(), gate.ptr());
        return y;
    }

    // ------------------------------------------------------------------ the path-kernel network P

    /**
     * P's convolution {@code y = conv(x, (theta*mask)^2)} with the square taken on load; x in F32 or F64,
     * theta and mask (nullable: all ones) of one type, F32 or x's. The backward gives x its gradient
     * and hands {@code p * dR/dp} (theta's shape, x's type) to scores; see the class comment for anchor.
     */
    public static Tensor pathConv2d(Tensor x, Tensor theta, Tensor mask, int stride, int padding, int dilation, int groups,
                                    Tensor anchor, Consumer<Tensor> scores) {
        ConvGeometry g = convGeometry("pathConv2d", x, theta, stride, padding, dilation, groups);
        return path("pathConv2d", x, theta, mask, g, new int[] {g.n(), g.k(), g.oh(), g.ow()}, anchor, scores);
    }

    /** P's linear layer {@code y = x ((theta*mask)^2)^T}, x [n, in]; otherwise as {@link #pathConv2d} */
    public static Tensor pathLinear(Tensor x, Tensor theta, Tensor mask, Tensor anchor, Consumer<Tensor> scores) {
        ConvGeometry g = linearGeometry("pathLinear", x, theta);
        return path("pathLinear", x, theta, mask, g, new int[] {g.n(), g.k()}, anchor, scores);
    }

    private static Tensor path(String op, Tensor x, Tensor theta, Tensor mask, ConvGeometry g, int[] shape, Tensor anchor,
                               Consumer<Tensor> scores) {
        floating(op, "input", x);
        DType t = x.dtype(), wt = theta.dtype();
        PxKernels.checkPathTypes(op, t, wt);
        sameDevice(op, "theta", x, theta);
        if (mask != null) {
            sameDevice(op, "mask", x, mask);
            if (mask.dtype() != wt) throw fail(op, "mask is " + mask.dtype() + " but theta " + wt + "; give them one type");
            if (!Arrays.equals(mask.shape(), theta.shape()))
                throw fail(op, "mask " + shape(mask) + " does not match theta " + shape(theta));
        }
        if (anchor == null || !anchor.requiresGrad() || !anchor.isLeaf())
            throw fail(op, "the anchor must be a leaf that requires a gradient (it roots P's graph)");
        if (scores == null) throw fail(op, "scores (the sink of the layer's p * dR/dp) is null");
        PxKernels k = px(x);
        Tensor y = Tensor.uninitialized(t, x.device(), shape);
        Pointer mp = mask == null ? null : mask.ptr();
        k.pathConvForward(t, wt, g, x.ptr(), theta.ptr(), mp, y.ptr());
        if (!GradMode.isEnabled()) return y;
        return CustomOp.record(op + " (theta's gradient goes to the score sink as p * dR/dp)", y, (gy, needs) -> {
            Tensor s = Tensor.uninitialized(t, x.device(), theta.shape());
            k.pathConvScore(t, wt, g, x.ptr(), gy.ptr(), theta.ptr(), mp, s.ptr());
            scores.accept(s);
            Tensor gx = null;
            if (needs[0]) {
                gx = Tensor.uninitialized(t, x.device(), x.shape());
                k.pathConvBackwardData(t, wt, g, gy.ptr(), theta.ptr(), mp, gx.ptr());
            }
            return new Tensor[] {gx, null};
        }, x, anchor);
    }
}
