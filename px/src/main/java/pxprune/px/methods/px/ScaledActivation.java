package pxprune.px.methods.px;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.MaxPool2d;
import pxprune.nn.Module;
import pxprune.nn.Resample;
import pxprune.px.Masks;
import pxprune.px.PrunableLayer;

/**
 * PX's activation network A (docs/px-method.md section 3) in float32 with a power-of-two exponent
 * carried with every tensor: a tensor t with exponent e stands for the values t * 2^e
 * (docs/px-method.md section 10).
 *
 * <p>Why this is exact up to float32's own rounding: with its gates fixed, A is linear in its input
 * and non-negative everywhere (0/1 weights, no biases, identity normalisation, 0/1 gates, picks or
 * window sums, input x*x). A linear map commutes with a scale factor, so A can run on {@code t}
 * while the factor {@code 2^e} is kept aside; multiplying a float32 number by a power of two only
 * moves its exponent, which is exact unless the result leaves float32's range.
 *
 * <p>How the range is kept: every tensor also carries an upper bound B on its values. A convolution
 * or linear layer multiplies B by its largest kept fan-in ({@link #fanIns}, from the masks), a max
 * pool by at most kernel^2; gates, identity normalisation, global average pooling and flattening
 * keep it. When B exceeds 2^64 the tensor is divided by {@code 2^k}, k = floor(log2(its sum)), and
 * k is added to its exponent: the sum lands in [1, 2) and, all values being non-negative, B becomes
 * 2. The sum is one reduction that every backend has, so no tensor is copied to the host to choose
 * k. A resampling's output is always rescaled that way. A residual sum or a concatenation of
 * operands with exponents ea &lt;= eb multiplies the operand with ea by {@code 2^(ea - eb)} (exact,
 * except that values more than 2^-126 below the other operand's scale lose bits or flush to 0, far
 * below float32's resolution of the result) and gives the result the exponent eb. Nothing overflows
 * however deep the network (float64 A overflows near 2^1024, plain float32 near 2^128); where and
 * how often the tensors are rescaled changes no bit of the result (px PxFloat32Test).
 *
 * <p>The exponents are undone in w (see {@link PxScorer}): every output unit of one chunk of data
 * shares the output tensor's exponent, chunks are combined in float64 relative to the largest
 * exponent, and w is divided by its maximum, so only the differences between the chunks'
 * exponents enter w and the absolute scale, which may exceed float64's range, never does.
 *
 * <p>A tensor reaches the hooks with an exponent only if the model computes every intermediate
 * result through its {@link Interpreter} (residual sums with {@link Interpreter#add}, and so on);
 * a tensor the wrapper has not seen is refused with an error that says so, never given a guess.
 * The inner interpreter must be A's (bounds assume 0/1 weights, no biases, identity normalisation
 * and 0/1 gates). One instance serves one forward pass over one chunk of data. The rescaled copies it
 * makes of its operands, and an operation's output it replaces by a rescaled copy, are freed as soon
 * as they have been used (they never reach the model).
 */
public final class ScaledActivation implements Interpreter {
    /** a tensor whose bound exceeds this is rescaled: the next layer multiplies the bound by its fan-in, 2^63 at most */
    static final double LIMIT = 0x1p64;
    /** no operation may produce a bound above this (float32 overflows at 2^128) */
    private static final double CEILING = 0x1p120;
    /** factors below 2^-160 flush every float32 value to 0; such an operand is dropped from a sum */
    private static final int DROP = -160;
    private final Interpreter inner;
    private final Map<Module, Double> fanIns;
    private final double limit;
    private final Map<Tensor, Scale> scales = new IdentityHashMap<>();
    private int rescales;

    /** a tensor t of this pass stands for t * 2^exponent, and every |t| is at most bound */
    private record Scale(int exponent, double bound) {}

    /**
     * @param inner  A's rules (weights := masks as F32, gates, pooling, resampling) evaluated on the scaled tensors
     * @param fanIns per convolution and linear layer, its largest kept fan-in ({@link #fanIns}): the most any
     *               output can exceed the largest input by, since A's weights are 0 or 1
     */
    ScaledActivation(Interpreter inner, Map<Module, Double> fanIns) { this(inner, fanIns, LIMIT); }

    /** limit: rescale a tensor whose bound exceeds it (0: after every layer; tests show the choice changes no bit) */
    ScaledActivation(Interpreter inner, Map<Module, Double> fanIns, double limit) {
        if (!(limit >= 0 && limit <= LIMIT)) throw new IllegalArgumentException("limit must be in [0, 2^64], got " + limit);
        this.inner = inner;
        this.fanIns = fanIns;
        this.limit = limit;
    }

