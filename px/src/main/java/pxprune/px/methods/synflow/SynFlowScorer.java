package pxprune.px.methods.synflow;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import pxprune.core.Autograd;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.BatchNorm;
import pxprune.nn.Module;
import pxprune.px.EvalMode;
import pxprune.px.Masks;
import pxprune.px.PrunableLayer;
import pxprune.px.Scorer;
import pxprune.px.ScoringData;
import pxprune.px.Substituted;
import pxprune.px.Trace;

/**
 * SynFlow (Tanaka et al. 2020, as Synaptic-Flow computes it) and the PX authors' SynFlow-L2. The
 * model is linearised by applying f to every parameter and buffer: f = |.| (SynFlow) or f = (.)^2
 * (SynFlow-L2), prunable weights taken at theta*m, biases included, and batch norm evaluated with
 * running statistics from the transformed state: y = f(gamma) (x - f(mean)) / sqrt(f(var) + eps) +
 * f(beta). ReLUs stay. Input: one all-ones sample; R = sum of the outputs.
 * <ul>
 *   <li>synflow: p = |theta*m|, score = |p * dR/dp|;</li>
 *   <li>synflow_l2: p = (theta*m)^2, score = |dR/dp| * |theta*m|.</li>
 * </ul>
 *
 * <p>Precision: {@link DType#F64} evaluates the network in float64 as Synaptic-Flow does (its
 * values grow or shrink by a factor per layer and leave float32's range on deep or wide
 * networks). {@link DType#F32} (the default, {@link #DEFAULT_PRECISION}) evaluates it
 * in float32 with a power-of-two exponent carried per tensor ({@link ScaledSynFlow},
 * docs/px-method.md#float32-synflow): exact up to float32's rounding, forward and backward, at any depth;
 * the scores are float64 tensors multiplied back by the output's exponent, one power of two common
 * to every layer. Scores are F64 tensors either way.
 */
public final class SynFlowScorer implements Scorer {
    /**
     * the precision of the linearised network when none is given: float32
     * with power-of-two rescaling, which matches float64 to 1e-6 relative L2, per layer and over
     * all layers, on the golden ResNet-20, ResNet-56 and VGG-19-BN (px SynFlowFloat32Test)
     */
    public static final DType DEFAULT_PRECISION = DType.F32;

    private final boolean l2;
    private final DType precision;

    /** in the default precision, {@link #DEFAULT_PRECISION} */
    public SynFlowScorer(boolean l2) { this(l2, DEFAULT_PRECISION); }

    /** @param precision {@link DType#F32} (power-of-two rescaled) or {@link DType#F64} */
    public SynFlowScorer(boolean l2, DType precision) {
        if (precision != DType.F32 && precision != DType.F64)
            throw new IllegalArgumentException("SynFlow precision must be F32 or F64, got " + precision);
        this.l2 = l2;
        this.precision = precision;
    }

    @Override public String name() { return l2 ? "synflow_l2" : "synflow"; }

    /** the arithmetic of the linearised network: F32 (rescaled by powers of two) or F64 */
    public DType precision() { return precision; }

    @Override public Map<String, Tensor> score(Module model, Masks masks, ScoringData data) {
        List<PrunableLayer> layers = PrunableLayer.of(model);
        masks.checkFits(layers);
        return precision == DType.F32 ? scoreFloat32(model, layers, masks, data) : scoreFloat64(model, layers, masks, data);
    }

    /** per channel (scale, shift) of the linearised batch norm: f(gamma) / sqrt(f(var) + eps), f(beta) - f(mean) * scale */
    private Substituted.ChannelAffine linearisedNorm(DoubleUnaryOperator f) {
        return (gamma, beta, mean, var, eps) -> {
            double[] scale = new double[gamma.length], shift = new double[gamma.length];
            for (int c = 0; c < gamma.length; c++) {
                scale[c] = f.applyAsDouble(gamma[c]) / Math.sqrt(f.applyAsDouble(var[c]) + eps);
                shift[c] = f.applyAsDouble(beta[c]) - f.applyAsDouble(mean[c]) * scale[c];
            }
            return new double[][] {scale, shift};
        };
    }

