package pxprune.nn;

import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.ConvGeometry;
import pxprune.kernels.KeptWeights;

/**
 * How a model's layers are evaluated. Models route every convolution, linear layer, normalization
 * and activation through an interpreter, so that auxiliary networks (PX's activation and
 * path-kernel networks, SynFlow's linearised network, scoring with batch statistics) are the
 * same model evaluated differently, never a copy of it. {@link #STANDARD} is the ordinary
 * forward pass; activation sites are visited in the same order on every pass. Every operation
 * between two layers goes through a hook too (residual sums, concatenation, global pooling,
 * flattening), so that an interpreter sees every tensor the forward pass computes.
 */
public interface Interpreter {
    Interpreter STANDARD = new Interpreter() {
        @Override public Tensor reluOfTemporary(Tensor x) { return Ops.reluReusing(x); }

        @Override public Tensor addToTemporary(Tensor a, Tensor b) { return Ops.addReusing(a, b); }
    };

    /** the convolution; on the sparse kernels while {@link Sparsity} runs the layer sparse (and they run x) */
    default Tensor conv2d(Conv2d m, Tensor x) {
        KeptWeights kw = m.keptWeights();
        if (kw != null && Ops.sparseConvSupported(x, Ops.convGeometry(x, m.weight(), m.stride, m.padding, m.dilation, m.groups)))
            return Ops.conv2dSparse(x, m.weight(), m.bias(), m.stride, m.padding, m.dilation, kw);
        return Ops.conv2d(x, m.weight(), m.bias(), m.stride, m.padding, m.dilation, m.groups);
    }

    /** the linear layer; on the sparse kernels while {@link Sparsity} runs the layer sparse (and they run x) */
    default Tensor linear(Linear m, Tensor x) {
        KeptWeights kw = m.keptWeights();
        if (kw != null && x.dim() == 2
                && Ops.sparseConvSupported(x, new ConvGeometry(x.size(0), m.in, 1, 1, m.out, 1, 1, 1, 1, 0, 0, 1, 1, 1)))
            return Ops.linearSparse(x, m.weight(), m.bias(), kw);
        return Ops.linear(x, m.weight(), m.bias());
    }

    /** training mode: batch statistics and a running-statistics update; eval mode: running statistics */
    default Tensor batchNorm(BatchNorm m, Tensor x) { return m.standardForward(x); }

    default Tensor relu(Tensor x) { return Ops.relu(x); }

    /**
     * the ReLU of a tensor that the model uses nowhere else (a batch norm's, a convolution's or a
     * residual sum's output, as torchvision's ReLU(inplace=True)): {@link #STANDARD} writes the result
     * over it ({@link Ops#reluReusing}), which saves an activation's memory per ReLU; every other
     * interpreter evaluates {@link #relu}. The site is the same ReLU site either way.
     */
    default Tensor reluOfTemporary(Tensor x) { return relu(x); }

    /** max pooling (PX treats it as a gate: docs/px-method.md#pooling-resampling-sums) */
    default Tensor maxPool2d(MaxPool2d m, Tensor x) { return Ops.maxPool2d(x, m.kernel, m.stride, m.padding); }

    /** a fixed linear resampling (bilinear upsampling, adaptive average pooling): y = mh x mw^T */
    default Tensor resample(Resample r, Tensor x) { return r.standardForward(x); }

    /**
     * a residual sum a + b. The operations below change no path (docs/px-method.md#pooling-resampling-sums) and
     * are evaluated as they are by every interpreter but one that carries state with the tensors:
     * PX's float32 activation network carries a power-of-two exponent per tensor and aligns the
     * operands here (px ScaledActivation). A model routes them through its interpreter.
     */
    default Tensor add(Tensor a, Tensor b) { return Ops.add(a, b); }

    /** a residual sum a + b for an a that the model uses nowhere else: {@link #STANDARD} writes it over a ({@link Ops#addReusing}); others evaluate {@link #add} */
    default Tensor addToTemporary(Tensor a, Tensor b) { return add(a, b); }

    /** concatenation along dim (ASPP branches, DeepLab's decoder) */
    default Tensor cat(int dim, Tensor... xs) { return Ops.cat(dim, xs); }

    /** global average pooling [N, C, H, W] -&gt; [N, C] */
    default Tensor globalAvgPool(Tensor x) { return Ops.globalAvgPool(x); }

    /** flattening of every dimension from startDim on */
    default Tensor flatten(Tensor x, int startDim) { return Ops.flatten(x, startDim); }
}
