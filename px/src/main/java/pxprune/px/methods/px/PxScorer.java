package pxprune.px.methods.px;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.px.methods.px.fused.PxOps;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.kernels.Device;
import pxprune.nn.BatchNorm;
import pxprune.nn.Interpreter;
import pxprune.nn.MaxPool2d;
import pxprune.nn.Module;
import pxprune.px.Connectivity;
import pxprune.px.EvalMode;
import pxprune.px.Masks;
import pxprune.px.PrunableLayer;
import pxprune.px.Scorer;
import pxprune.px.ScoringData;
import pxprune.px.Substituted;
import pxprune.px.Trace;

/**
 * PX, Path eXclusion (docs/px-method.md#score), for any model built from Conv2d/Linear/BatchNorm/ReLU,
 * max pooling, fixed linear maps (pooling, {@link pxprune.nn.Resample}), residual sums, concatenation
 * and flattening (the rules for the operations other than weights, normalisation and ReLU: docs/px-method.md#pooling-resampling-sums).
 * <ol>
 *   <li>Gate pass, eval mode, at theta*m, in the model's precision: at every ReLU call, in call
 *       order, g = 1[z &gt; 0]; at every max-pool call, in call order, each window's argmax.</li>
 *   <li>Activation network A, no gradient, in float64, or in float32 with a power-of-two exponent
 *       carried per tensor ({@link ScaledActivation}: exact up to float32's rounding, never
 *       overflows; docs/px-method.md#float32-activation-network): weights := m, biases := 0, batch norm :=
 *       identity, ReLU := multiplication by its recorded gate, max pool := the value at its
 *       recorded argmax ({@link Ops#poolGather}), resampling := its support (1 where c &gt; 0),
 *       input x*x. w_k = sum over the data of z1_k (every output element k of one sample: a class,
 *       or a (class, pixel) of a dense output), then w := w / max(w) (a common factor; a
 *       non-finite w is an error).</li>
 *   <li>Path-kernel network P, float64, with gradient: weights := p = (theta*m)^2 (the leaves),
 *       biases := 0, batch norm := its eval-time scale squared with shift 0, ReLU := identity,
 *       max pool := the window's sum ({@link Ops#sumPool2d}), resampling := squared coefficients
 *       c^2, input: one all-ones sample of the data's shape. R = sum_k w_k z2_k.</li>
 *   <li>score = p * dR/dp (float64): non-negative, and on a chain each layer's scores sum to R.</li>
 * </ol>
 * Average pooling that the model calls directly ({@link Ops#avgPool2d}, {@link Ops#globalAvgPool})
 * has one coefficient over the layer and is evaluated as it is (it scales R only).
 * The data-free ablation gives A one all-ones input, every gate 1 and every max pool the sum of its
 * window (no gate pass, so no data chooses a maximum).
 * The data passes walk the batch in chunks of {@link ScoringData#batchSize()} samples. Per chunk, the
 * gate pass keeps only its gates, as bytes ({@link PxOps#reluGate}; A applies them with
 * {@link PxOps#gateMul}), and its max-pool argmaxes: it runs in a memory scope of its own, and both
 * passes free each intermediate result once it has been read where nn's models read it once
 * ({@link EarlyRelease}; off while a trace is given, and undone for the rest of the call, from the
 * chunk that shows it, for a model that reads such a tensor again). P frees its graph once dR/dp is
 * out. None of this changes a score bit (docs/px-method.md#memory).
 * Each pass is reported to {@link ScoringData#trace()} ("gates", "A" per chunk, then "w",
 * "P forward", "P backward", "score"); docs/walkthrough.md follows them on a tiny network.
 *
 * <p>This class's code is the CPU path and the readable reference. When the model is on a device
 * (CUDA: {@code model.to(Device.CUDA)}), the same passes run there through the fused layer kernels
 * ({@link FusedPath}; PX's A and P convolutions as single kernels, gates stored as bytes), tested
 * against this path. Either way the scores are float64 CPU tensors, as every scorer returns them.
 */
public final class PxScorer implements Scorer {
    /**
     * the precision of the activation network when none is given: float32 with
     * power-of-two rescaling, which matches float64 to 1e-6 relative L2 on every model tested
     * (px PxFloat32Test; measured at most 1.2e-7) at about half the cost
     */
    public static final DType DEFAULT_PRECISION = DType.F32;

    private final boolean dataFree, maxPoolAsIs, fusedOnCpu;
    /**
     * A's arithmetic on the CPU path: F64, or F32 with a power-of-two exponent per tensor
     * ({@link ScaledActivation}); the device path computes A in float64 whatever this says
     */
    private final DType precision;