    private Map<String, Tensor> scoreFloat64(Module model, List<PrunableLayer> layers, Masks masks, ScoringData data) {
        DoubleUnaryOperator f = l2 ? v -> v * v : Math::abs;
        Map<String, Tensor> out = new LinkedHashMap<>();
        Trace trace = data.trace();
        try (EvalMode e = new EvalMode(model); MemoryScope s = MemoryScope.open(); GradMode g = GradMode.set(true)) {
            long t0 = System.nanoTime();
            var p = Substituted.maskedWeights(layers, masks, DType.F64, f);
            List<Tensor> leaves = new ArrayList<>();
            for (PrunableLayer l : layers) leaves.add(p.get(l.module()).requiresGrad(true));
            var norm = Substituted.affineNorm(model, DType.F64, linearisedNorm(f));
            Substituted net = new Substituted(p, Substituted.biases(layers, DType.F64, f), norm, Ops::relu);
            Tensor in = Tensor.ones(DType.F64, model.device(), data.sampleShape()), y = model.forward(in, trace.watch("forward", net));
            Tensor r = Ops.sum(y);
            trace.pass(name(), "forward", Trace.group(Trace.tensors("ones", in, "output", y, "R", r), "p", layers, leaves),
                    System.nanoTime() - t0);
            t0 = System.nanoTime();
            Tensor[] grads = Autograd.grad(r, leaves, false);
            trace.pass(name(), "backward", Trace.group(Trace.tensors("R", r), "dR/dp", layers, List.of(grads)), System.nanoTime() - t0);
            t0 = System.nanoTime();
            var theta = l2 ? Substituted.maskedWeights(layers, masks, DType.F64, Math::abs) : null;
            try (GradMode ng = GradMode.noGrad()) {
                for (int i = 0; i < layers.size(); i++) {
                    Tensor other = l2 ? theta.get(layers.get(i).module()) : leaves.get(i);
                    out.put(layers.get(i).name(), MemoryScope.keep(Ops.abs(Ops.mul(grads[i], other))));
                }
            }
            trace.pass(name(), "score", Trace.group(new LinkedHashMap<>(), "score", layers, List.copyOf(out.values())),
                    System.nanoTime() - t0);
        }
        return out;
    }