    /** per layer, the largest number of kept weights of one output unit (row of the weight [out, ...]) */
    static Map<Module, Double> fanIns(List<PrunableLayer> layers, Masks masks) {
        Map<Module, Double> out = new IdentityHashMap<>();
        for (PrunableLayer l : layers) {
            float[] m = masks.raw(l.name());
            int rows = l.shape()[0], per = m.length / rows;
            double max = 0;
            for (int r = 0; r < rows; r++) {
                double n = 0;
                for (int i = r * per; i < (r + 1) * per; i++) n += m[i];
                max = Math.max(max, n);
            }
            out.put(l.module(), max);
        }
        return out;
    }

    /**
     * A's float32 input: x (non-negative, any floating type) scaled by a power of two so that its
     * sum is in [1, 2), in float32, with that exponent; scaled in x's own type, so x*x computed in
     * float64 never overflows on the way
     */
    Tensor input(Tensor x) {
        Tensor t = normalised(x, 0, Double.POSITIVE_INFINITY, false);
        Scale sc = scale(t, "the input");
        return track(Ops.to(t, DType.F32), sc.exponent(), sc.bound());
    }

    /** the exponent e of a tensor this pass produced: it stands for t * 2^e */
    int exponent(Tensor t, String what) { return scale(t, what).exponent(); }

    /** how many tensors this pass has rescaled (for tests and the trace) */
    int rescales() { return rescales; }

    private Scale scale(Tensor t, String what) {
        Scale sc = scales.get(t);
        if (sc == null)
            throw new IllegalStateException("PX float32: " + what + " (shape " + Arrays.toString(t.shape()) + ") was not computed "
                    + "through the model's Interpreter, so its power-of-two exponent is unknown; route residual sums, "
                    + "concatenations, global pooling and flattening through Interpreter.add/cat/globalAvgPool/flatten, "
                    + "or score with precision float64");
        return sc;
    }

    private Tensor track(Tensor t, int e, double bound) {
        scales.put(t, new Scale(e, bound));
        return t;
    }

    /**
     * y (exponent e, |y| &lt;= bound) divided by 2^k, k = floor(log2(sum y)), with exponent e + k and
     * bound 2 (all values are &gt;= 0, so each is at most the sum); y = 0 keeps e. fresh: y is a
     * temporary of this pass that nothing else holds (an inner operation's output), freed here once it
     * has been replaced by its rescaled copy.
     */
    private Tensor normalised(Tensor y, int e, double bound, boolean fresh) {
        double s = sumOf(y);
        if (s == Double.POSITIVE_INFINITY && Double.isFinite(bound)) { // the sum left float32's range: scale by the bound first
            int k = Math.getExponent(bound);
            Tensor scaled = Ops.affine(y, Math.scalb(1.0, -k), 0);
            if (fresh) y.close();
            y = scaled;
            fresh = true;
            e += k;
            s = sumOf(y);
        }
        if (!Double.isFinite(s) || s < 0)
            throw new ArithmeticException("PX float32: a tensor of the activation network sums to " + s
                    + " (it should be finite and >= 0: check the data for huge values)");
        if (s == 0) return track(y, e, 0);
        int k = Math.getExponent(s);
        rescales++;
        if (k == 0) return track(y, e, 2);
        Tensor scaled = Ops.affine(y, Math.scalb(1.0, -k), 0);
        if (fresh) y.close();
        return track(scaled, e + k, 2);
    }

    /** the sum of t's values, its one-element tensor freed at once */
    private static double sumOf(Tensor t) {
        try (Tensor s = Ops.sum(t)) { return s.item(); }
    }

    /** frees t if it is a temporary (a rescaled copy) made in place of the operand x */
    private static void dropCopy(Tensor t, Tensor x) {
        if (t != null && t != x) t.close();
    }

    /** y with exponent e and bound, rescaled when the bound exceeds the limit */
    private Tensor bounded(Tensor y, int e, double bound) {
        return bound > limit ? normalised(y, e, bound, true) : track(y, e, bound);
    }

    /** x, rescaled first if an operation that multiplies its bound by factor could overflow */
    private Tensor room(Tensor x, double factor, String what) {
        Scale sc = scale(x, what);
        return sc.bound() * factor > CEILING ? normalised(x, sc.exponent(), sc.bound(), false) : x;
    }

    /** x with exponent ex expressed with exponent e &gt;= ex: x * 2^(ex - e), exact but for underflow; null for 0 */
    private static Tensor align(Tensor x, int ex, int e) {
        if (ex == e) return x;
        if (ex - e < DROP) return null;
        return Ops.affine(x, Math.scalb(1.0, ex - e), 0);
    }