    /** px in float64 */
    public PxScorer() { this(false); }

    /** px (dataFree false) or px_datafree, in float64 */
    public PxScorer(boolean dataFree) { this(dataFree, DType.F64); }

    /**
     * @param precision the activation network's arithmetic: {@link DType#F64}, or {@link DType#F32}
     *                  with a power-of-two exponent carried per tensor, exact up to float32's rounding
     *                  (docs/px-method.md#float32-activation-network); P runs in float64 either way
     */
    public PxScorer(boolean dataFree, DType precision) { this(dataFree, false, false, precision); }

    private PxScorer(boolean dataFree, boolean maxPoolAsIs, boolean fusedOnCpu, DType precision) {
        if (precision != DType.F64 && precision != DType.F32)
            throw new IllegalArgumentException("PX precision must be F32 or F64, got " + precision);
        this.dataFree = dataFree;
        this.maxPoolAsIs = maxPoolAsIs;
        this.fusedOnCpu = fusedOnCpu;
        this.precision = precision;
    }

    /**
     * a scorer that takes the device path ({@link FusedPath}, the fused layer kernels) even for a model on
     * the CPU, where they are CpuPxKernels' compositions: for testing that path's logic without a device
     */
    static PxScorer fusedOnCpu(boolean dataFree) { return new PxScorer(dataFree, false, true, DType.F64); }

    /** whether this model is scored by the device path: on a device (CUDA), or forced for tests */
    private boolean onDevice(List<PrunableLayer> layers) {
        if (layers.isEmpty()) return false;
        boolean device = layers.get(0).weight().device() != Device.CPU;
        if (maxPoolAsIs && device)
            throw new IllegalArgumentException("PX with max pooling evaluated as the model does (a measurement of the old rule) runs on the "
                    + "CPU only; move the model to the CPU (Module.to(Device.CPU))");
        return !maxPoolAsIs && (fusedOnCpu || device);
    }

    /**
     * maxPoolAsIs: evaluate max pooling as the model does in A and P (each takes the maximum of its
     * own values), the rule before docs/px-method.md#pooling-resampling-sums; only for measuring what the
     * section-9 rule changes (px PxScorerPoolingTest), never a scoring method
     */
    PxScorer(boolean dataFree, boolean maxPoolAsIs) { this(dataFree, maxPoolAsIs, false, DType.F64); }

    /** the activation network's arithmetic, F64 or F32 (scaled by powers of two) */
    public DType precision() { return precision; }

    @Override public String name() { return dataFree ? "px_datafree" : "px"; }

    @Override public Map<String, Tensor> score(Module model, Masks masks, ScoringData data) {
        masks.checkFits(model);
        List<PrunableLayer> layers = PrunableLayer.of(model);
        try (EvalMode e = new EvalMode(model)) {
            double[] w = outputWeights(model, layers, masks, data);
            return pathKernelScores(model, layers, masks, data.sampleShape(), w, data.trace());
        }
    }

    /** w_k = sum over the data of A's output k, divided by its maximum */
    double[] outputWeights(Module model, List<PrunableLayer> layers, Masks masks, ScoringData data) {
        Sums sums = scaledActivationSums(model, layers, masks, data);
        double[] w = sums.mantissa(); // the common factor 2^exponent cancels in w / max(w)
        double max = 0;
        for (int k = 0; k < w.length; k++) {
            if (!Double.isFinite(w[k]))
                throw new ArithmeticException("PX: the activation network's output " + k + " is " + w[k]
                        + (precision == DType.F64 ? " (float64 overflow: A multiplies the signal by every layer's fan-in); the model is too deep "
                           + "for float64: score with precision float32, which rescales A by powers of two" : ""));
            max = Math.max(max, w[k]);
        }
        if (max == 0)
            throw new IllegalStateException("PX: every output of the activation network is 0: no kept path is active for any input "
                    + "(all gates closed, or the masks disconnect input and output), so every score would be 0; "
                    + "check the masks (Connectivity.reachableOutputs) and the data");
        double[] sum = sums.values();
        for (int k = 0; k < w.length; k++) w[k] /= max;
        try (MemoryScope s = MemoryScope.open()) {
            data.trace().pass(name(), "w", Trace.tensors("sum of z1", Tensor.of(sum, sum.length), "w", Tensor.of(w, w.length)), 0);
        }
        return w;
    }

