package pxprune.px.methods.px;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import pxprune.core.Autograd;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.px.methods.px.fused.PxOps;
import pxprune.core.Tensor;
import pxprune.kernels.ConvGeometry;
import pxprune.kernels.DType;
import pxprune.kernels.Device;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.MaxPool2d;
import pxprune.nn.Module;
import pxprune.nn.Resample;
import pxprune.px.Masks;
import pxprune.px.PrunableLayer;
import pxprune.px.ScoringData;
import pxprune.px.Substituted;
import pxprune.px.TopK;
import pxprune.px.Trace;

/**
 * PX's passes (docs/px-method.md#score and #pooling-resampling-sums) on the model's device through the fused layer
 * kernels ({@link PxOps}, i.e. {@link pxprune.px.methods.px.fused.PxKernels}), on the CPU or CUDA: what PxScorer
 * runs when the model is on CUDA (or when asked to on the CPU). Same passes, same rules and the same float64 numbers as PxScorer's CPU path, which
 * stays the readable reference and is what this is tested against (px PxDeviceTest).
 * <ul>
 *   <li><b>Masks</b> are uploaded once per call, in the weights' type; theta is the model's own weight,
 *       read where it is.</li>
 *   <li><b>Gate pass</b>: the model's eval-mode forward at theta*m (theta*m formed once per call, one
 *       elementwise product per layer, so the convolutions are the backend's own, cuDNN where it has it;
 *       each batch norm one per-channel affine map, its scale and shift formed once per call),
 *       each ReLU one fused kernel writing its output and its gate as <em>bytes</em>
 *       ({@link PxOps#reluGate}); max pools record their argmax ({@link Ops#maxPool2dWithIndices}).</li>
 *   <li><b>A</b>: each Conv2d/Linear is one {@link PxOps#activationConv} (mask converted on load). Where
 *       the gate pass saw a ReLU take a convolution's output directly (or through a batch norm, which A
 *       makes the identity), that ReLU's byte gate is applied in the convolution's epilogue and the ReLU
 *       costs nothing; any other ReLU is one {@link PxOps#gateMul}. This relies on the model reading a
 *       pre-activation only through its ReLU, as every model in nn does (relu(bn(conv(x)))). Max pools
 *       gather at the recorded argmax ({@link Ops#poolGather}); resampling uses its support; residual
 *       sums, concatenation and pooling are the backend's ops.</li>
 *   <li><b>P</b>: each Conv2d/Linear is one {@link PxOps#pathConv2d}: (theta*m)^2 on load, forward,
 *       backward to the input and the scores p * dR/dp in fused kernels, no weight tensor formed; batch
 *       norm is its squared eval-time scale ({@link Ops#channelAffine}), max pools sum their window, and
 *       the backward of everything else is core's autograd on the device.</li>
 * </ul>
 * Scores come back as float64 CPU tensors, as every scorer returns them (TopK selects on the host).
 */
final class FusedPath {
    /** the scorer's name, for the trace */
    private final String name;
    private final Module model;
    private final List<PrunableLayer> layers;
    private final Device device;
    /** of the last {@link #activationSums}: ReLU calls of A, and how many of them a layer's epilogue applied */
    int reluCalls, epilogueGates;

    FusedPath(String name, Module model, List<PrunableLayer> layers) {
        this.name = name;
        this.model = model;
        this.layers = layers;
        this.device = layers.get(0).weight().device();
        for (PrunableLayer l : layers)
            if (l.weight().device() != device)
                throw new IllegalArgumentException("PX: prunable weight " + l.name() + " is on " + l.weight().device() + " but "
                        + layers.get(0).name() + " on " + device + "; move the whole model to one device (Module.to)");
    }

    /** the masks on the device, one tensor per module, in each weight's type */
    private Map<Module, Tensor> deviceMasks(Masks masks) {
        Map<Module, Tensor> out = new IdentityHashMap<>();
        for (PrunableLayer l : layers) {
            Tensor m = masks.tensor(l.name());
            if (l.weight().dtype() != DType.F32) m = Ops.to(m, l.weight().dtype());
            out.put(l.module(), Ops.to(m, device));
        }
        return out;
    }

    private record PoolGate(int[] inShape, Tensor argmax) {}

    /** the gate pass: the model in eval mode at theta*m; records the gates, the argmaxes and which ReLU takes which layer's output */
    private final class GatePass implements Interpreter {
        final Map<Module, Tensor> thetaM;
        final Map<BatchNorm, Tensor[]> norm;
        final Gates gates;
        final List<PoolGate> pools = new ArrayList<>();
        /** per Conv2d/Linear call: the ReLU call that takes its output directly, or -1 */
        final List<Integer> fuse = new ArrayList<>();
        private Tensor pending; // the last layer's output (or its batch norm's), while nothing else has run
        private int pendingLayer = -1;

