package pxprune.px;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.MaxPool2d;
import pxprune.nn.Resample;

/**
 * PX's activation network A (docs/px-method.md section 3) in float32 with a power-of-two exponent
 * carried with every tensor: a tensor t with exponent e stands for the values t * 2^e
 * (docs/px-method.md section 10).
 *
 * <p>Why this is exact up to float32's own rounding: with its gates fixed, A is linear in its input
 * and non-negative everywhere (0/1 weights, no biases, identity normalisation, 0/1 gates, window
 * sums, input x*x). A linear map commutes with a scale factor, so A can run on {@code t} while the
 * factor {@code 2^e} is kept aside; multiplying a float32 number by a power of two only moves its
 * exponent, which is exact unless the result leaves float32's range. So after every layer that can
 * grow the values (convolution and linear: by up to their fan-in; max pooling and resampling,
 * which in A may sum a window) the output is divided by {@code 2^k}, k = floor(log2(sum of the
 * output)): the output's sum lands in [1, 2), its maximum in [2/n, 2] for n elements (all values
 * are non-negative, so max &lt;= sum &lt;= n max), and k is added to the exponent. The sum is one
 * reduction that every backend has, so no tensor is copied to the host to choose k. Nothing then
 * overflows however deep the network (float64 A overflows near 2^1024, plain float32 near 2^128;
 * see PxFloat32Test). ReLU gates, max-pool routing, identity normalisation, global average pooling
 * and flattening keep the exponent. A residual sum or a concatenation of operands with exponents
 * ea &lt;= eb rescales the operand with the smaller one by {@code 2^(ea - eb)} (exact, except that
 * values more than 2^-126 below the other operand's scale lose bits or flush to 0, far below
 * float32's resolution of the sum) and gives the result the exponent eb.
 *
 * <p>The exponents are undone in w (see {@link PxScorer}): every output unit of one chunk of data
 * shares the output tensor's exponent, chunks are combined in float64 relative to the largest
 * exponent, and w is divided by its maximum, so only the differences between the chunks'
 * exponents enter w and the absolute scale, which may exceed float64's range, never does.
 *
 * <p>A tensor reaches the hooks with an exponent only if the model computes every intermediate
 * result through its {@link Interpreter} (residual sums with {@link Interpreter#add}, and so on);
 * a tensor the wrapper has not seen is refused with an error that says so, never given a guess.
 * One instance serves one forward pass over one chunk of data.
 */
final class ScaledActivation implements Interpreter {
    /** factors below 2^-160 flush every float32 value to 0; such an operand is dropped from a sum */
    private static final int DROP = -160;
    private final Interpreter inner;
    private final Map<Tensor, Integer> exponents = new IdentityHashMap<>();

    /** @param inner A's rules (weights := masks as F32, gates, pooling, resampling) evaluated on the scaled tensors */
    ScaledActivation(Interpreter inner) { this.inner = inner; }

    /**
     * A's float32 input: x (non-negative, any floating type) scaled by a power of two so that its
     * sum is in [1, 2), in float32, with that exponent; scaled in x's own type, so x*x computed in
     * float64 never overflows on the way
     */
    Tensor input(Tensor x) {
        Tensor t = normalised(x, 0);
        int e = exponent(t, "the input");
        return track(Ops.to(t, DType.F32), e);
    }

    /** the exponent e of a tensor this pass produced: it stands for t * 2^e */
    int exponent(Tensor t, String what) {
        Integer e = exponents.get(t);
        if (e == null)
            throw new IllegalStateException("PX float32: " + what + " (shape " + Arrays.toString(t.shape()) + ") was not computed "
                    + "through the model's Interpreter, so its power-of-two exponent is unknown; route residual sums, "
                    + "concatenations, global pooling and flattening through Interpreter.add/cat/globalAvgPool/flatten, "
                    + "or score with precision float64");
        return e;
    }

    private Tensor track(Tensor t, int e) {
        exponents.put(t, e);
        return t;
    }

    /** y (exponent e) divided by 2^k, k = floor(log2(sum y)), with exponent e + k; y = 0 keeps e */
    private Tensor normalised(Tensor y, int e) {
        double s = Ops.sum(y).item();
        if (!Double.isFinite(s) || s < 0)
            throw new ArithmeticException("PX float32: a tensor of the activation network sums to " + s
                    + " (it should be finite and >= 0: check the data for huge values)");
        if (s == 0) return track(y, e);
        int k = Math.getExponent(s);
        return k == 0 ? track(y, e) : track(Ops.affine(y, Math.scalb(1.0, -k), 0), e + k);
    }

    /** x with exponent ex expressed with exponent e &gt;= ex: x * 2^(ex - e), exact but for underflow; null for 0 */
    private static Tensor align(Tensor x, int ex, int e) {
        if (ex == e) return x;
        if (ex - e < DROP) return null;
        return Ops.affine(x, Math.scalb(1.0, ex - e), 0);
    }

    @Override public Tensor conv2d(Conv2d m, Tensor x) {
        return normalised(inner.conv2d(m, x), exponent(x, "the input of a convolution"));
    }

    @Override public Tensor linear(Linear m, Tensor x) {
        return normalised(inner.linear(m, x), exponent(x, "the input of a linear layer"));
    }

    @Override public Tensor batchNorm(BatchNorm m, Tensor x) {
        return track(inner.batchNorm(m, x), exponent(x, "the input of a batch norm"));
    }

    @Override public Tensor relu(Tensor x) { return track(inner.relu(x), exponent(x, "the input of a ReLU")); }

    @Override public Tensor maxPool2d(MaxPool2d m, Tensor x) {
        return normalised(inner.maxPool2d(m, x), exponent(x, "the input of a max pool"));
    }

    @Override public Tensor resample(Resample r, Tensor x) {
        return normalised(inner.resample(r, x), exponent(x, "the input of a resampling"));
    }

    @Override public Tensor add(Tensor a, Tensor b) {
        int ea = exponent(a, "an operand of a residual sum"), eb = exponent(b, "an operand of a residual sum"), e = Math.max(ea, eb);
        Tensor sa = align(a, ea, e), sb = align(b, eb, e);
        Tensor y = sa == null ? Ops.copy(sb) : sb == null ? Ops.copy(sa) : inner.add(sa, sb);
        return track(y, e);
    }

    @Override public Tensor cat(int dim, Tensor... xs) {
        int e = Integer.MIN_VALUE;
        int[] ex = new int[xs.length];
        for (int i = 0; i < xs.length; i++) e = Math.max(e, ex[i] = exponent(xs[i], "operand " + i + " of a concatenation"));
        Tensor[] aligned = new Tensor[xs.length];
        for (int i = 0; i < xs.length; i++) {
            Tensor s = align(xs[i], ex[i], e);
            aligned[i] = s != null ? s : Tensor.zerosLike(xs[i]);
        }
        return track(inner.cat(dim, aligned), e);
    }

    @Override public Tensor globalAvgPool(Tensor x) {
        return track(inner.globalAvgPool(x), exponent(x, "the input of a global average pooling"));
    }

    @Override public Tensor flatten(Tensor x, int startDim) {
        return track(inner.flatten(x, startDim), exponent(x, "the input of a flattening"));
    }
}