    /**
     * sum over the data of A's output k, not normalised (the model in eval mode, as {@link #score}
     * puts it): z1_k summed over x, one value per output element of one sample
     */
    double[] activationSums(Module model, List<PrunableLayer> layers, Masks masks, ScoringData data) {
        return scaledActivationSums(model, layers, masks, data).values();
    }

    /**
     * the sums over the data of A's outputs as mantissa[k] * 2^exponent: in float64 the exponent is
     * 0; in float32 each chunk's output carries one exponent for all its elements
     * ({@link ScaledActivation}) and the chunks are added in float64 relative to the largest, so
     * the mantissas are finite whatever the absolute scale
     */
    record Sums(double[] mantissa, int exponent) {
        /** the sums themselves (infinite where they exceed float64) */
        double[] values() {
            double[] v = mantissa.clone();
            for (int k = 0; k < v.length; k++) v[k] = Math.scalb(v[k], exponent);
            return v;
        }

        /** this plus chunk * 2^e, relative to the larger exponent; this may be null (nothing yet) */
        static Sums add(Sums acc, double[] chunk, int e) {
            if (acc == null) return new Sums(chunk, e);
            int top = Math.max(acc.exponent, e);
            double[] m = acc.mantissa;
            for (int k = 0; k < m.length; k++) m[k] = Math.scalb(m[k], acc.exponent - top) + Math.scalb(chunk[k], e - top);
            return new Sums(m, top);
        }
    }

    private Sums scaledActivationSums(Module model, List<PrunableLayer> layers, Masks masks, ScoringData data) {
        if (onDevice(layers)) return new Sums(new FusedPath(name(), model, layers).activationSums(masks, data, dataFree), 0);
        Sums w = null;
        Trace trace = data.trace();
        DType adt = precision;
        try (MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
            Map<Module, Tensor> ones = Substituted.maskWeights(layers, masks, adt);
            Map<Module, Double> fanIns = adt == DType.F32 ? ScaledActivation.fanIns(layers, masks) : null;
            if (dataFree) {
                long t0 = System.nanoTime();
                Substituted a = new Substituted(ones, Substituted.noBiases(), Substituted.identityNorm(), z -> z,
                        maxPoolAsIs ? STANDARD_MAX_POOL : Substituted::sumPool, Substituted::resampleSupport);
                ScaledActivation sa = adt == DType.F32 ? new ScaledActivation(a, fanIns) : null;
                Tensor in = Tensor.ones(DType.F64, data.sampleShape());
                if (sa != null) in = sa.input(in);
                Tensor z1 = model.forward(in, trace.watch("A", sa != null ? sa : a));
                w = Sums.add(null, AuxiliaryNets.sumOverBatch(z1, null), sa != null ? sa.exponent(z1, "A's output") : 0);
                trace.pass(name(), "A", Trace.tensors("x*x", in, "z1", z1), System.nanoTime() - t0);
            } else {
                DType dt = layers.get(0).weight().dtype(); // the gate pass runs in the model's precision
                Map<Module, Tensor> thetaM = Substituted.maskedWeights(layers, masks, dt, v -> v);
                Map<Module, Tensor> bias = Substituted.biases(layers, dt, v -> v);
                float[] x = data.x().toFloatArray();
                int n = data.size();
                boolean release = trace == Trace.NONE; // with a trace, each pass keeps its tensors till it ends, as the trace may look
                for (int start = 0; start < n; start += data.batchSize()) {
                    int nb = Math.min(data.batchSize(), n - start);
                    EarlyRelease[] used = new EarlyRelease[2];
                    try {
                        w = chunkSums(model, ones, fanIns, thetaM, bias, dt, data, x, start, nb, w, release, used);
                    } catch (IllegalStateException e) {
                        if (!release || (used[0] == null || used[0].released() == 0) && (used[1] == null || used[1].released() == 0))
                            throw e;
                        release = false; // the model read an intermediate result again: this chunk and the next keep them all
                        w = chunkSums(model, ones, fanIns, thetaM, bias, dt, data, x, start, nb, w, false, used);
                    }
                }
            }
        }
        return w;
    }