        GatePass(Map<Module, Tensor> thetaM, Map<BatchNorm, Tensor[]> norm, Gates gates) {
            this.thetaM = thetaM;
            this.norm = norm;
            this.gates = gates;
        }

        private Tensor layerOut(Tensor y) {
            fuse.add(-1);
            pending = y;
            pendingLayer = fuse.size() - 1;
            return y;
        }

        @Override public Tensor conv2d(Conv2d m, Tensor x) {
            return layerOut(Ops.conv2d(x, thetaM.get(m), m.bias(), m.stride, m.padding, m.dilation, m.groups));
        }

        @Override public Tensor linear(Linear m, Tensor x) { return layerOut(Ops.linear(x, thetaM.get(m), m.bias())); }

        @Override public Tensor batchNorm(BatchNorm m, Tensor x) {
            Tensor[] ss = norm.get(m);
            Tensor y = Ops.channelAffine(x, ss[0], ss[1]);
            pending = x == pending ? y : null;
            return y;
        }

        @Override public Tensor relu(Tensor z) {
            int i = gates.size();
            Tensor g = gates.add(z);
            if (z == pending && pending != null) fuse.set(pendingLayer, i);
            pending = null;
            return PxOps.reluGate(z, g);
        }

        @Override public Tensor maxPool2d(MaxPool2d m, Tensor z) {
            pending = null;
            Tensor[] yi = Ops.maxPool2dWithIndices(z, m.kernel, m.stride, m.padding);
            pools.add(new PoolGate(z.shape(), yi[1]));
            return yi[0];
        }

        @Override public Tensor resample(Resample r, Tensor x) {
            pending = null;
            return r.standardForward(x);
        }
    }

    /** A: weights := masks, biases 0, batch norm := identity, ReLU := its gate, max pool := the recorded argmax */
    private final class ActivationNet implements Interpreter {
        final Map<Module, Tensor> masks;
        final Gates gates; // null: data-free (every gate 1, max pools sum)
        final List<Integer> fuse;
        final List<PoolGate> pools;
        int layer, relu, pool, epilogue;
        private Tensor gated; // the output of a layer that applied ReLU number gatedRelu's gate in its epilogue
        private int gatedRelu = -1;

        ActivationNet(Map<Module, Tensor> masks, Gates gates, List<Integer> fuse, List<PoolGate> pools) {
            this.masks = masks;
            this.gates = gates;
            this.fuse = fuse;
            this.pools = pools;
        }

        /** the index of the gate this layer applies in its epilogue (then {@link #gatedRelu}), or -1 */
        private int epilogueGate() {
            if (gates == null) return -1;
            if (layer >= fuse.size())
                throw new IllegalStateException("the model called " + (layer + 1) + " convolution/linear layers in the activation network but "
                        + fuse.size() + " in the gate pass; its forward must visit the same sites in the same order");
            int r = fuse.get(layer++);
            if (r >= 0) gatedRelu = r;
            return r;
        }

        /** the gate of ReLU call r for a layer whose output has this shape, or null (r &lt; 0: none) */
        private Tensor gate(int r, int[] outShape) { return r < 0 ? null : gates.get(r, outShape); }

        private Tensor layerOut(Tensor y, Tensor g) {
            gated = g == null ? null : y;
            return y;
        }

        @Override public Tensor conv2d(Conv2d m, Tensor x) {
            int r = epilogueGate();
            Tensor mask = masks.get(m), g = null;
            if (r >= 0) {
                ConvGeometry cg = Ops.convGeometry(x, mask, m.stride, m.padding, m.dilation, m.groups);
                g = gate(r, new int[] {cg.n(), cg.k(), cg.oh(), cg.ow()});
            }
            return layerOut(PxOps.activationConv(x, mask, g, m.stride, m.padding, m.dilation, m.groups), g);
        }

        @Override public Tensor linear(Linear m, Tensor x) {
            int r = epilogueGate();
            Tensor mask = masks.get(m), g = r < 0 ? null : gate(r, new int[] {x.size(0), mask.size(0)});
            return layerOut(PxOps.activationLinear(x, mask, g), g);
        }

        @Override public Tensor batchNorm(BatchNorm m, Tensor x) { return x; }

