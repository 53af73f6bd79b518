package pxprune.px.methods.synflow;

import java.util.Arrays;
import java.util.IdentityHashMap;
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
import pxprune.px.PrunableLayer;
import pxprune.px.methods.px.ScaledActivation;

/**
 * SynFlow's linearised network (see {@link SynFlowScorer}) in float32 with a power-of-two exponent
 * carried with every tensor: a tensor t with exponent e stands for the values t * 2^e
 * (docs/px-method.md section 11). It is {@link ScaledActivation}'s idea applied to a network with
 * biases, batch-norm shifts of either sign and real (non-0/1) weights.
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
 *
 * <p>A tensor reaches the hooks with an exponent only if the model computes every intermediate
 * result through its {@link Interpreter}; one the wrapper has not seen is refused with an error
 * that says so. One instance serves one forward pass.
 */
final class ScaledSynFlow implements Interpreter {
    static final int HIGH_LOG2 = 32, LOW_LOG2 = -32;
    private static final double HIGH = 0x1p32, LOW = 0x1p-32;
    /** no operation may produce a bound above this (float32 overflows at 2^128) */
    private static final double CEILING = 0x1p120;
    /** factors below 2^-160 flush every float32 value to 0; such an operand is dropped from a sum */
    private static final int DROP = -160;

    /** a layer's substitute: weight |theta m| (or its square), optional bias, and their gains */
    record Layer(Tensor weight, Tensor bias, double rowNorm, double maxBias) {}

    /** a batch norm's substitute: per-channel scale (&gt;= 0) and shift, their largest magnitudes, and whether every shift is &gt;= 0 */
    record Norm(Tensor scale, Tensor shift, double maxScale, double maxShift, boolean shiftNonNegative) {}

    /** a tensor t of this pass stands for t * 2^exponent, every |t| is at most bound, and nonNegative says t &gt;= 0 */
    private record Scale(int exponent, double bound, boolean nonNegative) {}

    private final Map<Module, Layer> layers;
    private final Map<BatchNorm, Norm> norms;
    private final Map<Tensor, Scale> scales = new IdentityHashMap<>();
    private int rescales;

    ScaledSynFlow(Map<Module, Layer> layers, Map<BatchNorm, Norm> norms) {
        this.layers = layers;
        this.norms = norms;
    }

    /** the largest L1 norm of a row (output unit) of a weight [out, ...] given on the host */
    static double maxRowNorm(double[] w, int rows) {
        int per = w.length / rows;
        double max = 0;
        for (int r = 0; r < rows; r++) {
            double n = 0;
            for (int i = r * per; i < (r + 1) * per; i++) n += Math.abs(w[i]);
            max = Math.max(max, n);
        }
        return max;
    }

