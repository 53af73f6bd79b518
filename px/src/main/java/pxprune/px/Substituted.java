package pxprune.px;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import pxprune.core.GradMode;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.kernels.Device;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.MaxPool2d;
import pxprune.nn.Module;
import pxprune.nn.Resample;

/**
 * The model evaluated with substitutes: every Conv2d/Linear uses the weight (and bias, or none)
 * given for its module, every batch norm the given normalization, every ReLU the given
 * activation, and every max pool and fixed resampling ({@link Resample}) the given evaluation
 * (by default the model's own: {@link Interpreter}'s). This is how all auxiliary networks of the
 * scorers are built (PX's gate pass, activation and path-kernel networks, SynFlow's linearised
 * network, SNIP/GraSP with batch statistics, the connectivity check): the same model, evaluated
 * differently, never copied and never modified. PX's rules for max pooling and resampling are
 * in docs/px-method.md#pooling-resampling-sums.
 */
public final class Substituted implements Interpreter {
    private final Map<Module, Tensor> weights, biases;
    private final BiFunction<BatchNorm, Tensor, Tensor> norm;
    private final UnaryOperator<Tensor> relu;
    private final BiFunction<MaxPool2d, Tensor, Tensor> maxPool;
    private final BiFunction<Resample, Tensor, Tensor> resample;

    /** max pooling and resampling as the model evaluates them */
    public Substituted(Map<Module, Tensor> weights, Map<Module, Tensor> biases, BiFunction<BatchNorm, Tensor, Tensor> norm,
                UnaryOperator<Tensor> relu) {
        this(weights, biases, norm, relu, STANDARD::maxPool2d, STANDARD::resample);
    }

    public Substituted(Map<Module, Tensor> weights, Map<Module, Tensor> biases, BiFunction<BatchNorm, Tensor, Tensor> norm,
                UnaryOperator<Tensor> relu, BiFunction<MaxPool2d, Tensor, Tensor> maxPool,
                BiFunction<Resample, Tensor, Tensor> resample) {
        this.weights = weights;
        this.biases = biases;
        this.norm = norm;
        this.relu = relu;
        this.maxPool = maxPool;
        this.resample = resample;
    }

    private Tensor weight(Module m) {
        Tensor w = weights.get(m);
        if (w == null) throw new IllegalStateException("internal: no substitute weight for a " + m.getClass().getSimpleName()
                + " (the model was evaluated with a module not listed by PrunableLayer.of)");
        return w;
    }

    @Override public Tensor conv2d(Conv2d m, Tensor x) {
        return Ops.conv2d(x, weight(m), biases.get(m), m.stride, m.padding, m.dilation, m.groups);
    }

    @Override public Tensor linear(Linear m, Tensor x) { return Ops.linear(x, weight(m), biases.get(m)); }

    @Override public Tensor batchNorm(BatchNorm m, Tensor x) { return norm.apply(m, x); }

    @Override public Tensor relu(Tensor x) { return relu.apply(x); }

    @Override public Tensor maxPool2d(MaxPool2d m, Tensor x) { return maxPool.apply(m, x); }

    @Override public Tensor resample(Resample r, Tensor x) { return resample.apply(r, x); }

    // ------------------------------------------------------------------ building blocks

    /**
     * max pooling := the sum over each window (zero padding), every path through the window
     * counted: PX's path-kernel network, the data-free activation network and the reachability
     * checks (docs/px-method.md#pooling-resampling-sums)
     */
    public static Tensor sumPool(MaxPool2d m, Tensor x) { return Ops.sumPool2d(x, m.kernel, m.stride, m.padding); }

    /**
     * A resampling coefficient at most this is a rounding residue of an exact 0 (bilinear weights
     * such as 1 - 0.9999999999999998 where the exact source position is an integer): every exact
     * non-zero coefficient of bilinear interpolation or adaptive average pooling is at least
     * 1 / (2 max(in, out)), far above it. Such a coefficient is no path (docs/px-method.md#pooling-resampling-sums).
     */
    static final double RESIDUE = 1e-9;

    /** resampling := the map with its support, 1 where the coefficient c &gt; 0 (PX's activation network) */
    public static Tensor resampleSupport(Resample r, Tensor x) { return r.mapWith(x, c -> c > RESIDUE ? 1 : 0); }

    /** resampling := the map with squared coefficients c^2 (PX's path-kernel network) */
    public static Tensor resampleSquared(Resample r, Tensor x) { return r.mapWith(x, c -> c > RESIDUE ? c * c : 0); }

    /** f(theta * m) per layer, as new tensors of type dt with no graph (f applied elementwise on the host) */
    public static Map<Module, Tensor> maskedWeights(List<PrunableLayer> layers, Masks masks, DType dt, DoubleUnaryOperator f) {
        Map<Module, Tensor> out = new IdentityHashMap<>();
        for (PrunableLayer l : layers) {
            double[] w = l.weight().toDoubleArray();
            float[] m = masks.raw(l.name());
            for (int i = 0; i < w.length; i++) w[i] = f.applyAsDouble(w[i] * m[i]);
            out.put(l.module(), tensor(w, dt, l.weight().device(), l.shape()));
        }
        return out;
    }