        @Override public Tensor relu(Tensor z) {
            if (gates == null) return z;
            int r = relu++;
            Tensor g = gates.get(r, z.shape());
            if (gated != null && r == gatedRelu) {
                if (z != gated)
                    throw new IllegalStateException("ReLU call " + r + " took its layer's output directly in the gate pass but not in the "
                            + "activation network; the forward must visit the same sites in the same order");
                gated = null;
                epilogue++;
                return z; // the layer's epilogue applied this gate
            }
            return PxOps.gateMul(z, g);
        }

        @Override public Tensor maxPool2d(MaxPool2d m, Tensor z) {
            gated = null;
            if (gates == null) return Substituted.sumPool(m, z);
            int i = pool++;
            if (i >= pools.size())
                throw new IllegalStateException("the model called max pooling more often in the activation network than in the gate pass ("
                        + pools.size() + " calls); its forward must visit the same sites in the same order");
            PoolGate g = pools.get(i);
            if (!Arrays.equals(g.inShape(), z.shape()))
                throw new IllegalStateException("max pool call " + i + " saw input shape " + Arrays.toString(g.inShape())
                        + " in the gate pass but " + Arrays.toString(z.shape()) + " in the activation network; the forward must visit the same sites in order");
            return Ops.poolGather(z, g.argmax(), g.argmax().shape());
        }

        @Override public Tensor resample(Resample r, Tensor x) {
            gated = null;
            return Substituted.resampleSupport(r, x);
        }

        void checkComplete() {
            if (gates == null) return;
            if (relu != gates.size())
                throw new IllegalStateException("the model called ReLU " + gates.size() + " times in the gate pass but "
                        + relu + " times in the activation network; its forward must visit the same sites in the same order");
            if (pool != pools.size())
                throw new IllegalStateException("the model called max pooling " + pools.size() + " times in the gate pass but "
                        + pool + " times in the activation network; its forward must visit the same sites in the same order");
        }
    }

    /** sum over the data of A's output k (PxScorer.activationSums, on the device) */
    double[] activationSums(Masks masks, ScoringData data, boolean dataFree) {
        double[] w = null;
        Trace trace = data.trace();
        reluCalls = epilogueGates = 0;
        try (MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
            Map<Module, Tensor> m = deviceMasks(masks);
            if (dataFree) {
                long t0 = System.nanoTime();
                ActivationNet a = new ActivationNet(m, null, List.of(), List.of());
                Tensor in = Ops.to(Tensor.ones(DType.F64, data.sampleShape()), device), z1 = model.forward(in, trace.watch("A", a));
                w = AuxiliaryNets.sumOverBatch(z1, null);
                trace.pass(name, "A", Trace.tensors("x*x", in, "z1", z1), System.nanoTime() - t0);
                return w;
            }
            Map<Module, Tensor> thetaM = new IdentityHashMap<>();
            for (PrunableLayer l : layers) thetaM.put(l.module(), Ops.mul(l.weight(), m.get(l.module())));
            DType dt = layers.get(0).weight().dtype();
            Map<BatchNorm, Tensor[]> norm = evalAffine();
            float[] x = data.x().toFloatArray();
            int n = data.size(), per = x.length / n;
            for (int start = 0; start < n; start += data.batchSize()) {
                int nb = Math.min(data.batchSize(), n - start);
                try (MemoryScope chunk = MemoryScope.open(); Gates gates = new Gates()) {
                    int[] shape = data.x().shape();
                    shape[0] = nb;
                    Tensor xb = Ops.to(Tensor.of(Arrays.copyOfRange(x, start * per, (start + nb) * per), shape), device);
                    long t0 = System.nanoTime();
                    GatePass gp = new GatePass(thetaM, norm, gates);
                    Tensor xm = Ops.to(xb, dt), f = model.forward(xm, trace.watch("gates", gp));
                    trace.pass(name, "gates", Trace.tensors("x", xm, "f(x)", f), System.nanoTime() - t0);
                    t0 = System.nanoTime();
                    ActivationNet a = new ActivationNet(m, gates, gp.fuse, gp.pools);
                    Tensor xx = Ops.square(Ops.to(xb, DType.F64)), z1 = model.forward(xx, trace.watch("A", a));
                    a.checkComplete();
                    reluCalls += a.relu;
                    epilogueGates += a.epilogue;
                    w = AuxiliaryNets.sumOverBatch(z1, w);
                    trace.pass(name, "A", Trace.tensors("x*x", xx, "z1", z1), System.nanoTime() - t0);
                }
            }
        }
        return w;
    }

