package pxprune.nn;

import pxprune.core.GradMode;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;

/** Batch normalization over dim 1 (BatchNorm1d/2d): weight, bias, running_mean, running_var, num_batches_tracked. */
public final class BatchNorm extends Module {
    public final int channels;
    public final double eps, momentum;

    public BatchNorm(int channels, double eps, double momentum) {
        this.channels = channels; this.eps = eps; this.momentum = momentum;
        registerParameter("weight", Tensor.ones(DType.F32, channels));
        registerParameter("bias", Tensor.zeros(DType.F32, channels));
        registerBuffer("running_mean", Tensor.zeros(DType.F32, channels));
        registerBuffer("running_var", Tensor.ones(DType.F32, channels));
        registerBuffer("num_batches_tracked", Tensor.zeros(DType.I32));
    }

    public BatchNorm(int channels) { this(channels, 1e-5, 0.1); }

    public Tensor weight() { return localParam("weight"); }
    public Tensor bias() { return localParam("bias"); }
    public Tensor runningMean() { return localBuffer("running_mean"); }
    public Tensor runningVar() { return localBuffer("running_var"); }

    /** the eval-time per-channel scale gamma / sqrt(running_var + eps), as a new F64 tensor with no graph */
    public Tensor evalScale() {
        try (GradMode g = GradMode.noGrad()) {
            return Ops.mul(weight().to(DType.F64), Ops.rsqrt(Ops.affine(runningVar().to(DType.F64), 1, eps)));
        }
    }

    Tensor standardForward(Tensor x) {
        if (x.dim() < 2 || x.size(1) != channels)
            throw new IllegalArgumentException("BatchNorm(" + channels + ") got input of shape " + java.util.Arrays.toString(x.shape()));
        if (!isTraining()) return Ops.batchNormEval(x, weight(), bias(), runningMean(), runningVar(), eps);
        Tensor nbt = localBuffer("num_batches_tracked");
        int[] c = nbt.toIntArray();
        c[0]++;
        nbt.backend().upload(c, nbt.ptr());
        return Ops.batchNormTrain(x, weight(), bias(), runningMean(), runningVar(), momentum, eps);
    }

    @Override public Tensor forward(Tensor x, Interpreter it) { return it.batchNorm(this, x); }
}