    static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) m = Math.max(m, Math.abs(x));
        return m;
    }

    /** the network's input: exponent 0, every value at most its largest magnitude (the all-ones sample: 1) */
    Tensor input(Tensor x, double bound, boolean nonNegative) { return track(x, 0, bound, nonNegative); }

    /** how many tensors this pass has rescaled (for tests) */
    int rescales() { return rescales; }

    /** the output y rescaled so that its L1 norm is in [1, 2), and its exponent: y_true = out * 2^exponent */
    Output output(Tensor y) {
        Scale sc = scale(y, "the network's output");
        Tensor t = normalised(y, sc);
        return new Output(t, scale(t, "the network's output").exponent());
    }

    record Output(Tensor tensor, int exponent) {}

    private Scale scale(Tensor t, String what) {
        Scale sc = scales.get(t);
        if (sc == null)
            throw new IllegalStateException("SynFlow float32: " + what + " (shape " + Arrays.toString(t.shape()) + ") was not computed "
                    + "through the model's Interpreter, so its power-of-two exponent is unknown; route residual sums, "
                    + "concatenations, global pooling and flattening through Interpreter.add/cat/globalAvgPool/flatten, "
                    + "or score with precision float64");
        return sc;
    }

    private Tensor track(Tensor t, int e, double bound, boolean nonNegative) {
        scales.put(t, new Scale(e, bound, nonNegative));
        return t;
    }

    /** sum |y| as a double, measured off the graph */
    private static double l1(Tensor y, boolean nonNegative) {
        try (GradMode g = GradMode.noGrad()) {
            return Ops.sum(nonNegative ? y : Ops.abs(y)).item();
        }
    }

    /** y divided by 2^k, k = floor(log2(sum |y|)), exponent e + k, bound 2; y = 0 keeps its exponent (bound 0) */
    private Tensor normalised(Tensor y, Scale sc) {
        int e = sc.exponent();
        double s = l1(y, sc.nonNegative());
        if (s == Double.POSITIVE_INFINITY && Double.isFinite(sc.bound()) && sc.bound() > 0) { // the sum left float32's range
            int k = Math.getExponent(sc.bound());
            y = Ops.affine(y, Math.scalb(1.0, -k), 0);
            e += k;
            s = l1(y, sc.nonNegative());
        }
        if (!Double.isFinite(s))
            throw new ArithmeticException("SynFlow float32: a tensor of the linearised network sums to " + s
                    + " in magnitude (it should be finite: check the model's weights and batch-norm statistics for huge values)");
        if (s == 0) return track(y, e, 0, sc.nonNegative());
        int k = Math.getExponent(s);
        rescales++;
        return track(k == 0 ? y : Ops.affine(y, Math.scalb(1.0, -k), 0), e + k, 2, sc.nonNegative());
    }

    /** y with its scale, rescaled when the bound leaves [LOW, HIGH] */
    private Tensor bounded(Tensor y, int e, double bound, boolean nonNegative) {
        track(y, e, bound, nonNegative);
        return bound > HIGH || (bound > 0 && bound < LOW) ? normalised(y, scales.get(y)) : y;
    }

    /**
     * x made ready for an operation that multiplies its bound by factor and adds a constant of
     * magnitude at most constant * 2^-e: rescaled first if the product could overflow, and expressed
     * with a larger exponent if the constant at x's scale would (values of x more than 2^-126 below
     * the constant then lose bits or flush to 0: far below float32's resolution of the result)
     */
    private Tensor room(Tensor x, double factor, double constant, String what) {
        Scale sc = scale(x, what);
        if (sc.bound() * factor > CEILING) {
            x = normalised(x, sc);
            sc = scale(x, what);
        }
        if (constant > 0 && Math.scalb(constant, -sc.exponent()) > HIGH) {
            int e = Math.getExponent(constant) - HIGH_LOG2 + 1;
            Tensor a = align(x, sc.exponent(), e);
            double b = Math.scalb(sc.bound(), sc.exponent() - e);
            x = track(a == null ? Ops.affine(x, 0, 0) : a, e, a == null ? 0 : b, sc.nonNegative());
        }
        return x;
    }

    /** x with exponent ex expressed with exponent e &gt;= ex: x * 2^(ex - e), exact but for underflow; null if all flush to 0 */
    private static Tensor align(Tensor x, int ex, int e) {
        if (ex == e) return x;
        if (ex - e < DROP) return null;
        return Ops.affine(x, Math.scalb(1.0, ex - e), 0);
    }

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
        x = room(x, l.rowNorm(), l.maxBias(), "the input of a convolution");
        Scale sc = scale(x, "the input of a convolution");
        Tensor y = Ops.conv2d(x, l.weight(), atScale(l.bias(), sc.exponent()), m.stride, m.padding, m.dilation, m.groups);
        return bounded(y, sc.exponent(), sc.bound() * l.rowNorm() + Math.scalb(l.maxBias(), -sc.exponent()), sc.nonNegative());
    }

    @Override public Tensor linear(Linear m, Tensor x) {
        Layer l = layer(m);
        x = room(x, l.rowNorm(), l.maxBias(), "the input of a linear layer");
        Scale sc = scale(x, "the input of a linear layer");
        Tensor y = Ops.linear(x, l.weight(), atScale(l.bias(), sc.exponent()));
        return bounded(y, sc.exponent(), sc.bound() * l.rowNorm() + Math.scalb(l.maxBias(), -sc.exponent()), sc.nonNegative());
    }

    @Override public Tensor batchNorm(BatchNorm m, Tensor x) {
        Norm n = norms.get(m);
        if (n == null) throw new IllegalStateException("internal: no linearised normalisation for a batch norm of the model");
        x = room(x, n.maxScale(), n.maxShift(), "the input of a batch norm");
        Scale sc = scale(x, "the input of a batch norm");
        Tensor y = Ops.channelAffine(x, n.scale(), atScale(n.shift(), sc.exponent()));
        return bounded(y, sc.exponent(), sc.bound() * n.maxScale() + Math.scalb(n.maxShift(), -sc.exponent()),
                sc.nonNegative() && n.shiftNonNegative());
    }

    /** ReLU commutes with a positive factor: the gates and the bound stay */
    @Override public Tensor relu(Tensor x) {
        Scale sc = scale(x, "the input of a ReLU");
        return track(Ops.relu(x), sc.exponent(), sc.bound(), true);
    }

    /** a pick per window: same picks at any positive scale, the bound stays */
    @Override public Tensor maxPool2d(MaxPool2d m, Tensor x) {
        Scale sc = scale(x, "the input of a max pool");
        return track(Ops.maxPool2d(x, m.kernel, m.stride, m.padding), sc.exponent(), sc.bound(), sc.nonNegative());
    }

    /** bilinear interpolation and adaptive averaging: linear, non-negative coefficients summing to one, so the bound stays */
    @Override public Tensor resample(Resample r, Tensor x) {
        Scale sc = scale(x, "the input of a resampling");
        return track(r.standardForward(x), sc.exponent(), sc.bound(), sc.nonNegative());
    }

    @Override public Tensor add(Tensor a, Tensor b) {
        Scale sa = scale(a, "an operand of a residual sum"), sb = scale(b, "an operand of a residual sum");
        int e = Math.max(sa.exponent(), sb.exponent());
        Tensor xa = align(a, sa.exponent(), e), xb = align(b, sb.exponent(), e);
        double bound = (xa == null ? 0 : Math.scalb(sa.bound(), sa.exponent() - e)) + (xb == null ? 0 : Math.scalb(sb.bound(), sb.exponent() - e));
        Tensor y = xa == null ? Ops.affine(xb, 1, 0) : xb == null ? Ops.affine(xa, 1, 0) : Ops.add(xa, xb);
        return bounded(y, e, bound, sa.nonNegative() && sb.nonNegative());
    }

    @Override public Tensor cat(int dim, Tensor... xs) {
        int e = Integer.MIN_VALUE;
        Scale[] sc = new Scale[xs.length];
        boolean nonNegative = true;
        for (int i = 0; i < xs.length; i++) {
            sc[i] = scale(xs[i], "operand " + i + " of a concatenation");
            e = Math.max(e, sc[i].exponent());
            nonNegative &= sc[i].nonNegative();
        }
        Tensor[] aligned = new Tensor[xs.length];
        double bound = 0;
        for (int i = 0; i < xs.length; i++) {
            Tensor a = align(xs[i], sc[i].exponent(), e);
            aligned[i] = a != null ? a : Ops.affine(xs[i], 0, 0);
            if (a != null) bound = Math.max(bound, Math.scalb(sc[i].bound(), sc[i].exponent() - e));
        }
        return bounded(Ops.cat(dim, aligned), e, bound, nonNegative);
    }

    /** an average: the bound stays */
    @Override public Tensor globalAvgPool(Tensor x) {
        Scale sc = scale(x, "the input of a global average pooling");
        return track(Ops.globalAvgPool(x), sc.exponent(), sc.bound(), sc.nonNegative());
    }

    @Override public Tensor flatten(Tensor x, int startDim) {
        Scale sc = scale(x, "the input of a flattening");
        return track(Ops.flatten(x, startDim), sc.exponent(), sc.bound(), sc.nonNegative());
    }
}
