package pxprune.nn;

import pxprune.core.Tensor;
import pxprune.kernels.KeptWeights;

/** y = x W^T + b with W [out, in]. */
public final class Linear extends Module {
    public final int in, out;

    public Linear(int in, int out, boolean bias, Init init) {
        this.in = in; this.out = out;
        registerParameter("weight", init.kaimingNormal(in, out, in));
        if (bias) registerParameter("bias", init.uniformBias(in, out));
    }

    /** set and cleared by {@link Sparsity} */
    KeptWeights kept;

    public Tensor weight() { return localParam("weight"); }

    /** the kept weights while {@link Sparsity} runs this layer on the sparse kernels, else null */
    public KeptWeights keptWeights() { return kept; }

    public Tensor bias() { return localParam("bias"); }

    @Override public Tensor forward(Tensor x, Interpreter it) { return it.linear(this, x); }
}