    /** the masks themselves as weights (A's weights, the connectivity check's weights) */
    public static Map<Module, Tensor> maskWeights(List<PrunableLayer> layers, Masks masks, DType dt) {
        Map<Module, Tensor> out = new IdentityHashMap<>();
        for (PrunableLayer l : layers) {
            float[] m = masks.raw(l.name());
            double[] d = new double[m.length];
            for (int i = 0; i < m.length; i++) d[i] = m[i];
            out.put(l.module(), tensor(d, dt, l.weight().device(), l.shape()));
        }
        return out;
    }

    /** f(bias) per layer that has one, as new tensors of type dt with no graph */
    public static Map<Module, Tensor> biases(List<PrunableLayer> layers, DType dt, DoubleUnaryOperator f) {
        Map<Module, Tensor> out = new IdentityHashMap<>();
        for (PrunableLayer l : layers) {
            if (l.bias() == null) continue;
            double[] b = l.bias().toDoubleArray();
            for (int i = 0; i < b.length; i++) b[i] = f.applyAsDouble(b[i]);
            out.put(l.module(), tensor(b, dt, l.bias().device(), l.bias().shape()));
        }
        return out;
    }

    public static Map<Module, Tensor> noBiases() { return new IdentityHashMap<>(); }

    public static Tensor tensor(double[] v, DType dt, int... shape) { return tensor(v, dt, Device.CPU, shape); }

    /** values computed on the host as a tensor of type dt on device (the model's: substitutes sit beside its weights) */
    public static Tensor tensor(double[] v, DType dt, Device device, int... shape) {
        return dt == DType.F64 ? Tensor.of(v, device, shape) : Tensor.of(toFloats(v), device, shape);
    }

    private static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }

    /** normalization := identity */
    public static BiFunction<BatchNorm, Tensor, Tensor> identityNorm() { return (m, x) -> x; }

    /** per-channel (scale, shift) of a batch norm from its gamma, beta, running mean, running var and eps */
    public interface ChannelAffine { double[][] of(double[] gamma, double[] beta, double[] mean, double[] var, double eps); }

    /**
     * normalization := the fixed per-channel affine map y = x * scale + shift computed (on the host,
     * in double) from each batch norm's parameters and running statistics; shift may be null (0)
     */
    public static BiFunction<BatchNorm, Tensor, Tensor> affineNorm(Module model, DType dt, ChannelAffine f) {
        Map<BatchNorm, Tensor[]> ss = new IdentityHashMap<>();
        for (Module m : model.namedModules().values()) {
            if (!(m instanceof BatchNorm bn)) continue;
            double[][] p = f.of(bn.weight().toDoubleArray(), bn.bias().toDoubleArray(), bn.runningMean().toDoubleArray(),
                    bn.runningVar().toDoubleArray(), bn.eps);
            Device d = bn.weight().device();
            ss.put(bn, new Tensor[] {tensor(p[0], dt, d, p[0].length), p[1] == null ? null : tensor(p[1], dt, d, p[1].length)});
        }
        return (m, x) -> {
            Tensor[] s = ss.get(m);
            return Ops.channelAffine(x, s[0], s[1]);
        };
    }

    /** normalization := the eval-time map with running statistics: gamma (x - mean) / sqrt(var + eps) + beta */
    public static BiFunction<BatchNorm, Tensor, Tensor> evalNorm(Module model, DType dt) {
        return affineNorm(model, dt, (g, b, mean, var, eps) -> {
            double[] scale = new double[g.length], shift = new double[g.length];
            for (int c = 0; c < g.length; c++) {
                scale[c] = g[c] / Math.sqrt(var[c] + eps);
                shift[c] = b[c] - mean[c] * scale[c];
            }
            return new double[][] {scale, shift};
        });
    }

    /**
     * normalization := batch statistics (training-mode batch norm) that never touches the running
     * statistics or num_batches_tracked; gamma and beta are constants (no gradient to them)
     */
    public static BiFunction<BatchNorm, Tensor, Tensor> batchStatsNorm(Module model, DType dt) {
        Map<BatchNorm, Tensor[]> gb = new IdentityHashMap<>();
        try (GradMode g = GradMode.noGrad()) {
            for (Module m : model.namedModules().values())
                if (m instanceof BatchNorm bn) gb.put(bn, new Tensor[] {copyAs(bn.weight(), dt), copyAs(bn.bias(), dt)});
        }
        return (m, x) -> {
            Tensor[] p = gb.get(m);
            return Ops.batchNormTrain(x, p[0], p[1], null, null, m.momentum, m.eps);
        };
    }

    /** a copy of t in type dt, with no graph and not requiring a gradient */
    public static Tensor copyAs(Tensor t, DType dt) {
        try (GradMode g = GradMode.noGrad()) {
            return t.dtype() == dt ? Ops.copy(t) : Ops.to(t, dt);
        }
    }
}