    /**
     * The linearised network in float32 with power-of-two exponents ({@link ScaledSynFlow}): the
     * output is normalised to an L1 norm in [1, 2) with exponent E, the gradients of its sum are
     * dR/dp * 2^-E, and the scores are formed on the host in float64 from them and p (or |theta*m|)
     * in float64, times 2^E (clamped to [2^-{@value #FACTOR_LOG2}, 2^{@value #FACTOR_LOG2}] so that
     * float64 holds them; the factor is common to all weights, so the ranking is the same either way)
     */
    private Map<String, Tensor> scoreFloat32(Module model, List<PrunableLayer> layers, Masks masks, ScoringData data) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        Trace trace = data.trace();
        try (EvalMode e = new EvalMode(model); MemoryScope s = MemoryScope.open(); GradMode g = GradMode.set(true)) {
            long t0 = System.nanoTime();
            Map<Module, ScaledSynFlow.Layer> subs = new IdentityHashMap<>();
            List<Tensor> leaves = new ArrayList<>();
            List<float[]> other = new ArrayList<>(); // per layer, what dR/dp is multiplied by: p (synflow), |theta*m| (synflow_l2)
            for (PrunableLayer l : layers) {
                float[] w = l.weight().toFloatArray(), m = masks.raw(l.name()), p = new float[w.length], a = l2 ? new float[w.length] : p;
                int rows = l.shape()[0], per = w.length / rows;
                double rowNorm = 0;
                for (int r = 0, i = 0; r < rows; r++) {
                    double n = 0;
                    for (int end = i + per; i < end; i++) {
                        float v = Math.abs(w[i] * m[i]); // exact: m is 0 or 1
                        float q = l2 ? (float) ((double) v * v) : v;
                        p[i] = q;
                        if (l2) a[i] = v;
                        n += q;
                    }
                    rowNorm = Math.max(rowNorm, n);
                }
                Tensor pt = Tensor.of(p, l.weight().device(), l.shape()).requiresGrad(true);
                leaves.add(pt);
                other.add(a);
                Tensor b = null;
                double maxBias = 0;
                if (l.bias() != null) {
                    double[] bv = l.bias().toDoubleArray();
                    for (int i = 0; i < bv.length; i++) bv[i] = l2 ? bv[i] * bv[i] : Math.abs(bv[i]);
                    b = Substituted.tensor(bv, DType.F32, l.bias().device(), l.bias().shape());
                    maxBias = ScaledSynFlow.maxAbs(bv);
                }
                subs.put(l.module(), new ScaledSynFlow.Layer(pt, b, rowNorm, maxBias));
            }
            Map<BatchNorm, ScaledSynFlow.Norm> norms = new IdentityHashMap<>();
            Substituted.ChannelAffine affine = linearisedNorm(l2 ? v -> v * v : Math::abs);
            for (Module mod : model.namedModules().values()) {
                if (!(mod instanceof BatchNorm bn)) continue;
                double[][] sc = affine.of(bn.weight().toDoubleArray(), bn.bias().toDoubleArray(), bn.runningMean().toDoubleArray(),
                        bn.runningVar().toDoubleArray(), bn.eps);
                boolean nonNegative = true;
                for (double v : sc[1]) nonNegative &= v >= 0;
                var d = bn.weight().device();
                norms.put(bn, new ScaledSynFlow.Norm(Substituted.tensor(sc[0], DType.F32, d, sc[0].length),
                        Substituted.tensor(sc[1], DType.F32, d, sc[1].length), ScaledSynFlow.maxAbs(sc[0]), ScaledSynFlow.maxAbs(sc[1]),
                        nonNegative));
            }
            ScaledSynFlow net = new ScaledSynFlow(subs, norms);
            Tensor in = Tensor.ones(DType.F32, model.device(), data.sampleShape());
            Tensor y = model.forward(net.input(in, 1, true), trace.watch("forward", net));
            ScaledSynFlow.Output o = net.output(y);
            Tensor r = Ops.sum(o.tensor());
            trace.pass(name(), "forward", Trace.group(Trace.tensors("ones", in, "output", o.tensor(), "R", r), "p", layers, leaves),
                    System.nanoTime() - t0);
            t0 = System.nanoTime();
            Tensor[] grads = Autograd.grad(r, leaves, false);
            trace.pass(name(), "backward", Trace.group(Trace.tensors("R", r), "dR/dp", layers, List.of(grads)), System.nanoTime() - t0);
            t0 = System.nanoTime();
            double factor = Math.scalb(1.0, Math.max(-FACTOR_LOG2, Math.min(FACTOR_LOG2, o.exponent())));
            for (int i = 0; i < layers.size(); i++) {
                PrunableLayer l = layers.get(i);
                float[] gr = grads[i].toFloatArray(), a = other.get(i);
                double[] sc = new double[gr.length];
                for (int j = 0; j < sc.length; j++) sc[j] = Math.abs((double) gr[j] * a[j]) * factor; // exact but for float64's rounding
                out.put(l.name(), MemoryScope.keep(Tensor.of(sc, l.weight().device(), l.shape())));
            }
            trace.pass(name(), "score", Trace.group(new LinkedHashMap<>(), "score", layers, List.copyOf(out.values())),
                    System.nanoTime() - t0);
        }
        return out;
    }

    /** the float32 path's factor 2^E is clamped to 2^(+-this): scores of about 1 times it stay in float64's range */
    static final int FACTOR_LOG2 = 900;
}
