package pxprune.px;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import pxprune.core.GradMode;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.MaxPool2d;
import pxprune.nn.Resample;

/**
 * A network evaluated in float32 with a power-of-two exponent carried with every tensor: a tensor
 * t with exponent e stands for the values t * 2^e. Multiplying a float32 number by a power of two
 * only moves its exponent, exact unless the result leaves float32's range, so a network whose
 * every operation commutes with a positive factor (once its additive constants are expressed at
 * the operand's scale) runs on t while the factor 2^e is kept aside. PX's activation network
 * ({@code methods.px.ScaledActivation}) and SynFlow's linearised network
 * ({@code methods.synflow.ScaledSynFlow}) are the two such networks; each says how its layers,
 * normalisations, pools and resamplings change a tensor's bound, and this class keeps the books.
 *
 * <p>How the range is kept: every tensor also carries an upper bound B on |t| and whether t is
 * known to be non-negative. When the B of a layer's ({@link #affineLayer}), a residual sum's or a
 * concatenation's output leaves [low, high] the tensor is divided by {@code 2^k},
 * k = floor(log2(sum |t|)), and k is added to its exponent: its L1 norm lands in [1, 2) and B
 * becomes 2. The sum is one reduction that every backend has, so no tensor is copied to the
 * host to choose k. Before an operation whose bound could pass 2^120 its operand is rescaled
 * that way; before one that adds a constant which at the operand's scale would exceed high, the
 * operand is expressed with a larger exponent. A residual sum or a concatenation of operands with
 * exponents ea &lt;= eb multiplies the operand with ea by {@code 2^(ea - eb)} (exact, except that
 * values more than 2^-126 below the other operand's scale lose bits or flush to 0, far below
 * float32's resolution of the result) and gives the result the exponent eb. ReLU, global average
 * pooling and flattening keep the exponent and the bound.
 *
 * <p>A tensor reaches the hooks with an exponent only if the model computes every intermediate
 * result through its {@link Interpreter} (residual sums with {@link Interpreter#add}, and so on);
 * a tensor the wrapper has not seen is refused with an error that says so, never given a guess.
 * One instance serves one forward pass. A pass that is not differentiated frees the rescaled
 * copies it makes of its operands, and an operation's output it replaces by a rescaled copy, as
 * soon as they have been used (they never reach the model); a differentiated one keeps them on
 * the autograd graph.
 */
public abstract class ScaledNetwork implements Interpreter {
    /** no operation may produce a bound above this (float32 overflows at 2^128) */
    private static final double CEILING = 0x1p120;
    /** factors below 2^-160 flush every float32 value to 0; such an operand is dropped from a sum */
    private static final int DROP = -160;

    /** a tensor t of this pass stands for t * 2^exponent, every |t| is at most bound, and nonNegative says t &gt;= 0 */
    protected record Scale(int exponent, double bound, boolean nonNegative) {}

    /** an operation on an operand with the given exponent (a layer adds its constants at that scale) */
    @FunctionalInterface
    protected interface Op {
        Tensor apply(Tensor x, int exponent);
    }

    /** the network's rules for what the scaling leaves unchanged: ReLU, residual sums, concatenation, pooling, flattening */
    protected final Interpreter inner;
    private final String name;
    private final double low, high;
    private final boolean differentiated;
    private final Map<Tensor, Scale> scales = new IdentityHashMap<>();
    private int rescales;

    /**
     * @param name           the network in error messages ("PX float32")
     * @param inner          evaluates relu, add, cat, globalAvgPool and flatten (and whatever a subclass hands it) on the scaled tensors
     * @param low            an operation's output whose bound is positive and below this is rescaled (0: never)
     * @param high           an operation's output whose bound exceeds this is rescaled
     * @param differentiated whether autograd runs through the pass: then nothing is freed early, and copies stay on the graph
     */
    protected ScaledNetwork(String name, Interpreter inner, double low, double high, boolean differentiated) {
        this.name = name;
        this.inner = inner;
        this.low = low;
        this.high = high;
        this.differentiated = differentiated;
    }

    /** the exponent e of a tensor this pass produced: it stands for t * 2^e */
    public int exponent(Tensor t, String what) { return scale(t, what).exponent(); }