    /**
     * one chunk's gate pass (in dt, the model's type) and activation network: w plus the chunk's sums of
     * A's outputs. The gate pass runs in a scope of its own, so only its byte gates and max-pool argmaxes outlive it; with release,
     * both passes free each intermediate result as soon as it has been read ({@link EarlyRelease}, the
     * wrappers left in used). Nothing in w changes unless the chunk completes.
     */
    private Sums chunkSums(Module model, Map<Module, Tensor> ones, Map<Module, Double> fanIns, Map<Module, Tensor> thetaM,
                           Map<Module, Tensor> bias, DType dt, ScoringData data, float[] x, int start, int nb, Sums w,
                           boolean release, EarlyRelease[] used) {
        Trace trace = data.trace();
        DType adt = precision;
        try (MemoryScope chunk = MemoryScope.open(); Gates gates = new Gates()) {
            List<PoolGate> pools = new ArrayList<>();
            long t0 = System.nanoTime();
            // the gate pass in a scope of its own: what outlives it is the byte gates and the argmaxes
            try (MemoryScope pass = MemoryScope.open()) {
                Interpreter gatePass = new Substituted(thetaM, bias, PxScorer::modelEvalNorm,
                        z -> PxOps.reluGate(z, gates.add(z)),
                        maxPoolAsIs ? STANDARD_MAX_POOL : (m, z) -> {
                            Tensor[] yi = Ops.maxPool2dWithIndices(z, m.kernel, m.stride, m.padding);
                            pools.add(new PoolGate(z.shape(), MemoryScope.keep(yi[1])));
                            return yi[0];
                        }, Interpreter.STANDARD::resample);
                if (release) gatePass = used[0] = new EarlyRelease(gatePass);
                Tensor xm = Ops.to(chunkOf(data, x, start, nb), dt), f = model.forward(xm, trace.watch("gates", gatePass));
                if (trace != Trace.NONE) { // the trace sees the gates as tensors of A's type, made for it alone
                    Map<String, Tensor> recorded = Trace.group(Trace.tensors("x", xm, "f(x)", f), "gate", gates.tensors(adt));
                    List<Tensor> argmax = new ArrayList<>();
                    for (PoolGate pg : pools) argmax.add(pg.argmax());
                    if (!pools.isEmpty()) recorded = Trace.group(recorded, "argmax", argmax);
                    trace.pass(name(), "gates", recorded, System.nanoTime() - t0);
                }
            }
            t0 = System.nanoTime();
            int[] next = {0, 0};
            Substituted a = new Substituted(ones, Substituted.noBiases(), Substituted.identityNorm(),
                    z -> PxOps.gateMul(z, gates.get(next[0]++, z.shape())),
                    maxPoolAsIs ? STANDARD_MAX_POOL : (m, z) -> route(pools, next[1]++, z),
                    Substituted::resampleSupport);
            ScaledActivation sa = adt == DType.F32 ? new ScaledActivation(a, fanIns) : null;
            Interpreter an = sa != null ? sa : a;
            if (release) an = used[1] = new EarlyRelease(an);
            Tensor xx;
            try (MemoryScope in = MemoryScope.open()) { // x, x in float64 and x*x before scaling: freed at once
                Tensor sq = Ops.square(Ops.to(chunkOf(data, x, start, nb), DType.F64));
                xx = MemoryScope.keep(sa != null ? sa.input(sq) : sq);
            }
            Tensor z1 = model.forward(xx, trace.watch("A", an));
            if (next[0] != gates.size())
                throw new IllegalStateException("the model called ReLU " + gates.size() + " times in the gate pass but "
                        + next[0] + " times in the activation network; its forward must visit the same sites in the same order");
            if (next[1] != pools.size())
                throw new IllegalStateException("the model called max pooling " + pools.size() + " times in the gate pass but "
                        + next[1] + " times in the activation network; its forward must visit the same sites in the same order");
            Sums out = sa != null ? Sums.add(w, AuxiliaryNets.sumOverBatch(z1, null), sa.exponent(z1, "A's output"))
                    : new Sums(AuxiliaryNets.sumOverBatch(z1, w == null ? null : w.mantissa()), 0);
            trace.pass(name(), "A", Trace.tensors("x*x", xx, "z1", z1), System.nanoTime() - t0);
            return out;
        }
    }

    /** samples [start, start + nb) of the data (x: its values on the host) as a new F32 tensor */
    private static Tensor chunkOf(ScoringData data, float[] x, int start, int nb) {
        int[] shape = data.x().shape();
        int per = x.length / data.size();
        shape[0] = nb;
        return Tensor.of(Arrays.copyOfRange(x, start * per, (start + nb) * per), shape);
    }

    /** one max-pool call of the gate pass: the shape of its input and, per output, the flat index of its window's maximum */
    private record PoolGate(int[] inShape, Tensor argmax) {}

    private static final java.util.function.BiFunction<MaxPool2d, Tensor, Tensor> STANDARD_MAX_POOL = Interpreter.STANDARD::maxPool2d;

