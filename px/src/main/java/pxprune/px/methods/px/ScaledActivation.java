package pxprune.px.methods.px;

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
import pxprune.px.ScaledNetwork;

/**
 * PX's activation network A (docs/px-method.md#score) in float32 with a power-of-two exponent
 * carried with every tensor: a tensor t with exponent e stands for the values t * 2^e
 * (docs/px-method.md#float32-activation-network; the bookkeeping is {@link ScaledNetwork}'s).
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
 * 2. A resampling's output is always rescaled that way. Residual sums and concatenations align
 * their operands' exponents. Nothing overflows however deep the network (float64 A overflows near
 * 2^1024, plain float32 near 2^128); where and how often the tensors are rescaled changes no bit of
 * the result (px PxFloat32Test).
 *
 * <p>The exponents are undone in w (see {@link PxScorer}): every output unit of one chunk of data
 * shares the output tensor's exponent, chunks are combined in float64 relative to the largest
 * exponent, and w is divided by its maximum, so only the differences between the chunks'
 * exponents enter w and the absolute scale, which may exceed float64's range, never does.
 *
 * <p>The inner interpreter must be A's (bounds assume 0/1 weights, no biases, identity
 * normalisation and 0/1 gates). The pass is not differentiated: the rescaled copies it makes are
 * freed as soon as they have been used.
 */
public final class ScaledActivation extends ScaledNetwork {
    /** a tensor whose bound exceeds this is rescaled: the next layer multiplies the bound by its fan-in, 2^63 at most */
    static final double LIMIT = 0x1p64;
    private final Map<Module, Double> fanIns;

    /**
     * @param inner  A's rules (weights := masks as F32, gates, pooling, resampling) evaluated on the scaled tensors
     * @param fanIns per convolution and linear layer, its largest kept fan-in ({@link #fanIns}): the most any
     *               output can exceed the largest input by, since A's weights are 0 or 1
     */
    ScaledActivation(Interpreter inner, Map<Module, Double> fanIns) { this(inner, fanIns, LIMIT); }

    /** limit: rescale a tensor whose bound exceeds it (0: after every operation; tests show the choice changes no bit) */
    ScaledActivation(Interpreter inner, Map<Module, Double> fanIns, double limit) {
        super("PX float32", inner, 0, checkedLimit(limit), false);
        this.fanIns = fanIns;
    }

    private static double checkedLimit(double limit) {
        if (!(limit >= 0 && limit <= LIMIT)) throw new IllegalArgumentException("limit must be in [0, 2^64], got " + limit);
        return limit;
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
        Tensor t = normalised(x, 0, Double.POSITIVE_INFINITY, true, false);
        Scale sc = scale(t, "the input");
        return track(Ops.to(t, DType.F32), sc.exponent(), sc.bound(), true);
    }

    private double fanIn(Module m) {
        Double f = fanIns.get(m);
        if (f == null) throw new IllegalStateException("internal: no fan-in for a " + m.getClass().getSimpleName()
                + " (the model was evaluated with a module not listed by PrunableLayer.of)");
        return f;
    }

    /** A's weights are 0 or 1 and it has no biases: the bound grows by the layer's largest kept fan-in */
    @Override public Tensor conv2d(Conv2d m, Tensor x) {
        return affineLayer(x, fanIn(m), 0, true, "the input of a convolution", (r, e) -> inner.conv2d(m, r));
    }

    @Override public Tensor linear(Linear m, Tensor x) {
        return affineLayer(x, fanIn(m), 0, true, "the input of a linear layer", (r, e) -> inner.linear(m, r));
    }

    /** A's normalisation is the identity: the bound stays */
    @Override public Tensor batchNorm(BatchNorm m, Tensor x) { return keep(x, "the input of a batch norm", z -> inner.batchNorm(m, z)); }

    /** a pick or a window's sum: at most kernel^2 times the bound */
    @Override public Tensor maxPool2d(MaxPool2d m, Tensor x) {
        return affineLayer(x, (double) m.kernel * m.kernel, 0, true, "the input of a max pool", (r, e) -> inner.maxPool2d(m, r));
    }

    /** a resampling's support may sum many inputs: its output is rescaled from its sum */
    @Override public Tensor resample(Resample r, Tensor x) {
        Tensor in = room(x, 0x1p40, 0, "the input of a resampling");
        Scale sc = scale(in, "the input of a resampling");
        Tensor y = inner.resample(r, in);
        boolean fresh = y != in && y != x;
        if (fresh) release(in, x);
        return normalised(y, sc.exponent(), Double.POSITIVE_INFINITY, true, fresh);
    }
}