    /** how many tensors this pass has rescaled (for tests and the trace) */
    public int rescales() { return rescales; }

    /** t's scale; an error that says why if this pass did not compute t */
    protected Scale scale(Tensor t, String what) {
        Scale sc = scales.get(t);
        if (sc == null)
            throw new IllegalStateException(name + ": " + what + " (shape " + Arrays.toString(t.shape()) + ") was not computed "
                    + "through the model's Interpreter, so its power-of-two exponent is unknown; route residual sums, "
                    + "concatenations, global pooling and flattening through Interpreter.add/cat/globalAvgPool/flatten, "
                    + "or score with precision float64");
        return sc;
    }

    protected Tensor track(Tensor t, int e, double bound, boolean nonNegative) {
        scales.put(t, new Scale(e, bound, nonNegative));
        return t;
    }

    /** op's output on x with x's scale: an operation that commutes with a positive factor and keeps the bound */
    protected Tensor keep(Tensor x, String what, UnaryOperator<Tensor> op) {
        Scale sc = scale(x, what);
        return track(op.apply(x), sc.exponent(), sc.bound(), sc.nonNegative());
    }

    /** sum |t| as a double, measured off the graph, its temporaries freed at once */
    private static double l1(Tensor t, boolean nonNegative) {
        try (GradMode g = GradMode.noGrad()) {
            if (nonNegative) {
                try (Tensor s = Ops.sum(t)) { return s.item(); }
            }
            try (Tensor a = Ops.abs(t); Tensor s = Ops.sum(a)) { return s.item(); }
        }
    }

    /** frees t, a temporary of this pass that nothing else holds, unless the pass is differentiated */
    private void free(Tensor t) {
        if (!differentiated) t.close();
    }

    /** frees t if it is a temporary (a rescaled copy) made in place of the operand x and the pass is not differentiated */
    protected void release(Tensor t, Tensor x) {
        if (t != null && t != x) free(t);
    }

    /**
     * y (exponent e, |y| &lt;= bound, non-negative or not) divided by 2^k, k = floor(log2(sum |y|)),
     * with exponent e + k and bound 2 (each |value| is at most the sum); y = 0 keeps e (bound 0).
     * fresh: y is a temporary of this pass that nothing else holds (an inner operation's output),
     * freed here once it has been replaced by its rescaled copy.
     */
    protected Tensor normalised(Tensor y, int e, double bound, boolean nonNegative, boolean fresh) {
        double s = l1(y, nonNegative);
        if (s == Double.POSITIVE_INFINITY && Double.isFinite(bound) && bound > 0) { // the sum left float32's range: scale by the bound first
            int k = Math.getExponent(bound);
            Tensor scaled = Ops.affine(y, Math.scalb(1.0, -k), 0);
            if (fresh) free(y);
            y = scaled;
            fresh = true;
            e += k;
            s = l1(y, nonNegative);
        }
        if (!Double.isFinite(s) || s < 0)
            throw new ArithmeticException(name + ": a tensor of the network sums to " + s + " in magnitude (it should be "
                    + "finite: check the data, the model's weights and its batch-norm statistics for huge values)");
        if (s == 0) return track(y, e, 0, nonNegative);
        int k = Math.getExponent(s);
        rescales++;
        if (k == 0) return track(y, e, 2, nonNegative);
        Tensor scaled = Ops.affine(y, Math.scalb(1.0, -k), 0);
        if (fresh) free(y);
        return track(scaled, e + k, 2, nonNegative);
    }

    /** y, a fresh output, with its scale, rescaled when the bound leaves [low, high] */
    protected Tensor bounded(Tensor y, int e, double bound, boolean nonNegative) {
        if (bound > high || (bound > 0 && bound < low)) return normalised(y, e, bound, nonNegative, true);
        return track(y, e, bound, nonNegative);
    }