    /**
     * each batch norm's eval-mode map as (scale, shift) on the device, computed once per call as
     * Ops.batchNormEval computes it per call (the same numbers): scale = gamma / sqrt(var + eps),
     * shift = beta - mean * scale
     */
    private Map<BatchNorm, Tensor[]> evalAffine() {
        Map<BatchNorm, Tensor[]> out = new IdentityHashMap<>();
        for (Module mod : model.namedModules().values()) {
            if (!(mod instanceof BatchNorm m)) continue;
            Tensor scale = Ops.rsqrt(Ops.affine(m.runningVar(), 1, m.eps));
            if (m.weight() != null) scale = Ops.mul(m.weight(), scale);
            Tensor shift = Ops.affine(Ops.mul(m.runningMean(), scale), -1, 0);
            if (m.bias() != null) shift = Ops.add(m.bias(), shift);
            out.put(m, new Tensor[] {scale, shift});
        }
        return out;
    }


    /** P: weights (theta*m)^2 on load, biases 0, batch norm := its eval scale squared, ReLU := identity, max pool := window sum */
    private final class PathNet implements Interpreter {
        final Map<Module, Tensor> masks;
        final Map<Module, Tensor> scores = new IdentityHashMap<>();
        final Tensor anchor;
        final BiFunction<BatchNorm, Tensor, Tensor> norm;

        PathNet(Map<Module, Tensor> masks, Tensor anchor) {
            this.masks = masks;
            this.anchor = anchor;
            this.norm = AuxiliaryNets.squaredEvalScale(model);
        }

        private java.util.function.Consumer<Tensor> sink(Module m) {
            return s -> {
                Tensor prev = scores.get(m);
                if (prev == null) scores.put(m, s);
                else Ops.addInPlace(prev, s); // a layer called more than once: its scores add
            };
        }

        @Override public Tensor conv2d(Conv2d m, Tensor x) {
            return PxOps.pathConv2d(x, m.weight(), masks.get(m), m.stride, m.padding, m.dilation, m.groups, anchor, sink(m));
        }

        @Override public Tensor linear(Linear m, Tensor x) { return PxOps.pathLinear(x, m.weight(), masks.get(m), anchor, sink(m)); }

        @Override public Tensor batchNorm(BatchNorm m, Tensor x) { return norm.apply(m, x); }

        @Override public Tensor relu(Tensor z) { return z; }

        @Override public Tensor maxPool2d(MaxPool2d m, Tensor z) { return Substituted.sumPool(m, z); }

        @Override public Tensor resample(Resample r, Tensor x) { return Substituted.resampleSquared(r, x); }
    }

    /** scores p * dR/dp (PxScorer.pathKernelScores, on the device), as float64 CPU tensors */
    Map<String, Tensor> pathKernelScores(Masks masks, int[] sampleShape, double[] w, Trace trace) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (MemoryScope s = MemoryScope.open(); GradMode g = GradMode.set(true)) {
            long t0 = System.nanoTime();
            Map<Module, Tensor> m;
            try (GradMode ng = GradMode.noGrad()) { m = deviceMasks(masks); }
            Tensor anchor = Tensor.zeros(DType.F64, device).requiresGrad(true);
            PathNet net = new PathNet(m, anchor);
            Tensor in = Ops.to(Tensor.ones(DType.F64, sampleShape), device), z2 = model.forward(in, trace.watch("P forward", net));
            if (z2.numel() != w.length)
                throw new IllegalStateException("the path-kernel network has " + z2.numel() + " outputs, the activation network " + w.length);
            Tensor wt = Ops.to(Tensor.of(w, w.length), device), r = Ops.sum(Ops.mul(Ops.reshape(z2, w.length), wt));
            trace.pass(name, "P forward", Trace.tensors("ones", in, "w", wt, "z2", z2, "R", r), System.nanoTime() - t0);
            t0 = System.nanoTime();
            Autograd.grad(r, List.of(anchor), false); // the fused layers hand their scores to net.scores
            trace.pass(name, "P backward", Trace.tensors("R", r), System.nanoTime() - t0);
            t0 = System.nanoTime();
            try (GradMode ng = GradMode.noGrad()) {
                for (PrunableLayer l : layers) {
                    Tensor sc = net.scores.get(l.module());
                    Tensor host = sc == null ? Tensor.zeros(DType.F64, l.shape()) // F64, P's signal type
                            : sc.device() == Device.CPU ? Ops.copy(sc) : Ops.to(sc, Device.CPU);
                    out.put(l.name(), MemoryScope.keep(host));
                }
            }
            trace.pass(name, "score", Trace.group(new LinkedHashMap<>(), "score", layers, List.copyOf(out.values())),
                    System.nanoTime() - t0);
        }
        return out;
    }
}