    /** A's max pool number i: z routed through the maximum that the gate pass recorded at that call */
    private static Tensor route(List<PoolGate> pools, int i, Tensor z) {
        if (i >= pools.size())
            throw new IllegalStateException("the model called max pooling more often in the activation network than in the gate pass ("
                    + pools.size() + " calls); its forward must visit the same sites in the same order");
        PoolGate g = pools.get(i);
        if (!Arrays.equals(g.inShape(), z.shape()))
            throw new IllegalStateException("max pool call " + i + " saw input shape " + Arrays.toString(g.inShape()) + " in the gate pass but "
                    + Arrays.toString(z.shape()) + " in the activation network; the forward must visit the same sites in order");
        return Ops.poolGather(z, g.argmax(), g.argmax().shape());
    }

    /** the model's own eval-mode batch norm (running statistics), used by the gate pass */
    private static Tensor modelEvalNorm(BatchNorm m, Tensor x) {
        return Ops.batchNormEval(x, m.weight(), m.bias(), m.runningMean(), m.runningVar(), m.eps);
    }

    /** scores p * dR/dp of the path-kernel network, R = sum_k w_k z2_k */
    Map<String, Tensor> pathKernelScores(Module model, List<PrunableLayer> layers, Masks masks, int[] sampleShape, double[] w,
                                         Trace trace) {
        if (onDevice(layers)) return new FusedPath(name(), model, layers).pathKernelScores(masks, sampleShape, w, trace);
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (MemoryScope s = MemoryScope.open(); GradMode g = GradMode.set(true)) {
            long t0 = System.nanoTime();
            Map<Module, Tensor> p = Substituted.maskedWeights(layers, masks, DType.F64, v -> v * v);
            List<Tensor> leaves = new ArrayList<>();
            for (PrunableLayer l : layers) leaves.add(p.get(l.module()).requiresGrad(true));
            Tensor[] grads;
            // P's forward graph and its backward's temporaries in a scope of their own: only dR/dp (owned by each p) outlives them
            try (MemoryScope pass = MemoryScope.open()) {
                Substituted net = pathKernelNetwork(model, p);
                Tensor in = Tensor.ones(DType.F64, sampleShape), z2 = model.forward(in, trace.watch("P forward", net));
                if (z2.numel() != w.length)
                    throw new IllegalStateException("the path-kernel network has " + z2.numel() + " outputs, the activation network "
                            + w.length);
                Tensor wt = Tensor.of(w, w.length), r = Ops.sum(Ops.mul(Ops.reshape(z2, w.length), wt));
                trace.pass(name(), "P forward", Trace.group(Trace.tensors("ones", in, "w", wt, "z2", z2, "R", r), "p", layers, leaves),
                        System.nanoTime() - t0);
                t0 = System.nanoTime();
                r.backwardAndFree(); // dR/dp into each p's grad; P's activations go as the backward passes them
                grads = new Tensor[leaves.size()];
                for (int i = 0; i < grads.length; i++) {
                    Tensor gr = leaves.get(i).grad();
                    grads[i] = gr != null ? gr : MemoryScope.keep(Tensor.zerosLike(leaves.get(i))); // a layer R does not reach
                }
                trace.pass(name(), "P backward", Trace.group(Trace.tensors("R", r), "dR/dp", layers, List.of(grads)), System.nanoTime() - t0);
            }
            t0 = System.nanoTime();
            for (int i = 0; i < layers.size(); i++) {
                Tensor sc;
                try (GradMode ng = GradMode.noGrad()) { sc = Ops.mul(leaves.get(i), grads[i]); }
                out.put(layers.get(i).name(), MemoryScope.keep(sc));
                grads[i].close(); // p and dR/dp of a layer are done with once its scores are formed
                leaves.get(i).close(); // (and with it the gradient it owns)
            }
            trace.pass(name(), "score", Trace.group(new LinkedHashMap<>(), "score", layers, List.copyOf(out.values())), System.nanoTime() - t0);
        }
        return out;
    }

    /**
     * the path-kernel network P with weights p: biases 0, batch norm := its eval-time scale squared,
     * ReLU := identity, max pooling := the window's sum, resampling := squared coefficients
     * (docs/px-method.md#score and #pooling-resampling-sums)
     */
    Substituted pathKernelNetwork(Module model, Map<Module, Tensor> p) {
        return new Substituted(p, Substituted.noBiases(), AuxiliaryNets.squaredEvalScale(model), z -> z,
                maxPoolAsIs ? STANDARD_MAX_POOL : Substituted::sumPool, Substituted::resampleSquared);
    }
}
