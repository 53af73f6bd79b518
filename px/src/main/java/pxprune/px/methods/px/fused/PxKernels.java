package pxprune.px.methods.px.fused;

import org.bytedeco.javacpp.Pointer;
import pxprune.kernels.Backend;
import pxprune.kernels.ConvGeometry;
import pxprune.kernels.DType;
import pxprune.kernels.Device;
import pxprune.kernels.KernelExtension;

/**
 * Fused per-layer kernels for PX's two auxiliary networks (docs/px-method.md#score), one call per
 * convolution; a linear layer [out, in] is the 1x1 convolution of [n, in, 1, 1]. Biases are not
 * arguments: PX sets them to 0. Everything else in A and P (normalization as identity or as its
 * squared eval-time scale via {@link Backend#channelAffine}, pooling, residual sums) is ordinary
 * Backend work; the gate pass's ReLU records its gate as bytes ({@link #reluGate}) and A reads them
 * ({@link #activationConvByteGate}, {@link #gateMul}). Pointers and shapes follow {@link Backend}: x [n, c, h, w], y and gy
 * [n, k, oh, ow], weights [k, c/groups, kh, kw], all contiguous device buffers; outputs are
 * overwritten.
 *
 * <p>A backend's kernels are {@code backend.extension(PxKernels.class)} ({@link KernelExtension}). The CPU
 * implementation composes CpuBackend's ops and is the reference; the CUDA one runs each method as a
 * single kernel with no intermediate buffers.
 */
public interface PxKernels {
    Device device();

    /**
     * A's layer: {@code y = conv(x, mask) * gate}, in float64 (A's signal grows with every layer's
     * fan-in, so float32 would overflow). x and y are F64; mask (the 0/1 keep mask used as the
     * weight) is F32 or F64; gate, the recorded activation gate of the unit this convolution feeds
     * ([n, k, oh, ow], 1[z > 0] for ReLU), is F32 or F64, or null where no activation follows
     * directly (e.g. before a residual sum).
     */
    void activationConv(ConvGeometry g, Pointer x, Pointer mask, DType maskType, Pointer gate, DType gateType, Pointer y);

    /**
     * A's layer with the gate stored as bytes: {@code y = conv(x, mask) * gate}, gate a device buffer of
     * one byte per output element ([n, k, oh, ow], each 0 or 1, never null), as PxScorer's device path
     * records the gates ({@link #reluGate}). x and y are F64, mask F32 or F64.
     */
    void activationConvByteGate(ConvGeometry g, Pointer x, Pointer mask, DType maskType, Pointer gate, Pointer y);

    /**
     * The gate pass's ReLU in one pass over n elements of type t (F32 or F64): {@code y = max(z, 0)} and
     * {@code gate = 1[z > 0]} as one byte per element. y may be z.
     */
    void reluGate(DType t, long n, Pointer z, Pointer y, Pointer gate);

    /** A's ReLU where no convolution applied the gate: {@code y = z * gate} over n F64 elements, byte gate. y may be z. */
    void gateMul(long n, Pointer z, Pointer gate, Pointer y);

    /**
     * A's ReLU in type t: {@code y = z} where the byte gate is 1, else 0, over n elements of t (F32 or F64;
     * PxScorer's CPU path runs A in F32 with a power-of-two exponent, {@code ScaledActivation}). y may be z.
     * The default takes F64 only ({@link #gateMul(long, Pointer, Pointer, Pointer)}); the CPU kernels take both.
     */
    default void gateMul(DType t, long n, Pointer z, Pointer gate, Pointer y) {
        if (t != DType.F64)
            throw new IllegalArgumentException("gateMul on " + device() + " takes F64 only, got " + t + "; give A's signal in F64");
        gateMul(n, z, gate, y);
    }

    /** P's layer, forward: {@code y = conv(x, (theta * mask)^2)}, all in t (F32 or F64); mask may be null (all ones). */
    default void pathConvForward(DType t, ConvGeometry g, Pointer x, Pointer theta, Pointer mask, Pointer y) {
        pathConvForward(t, t, g, x, theta, mask, y);
    }

    /** P's layer, backward to its input: gx = the gradient of {@code <gy, conv(x, p)>} w.r.t. x, p = (theta*mask)^2. */
    default void pathConvBackwardData(DType t, ConvGeometry g, Pointer gy, Pointer theta, Pointer mask, Pointer gx) {
        pathConvBackwardData(t, t, g, gy, theta, mask, gx);
    }

    /**
     * P's layer, scores: {@code score = p * dR/dp} with p = (theta*mask)^2 and dR/dp the weight
     * gradient of {@code conv(x, p)} for upstream gy (shape of theta). This is theta^2 dR/d(theta^2)
     * at theta*mask, PX's score; because the layer is linear in p, the scores of a layer sum to
     * {@code <gy, y>} (layer-wise conservation).
     */
    default void pathConvScore(DType t, ConvGeometry g, Pointer x, Pointer gy, Pointer theta, Pointer mask, Pointer score) {
        pathConvScore(t, t, g, x, gy, theta, mask, score);
    }

    /**
     * {@link #pathConvForward(DType, ConvGeometry, Pointer, Pointer, Pointer, Pointer, Pointer)} with the
     * signals x, y in t and theta and mask in wt: (t, wt) is (F32, F32), (F64, F64) or (F64, F32), the last
     * for a float32 model's weights read where they are by a float64 path-kernel network.
     */
    void pathConvForward(DType t, DType wt, ConvGeometry g, Pointer x, Pointer theta, Pointer mask, Pointer y);

    /** {@link #pathConvBackwardData(DType, ConvGeometry, Pointer, Pointer, Pointer, Pointer, Pointer)}, gy and gx in t, theta and mask in wt */
    void pathConvBackwardData(DType t, DType wt, ConvGeometry g, Pointer gy, Pointer theta, Pointer mask, Pointer gx);

    /** {@link #pathConvScore(DType, ConvGeometry, Pointer, Pointer, Pointer, Pointer, Pointer)}, x, gy and score in t, theta and mask in wt */
    void pathConvScore(DType t, DType wt, ConvGeometry g, Pointer x, Pointer gy, Pointer theta, Pointer mask, Pointer score);

    /** fails unless (t, wt) is a pair the path kernels take: (F32, F32), (F64, F64) or (F64, F32) */
    static void checkPathTypes(String what, DType t, DType wt) {
        boolean ok = (t == DType.F32 && wt == DType.F32) || (t == DType.F64 && (wt == DType.F64 || wt == DType.F32));
        if (!ok)
            throw new IllegalArgumentException(what + ": signal type " + t + " with weight type " + wt
                    + " is not supported; use (F32, F32), (F64, F64) or (F64, F32)");
    }
}