    /**
     * x made ready for an operation that multiplies its bound by factor and adds a constant of
     * magnitude at most constant * 2^-e: rescaled first if the product could overflow, and expressed
     * with a larger exponent if the constant at x's scale would exceed high (values of x more than
     * 2^-126 below the constant then lose bits or flush to 0: far below float32's resolution of the result)
     */
    protected Tensor room(Tensor x, double factor, double constant, String what) {
        Scale sc = scale(x, what);
        if (sc.bound() * factor > CEILING) {
            x = normalised(x, sc.exponent(), sc.bound(), sc.nonNegative(), false);
            sc = scale(x, what);
        }
        if (constant > 0 && Math.scalb(constant, -sc.exponent()) > high) {
            int e = Math.getExponent(constant) - Math.getExponent(high) + 1;
            Tensor a = align(x, sc.exponent(), e);
            double b = Math.scalb(sc.bound(), sc.exponent() - e);
            x = track(a == null ? zerosLike(x) : a, e, a == null ? 0 : b, sc.nonNegative());
        }
        return x;
    }

    /**
     * op on x for an operation that multiplies the bound by gain and adds constants of magnitude at
     * most constant (op gets them at the operand's scale from its exponent); constantNonNegative: the
     * constants keep a non-negative operand non-negative
     */
    protected Tensor affineLayer(Tensor x, double gain, double constant, boolean constantNonNegative, String what, Op op) {
        Tensor r = room(x, gain, constant, what);
        Scale sc = scale(r, what);
        Tensor y = op.apply(r, sc.exponent());
        if (y != r) release(r, x);
        return bounded(y, sc.exponent(), sc.bound() * gain + Math.scalb(constant, -sc.exponent()),
                sc.nonNegative() && constantNonNegative);
    }

    /** x with exponent ex expressed with exponent e &gt;= ex: x * 2^(ex - e), exact but for underflow; null if all flush to 0 */
    private static Tensor align(Tensor x, int ex, int e) {
        if (ex == e) return x;
        if (ex - e < DROP) return null;
        return Ops.affine(x, Math.scalb(1.0, ex - e), 0);
    }

    /** zeros shaped as x (on x's graph if the pass is differentiated) */
    private Tensor zerosLike(Tensor x) { return differentiated ? Ops.affine(x, 0, 0) : Tensor.zerosLike(x); }

    /** a copy of x (on x's graph if the pass is differentiated) */
    private Tensor copy(Tensor x) { return differentiated ? Ops.affine(x, 1, 0) : Ops.copy(x); }

    @Override public abstract Tensor conv2d(Conv2d m, Tensor x);

    @Override public abstract Tensor linear(Linear m, Tensor x);

    @Override public abstract Tensor batchNorm(BatchNorm m, Tensor x);

    @Override public abstract Tensor maxPool2d(MaxPool2d m, Tensor x);

    @Override public abstract Tensor resample(Resample r, Tensor x);

    /** ReLU commutes with a positive factor: the exponent and the bound stay, the output is non-negative */
    @Override public Tensor relu(Tensor x) {
        Scale sc = scale(x, "the input of a ReLU");
        return track(inner.relu(x), sc.exponent(), sc.bound(), true);
    }

    @Override public Tensor add(Tensor a, Tensor b) {
        Scale sa = scale(a, "an operand of a residual sum"), sb = scale(b, "an operand of a residual sum");
        int e = Math.max(sa.exponent(), sb.exponent());
        Tensor xa = align(a, sa.exponent(), e), xb = align(b, sb.exponent(), e);
        double bound = (xa == null ? 0 : Math.scalb(sa.bound(), sa.exponent() - e)) + (xb == null ? 0 : Math.scalb(sb.bound(), sb.exponent() - e));
        Tensor y = xa == null ? copy(xb) : xb == null ? copy(xa) : inner.add(xa, xb);
        if (xa != y) release(xa, a);
        if (xb != y && xb != xa) release(xb, b);
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
            aligned[i] = a != null ? a : zerosLike(xs[i]);
            if (a != null) bound = Math.max(bound, Math.scalb(sc[i].bound(), sc[i].exponent() - e));
        }
        Tensor y = inner.cat(dim, aligned);
        for (int i = 0; i < xs.length; i++) if (aligned[i] != y) release(aligned[i], xs[i]);
        return bounded(y, e, bound, nonNegative);
    }

    /** an average: the bound stays */
    @Override public Tensor globalAvgPool(Tensor x) { return keep(x, "the input of a global average pooling", inner::globalAvgPool); }

    @Override public Tensor flatten(Tensor x, int startDim) { return keep(x, "the input of a flattening", z -> inner.flatten(z, startDim)); }
}