    private double fanIn(Module m) {
        Double f = fanIns.get(m);
        if (f == null) throw new IllegalStateException("internal: no fan-in for a " + m.getClass().getSimpleName()
                + " (the model was evaluated with a module not listed by PrunableLayer.of)");
        return f;
    }

    @Override public Tensor conv2d(Conv2d m, Tensor x) { return layer(m, x, "the input of a convolution", r -> inner.conv2d(m, r)); }

    @Override public Tensor linear(Linear m, Tensor x) { return layer(m, x, "the input of a linear layer", r -> inner.linear(m, r)); }

    /** a weighted layer m (op) on x: x made room for m's fan-in first, the output's bound grown by it */
    private Tensor layer(Module m, Tensor x, String what, java.util.function.UnaryOperator<Tensor> op) {
        double f = fanIn(m);
        Tensor r = room(x, f, what);
        Scale sc = scale(r, what);
        Tensor y = op.apply(r);
        if (y != r) dropCopy(r, x);
        return bounded(y, sc.exponent(), sc.bound() * f);
    }

    /** A's normalisation is the identity: the bound stays */
    @Override public Tensor batchNorm(BatchNorm m, Tensor x) {
        Scale sc = scale(x, "the input of a batch norm");
        return track(inner.batchNorm(m, x), sc.exponent(), sc.bound());
    }

    /** A's ReLU multiplies by a 0/1 gate: the bound stays */
    @Override public Tensor relu(Tensor x) {
        Scale sc = scale(x, "the input of a ReLU");
        return track(inner.relu(x), sc.exponent(), sc.bound());
    }

    /** a pick or a window's sum: at most kernel^2 times the bound */
    @Override public Tensor maxPool2d(MaxPool2d m, Tensor x) {
        double f = (double) m.kernel * m.kernel;
        Tensor r = room(x, f, "the input of a max pool");
        Scale sc = scale(r, "the input of a max pool");
        Tensor y = inner.maxPool2d(m, r);
        if (y != r) dropCopy(r, x);
        return bounded(y, sc.exponent(), sc.bound() * f);
    }

    /** a resampling's support may sum many inputs: its output is rescaled from its sum */
    @Override public Tensor resample(Resample r, Tensor x) {
        Tensor in = room(x, 0x1p40, "the input of a resampling");
        Scale sc = scale(in, "the input of a resampling");
        Tensor y = inner.resample(r, in);
        boolean fresh = y != in && y != x;
        if (fresh) dropCopy(in, x);
        return normalised(y, sc.exponent(), Double.POSITIVE_INFINITY, fresh);
    }

    @Override public Tensor add(Tensor a, Tensor b) {
        Scale sa = scale(a, "an operand of a residual sum"), sb = scale(b, "an operand of a residual sum");
        int e = Math.max(sa.exponent(), sb.exponent());
        Tensor xa = align(a, sa.exponent(), e), xb = align(b, sb.exponent(), e);
        double bound = (xa == null ? 0 : Math.scalb(sa.bound(), sa.exponent() - e)) + (xb == null ? 0 : Math.scalb(sb.bound(), sb.exponent() - e));
        Tensor y = xa == null ? Ops.copy(xb) : xb == null ? Ops.copy(xa) : inner.add(xa, xb);
        if (xa != y) dropCopy(xa, a);
        if (xb != y && xb != xa) dropCopy(xb, b);
        return bounded(y, e, bound);
    }

    @Override public Tensor cat(int dim, Tensor... xs) {
        int e = Integer.MIN_VALUE;
        Scale[] sc = new Scale[xs.length];
        for (int i = 0; i < xs.length; i++) e = Math.max(e, (sc[i] = scale(xs[i], "operand " + i + " of a concatenation")).exponent());
        Tensor[] aligned = new Tensor[xs.length];
        double bound = 0;
        for (int i = 0; i < xs.length; i++) {
            Tensor a = align(xs[i], sc[i].exponent(), e);
            aligned[i] = a != null ? a : Tensor.zerosLike(xs[i]);
            if (a != null) bound = Math.max(bound, Math.scalb(sc[i].bound(), sc[i].exponent() - e));
        }
        Tensor y = inner.cat(dim, aligned);
        for (int i = 0; i < xs.length; i++) if (aligned[i] != y) dropCopy(aligned[i], xs[i]);
        return track(y, e, bound);
    }

    /** an average: the bound stays */
    @Override public Tensor globalAvgPool(Tensor x) {
        Scale sc = scale(x, "the input of a global average pooling");
        return track(inner.globalAvgPool(x), sc.exponent(), sc.bound());
    }

    @Override public Tensor flatten(Tensor x, int startDim) {
        Scale sc = scale(x, "the input of a flattening");
        return track(inner.flatten(x, startDim), sc.exponent(), sc.bound());
    }
}
