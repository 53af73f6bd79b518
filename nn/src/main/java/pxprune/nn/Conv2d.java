package pxprune.nn;

import pxprune.core.Tensor;
import pxprune.kernels.KeptWeights;

/** 2-D convolution: weight [out, in/groups, k, k], optional bias; square kernel, stride, padding and dilation. */
public final class Conv2d extends Module {
    public final int in, out, kernel, stride, padding, dilation, groups;

    public Conv2d(int in, int out, int kernel, int stride, int padding, int dilation, int groups, boolean bias, Init init) {
        if (dilation < 1) throw new IllegalArgumentException("Conv2d: dilation " + dilation + " must be >= 1");
        this.in = in; this.out = out; this.kernel = kernel; this.stride = stride; this.padding = padding;
        this.dilation = dilation; this.groups = groups;
        int fanIn = in / groups * kernel * kernel;
        registerParameter("weight", init.kaimingNormal(fanIn, out, in / groups, kernel, kernel));
        if (bias) registerParameter("bias", init.uniformBias(fanIn, out));
    }

    public Conv2d(int in, int out, int kernel, int stride, int padding, int groups, boolean bias, Init init) {
        this(in, out, kernel, stride, padding, 1, groups, bias, init);
    }

    public Conv2d(int in, int out, int kernel, int stride, int padding, boolean bias, Init init) {
        this(in, out, kernel, stride, padding, 1, bias, init);
    }

    /** set and cleared by {@link Sparsity} */
    KeptWeights kept;

    public Tensor weight() { return localParam("weight"); }

    /** the kept weights while {@link Sparsity} runs this layer on the sparse kernels, else null */
    public KeptWeights keptWeights() { return kept; }

    public Tensor bias() { return localParam("bias"); }

    @Override public Tensor forward(Tensor x, Interpreter it) { return it.conv2d(this, x); }
}
