package pxprune.px.methods.synflow;

import java.util.Map;
import pxprune.core.GradMode;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.MaxPool2d;
import pxprune.nn.Module;
import pxprune.nn.Resample;
import pxprune.px.ScaledNetwork;

/**
 * SynFlow's linearised network (see {@link SynFlowScorer}) in float32 with a power-of-two exponent
 * carried with every tensor: a tensor t with exponent e stands for the values t * 2^e
 * (docs/px-method.md#float32-synflow; the bookkeeping is {@link ScaledNetwork}'s, shared with PX's
 * activation network). Unlike PX's, this network has biases, batch-norm shifts of either sign and
 * real (non-0/1) weights, and it is differentiated.
 *
 * <p>Why this is exact up to float32's own rounding: every operation of the network is positively
 * homogeneous once its additive constants are expressed at the operand's scale. A convolution or
 * linear layer with weight W and bias b maps t * 2^e to (W t + b 2^-e) * 2^e, a batch norm
 * (per-channel scale s, shift c) to (s t + c 2^-e) * 2^e; ReLU and max pooling commute with a
 * positive factor (same gates, same picks), and resampling, global average pooling and residual
 * sums are linear. So the network runs on t with b and c multiplied by 2^-e (exact: a power of
 * two moves only a float32 number's exponent) while 2^e is kept aside. With the exponents fixed
 * during the pass, the scaled output t_out = y_out * 2^-E is the same function of the weights as
 * y_out up to the constant 2^-E, so autograd over the scaled graph gives dR/dp * 2^-E exactly (up
 * to rounding) and the scorer multiplies the scores back by 2^E. The factor is the same for every
 * weight of every layer and a power of two, so the ranking cannot change.
 *
 * <p>How the range is kept, forward and backward: every tensor carries an upper bound B on |t|.
 * A convolution or linear layer multiplies it by the largest L1 norm of a row of |W| (per output
 * unit: the most an output can exceed the largest input by) and adds its largest |bias| at the
 * operand's scale; a batch norm multiplies it by its largest scale and adds its largest |shift|;
 * ReLU, max pooling, resampling (bilinear and adaptive averages: non-negative coefficients
 * summing to one), global average pooling and flattening keep it. When B leaves
 * [{@value #LOW_LOG2}, {@value #HIGH_LOG2}] as powers of two (values growing with dense weights,
 * shrinking with sparse ones) the tensor is divided by 2^k, k = floor(log2(sum |t|)), so its
 * L1 norm lands in [1, 2). The network's output is always normalised that way, so R = sum(t_out)
 * is in [1, 2). The gradient of R with respect to an activation t_l is then 2^(e_l - E) dR/dy_l:
 * for units of similar size, with sum t_l in a bounded window and sum_i t_l,i dR/dt_l,i = R up to
 * the constants' share (Euler's theorem for the homogeneous part), it stays far inside float32's
 * range at every layer, and every scaled score |p * dR/dp| is at most about R.
 */
final class ScaledSynFlow extends ScaledNetwork {
    static final int HIGH_LOG2 = 32, LOW_LOG2 = -32;

    /** a layer's substitute: weight |theta m| (or its square), optional bias, and their gains */
    record Layer(Tensor weight, Tensor bias, double rowNorm, double maxBias) {}

    /** a batch norm's substitute: per-channel scale (&gt;= 0) and shift, their largest magnitudes, and whether every shift is &gt;= 0 */
    record Norm(Tensor scale, Tensor shift, double maxScale, double maxShift, boolean shiftNonNegative) {}

    private final Map<Module, Layer> layers;
    private final Map<BatchNorm, Norm> norms;

    ScaledSynFlow(Map<Module, Layer> layers, Map<BatchNorm, Norm> norms) {
        super("SynFlow float32", Interpreter.STANDARD, Math.scalb(1.0, LOW_LOG2), Math.scalb(1.0, HIGH_LOG2), true);
        this.layers = layers;
        this.norms = norms;
    }

    static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) m = Math.max(m, Math.abs(x));
        return m;
    }

    /** the network's input: exponent 0, every value at most its largest magnitude (the all-ones sample: 1) */
    Tensor input(Tensor x, double bound, boolean nonNegative) { return track(x, 0, bound, nonNegative); }

    /** the output y rescaled so that its L1 norm is in [1, 2), and its exponent: y_true = out * 2^exponent */
    Output output(Tensor y) {
        Scale sc = scale(y, "the network's output");
        Tensor t = normalised(y, sc.exponent(), sc.bound(), sc.nonNegative(), false);
        return new Output(t, exponent(t, "the network's output"));
    }

    record Output(Tensor tensor, int exponent) {}

    /** a constant at the scale of an operand with exponent e: c * 2^-e (null stays null) */
    private static Tensor atScale(Tensor c, int e) {
        if (c == null || e == 0) return c;
        try (GradMode g = GradMode.noGrad()) {
            return Ops.affine(c, Math.scalb(1.0, -e), 0);
        }
    }

    private Layer layer(Module m) {
        Layer l = layers.get(m);
        if (l == null) throw new IllegalStateException("internal: no substitute weight for a " + m.getClass().getSimpleName()
                + " (the model was evaluated with a module not listed by PrunableLayer.of)");
        return l;
    }

    @Override public Tensor conv2d(Conv2d m, Tensor x) {
        Layer l = layer(m);
        return affineLayer(x, l.rowNorm(), l.maxBias(), true, "the input of a convolution",
                (r, e) -> Ops.conv2d(r, l.weight(), atScale(l.bias(), e), m.stride, m.padding, m.dilation, m.groups));
    }

    @Override public Tensor linear(Linear m, Tensor x) {
        Layer l = layer(m);
        return affineLayer(x, l.rowNorm(), l.maxBias(), true, "the input of a linear layer",
                (r, e) -> Ops.linear(r, l.weight(), atScale(l.bias(), e)));
    }

    @Override public Tensor batchNorm(BatchNorm m, Tensor x) {
        Norm n = norms.get(m);
        if (n == null) throw new IllegalStateException("internal: no linearised normalisation for a batch norm of the model");
        return affineLayer(x, n.maxScale(), n.maxShift(), n.shiftNonNegative(), "the input of a batch norm",
                (r, e) -> Ops.channelAffine(r, n.scale(), atScale(n.shift(), e)));
    }

    /** a pick per window: same picks at any positive scale, the bound stays */
    @Override public Tensor maxPool2d(MaxPool2d m, Tensor x) { return keep(x, "the input of a max pool", z -> inner.maxPool2d(m, z)); }

    /** bilinear interpolation and adaptive averaging: linear, non-negative coefficients summing to one, so the bound stays */
    @Override public Tensor resample(Resample r, Tensor x) { return keep(x, "the input of a resampling", z -> inner.resample(r, z)); }
}
