package pxprune.kernels;

import org.bytedeco.javacpp.Pointer;

/**
 * Fused per-layer kernels for PX's two auxiliary networks (docs/px-method.md section 3), one call per
 * convolution; a linear layer [out, in] is the 1x1 convolution of [n, in, 1, 1]. Biases are not
 * arguments: PX sets them to 0. Everything else in A and P (normalization as identity or as its
 * squared eval-time scale via {@link Backend#channelAffine}, pooling, residual sums) is ordinary
 * Backend work. Pointers and shapes follow {@link Backend}: x [n, c, h, w], y and gy
 * [n, k, oh, ow], weights [k, c/groups, kh, kw], all contiguous device buffers; outputs are
 * overwritten.
 *
 * <p>The CPU implementation ({@link Backends#px}{@code (Device.CPU)}) composes CpuBackend's ops
 * and is the reference; the CUDA one runs each method as a single kernel with no intermediate
 * buffers.
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

    /** P's layer, forward: {@code y = conv(x, (theta * mask)^2)}, all in t (F32 or F64); mask may be null (all ones). */
    void pathConvForward(DType t, ConvGeometry g, Pointer x, Pointer theta, Pointer mask, Pointer y);

    /** P's layer, backward to its input: gx = the gradient of {@code <gy, conv(x, p)>} w.r.t. x, p = (theta*mask)^2. */
    void pathConvBackwardData(DType t, ConvGeometry g, Pointer gy, Pointer theta, Pointer mask, Pointer gx);

    /**
     * P's layer, scores: {@code score = p * dR/dp} with p = (theta*mask)^2 and dR/dp the weight
     * gradient of {@code conv(x, p)} for upstream gy (shape of theta). This is theta^2 dR/d(theta^2)
     * at theta*mask, PX's score; because the layer is linear in p, the scores of a layer sum to
     * {@code <gy, y>} (layer-wise conservation).
     */
    void pathConvScore(DType t, ConvGeometry g, Pointer x, Pointer gy, Pointer theta, Pointer mask, Pointer score);
}
