package pxprune.px;

import java.util.ArrayList;
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
import pxprune.nn.Module;

/**
 * SynFlow (Tanaka et al. 2020, as Synaptic-Flow computes it) and the PX authors' SynFlow-L2, in
 * float64. The model is linearised by applying f to every parameter and buffer: f = |.| (SynFlow)
 * or f = (.)^2 (SynFlow-L2), prunable weights taken at theta*m, biases included, and batch norm
 * evaluated with running statistics from the transformed state: y = f(gamma) (x - f(mean)) /
 * sqrt(f(var) + eps) + f(beta). ReLUs stay. Input: one all-ones sample; R = sum of the outputs.
 * <ul>
 *   <li>synflow: p = |theta*m|, score = |p * dR/dp|;</li>
 *   <li>synflow_l2: p = (theta*m)^2, score = |dR/dp| * |theta*m|.</li>
 * </ul>
 */
public final class SynFlowScorer implements Scorer {
    private final boolean l2;

    public SynFlowScorer(boolean l2) { this.l2 = l2; }

    @Override public String name() { return l2 ? "synflow_l2" : "synflow"; }

    @Override public Map<String, Tensor> score(Module model, Masks masks, ScoringData data) {
        masks.checkFits(model);
        List<PrunableLayer> layers = PrunableLayer.of(model);
        DoubleUnaryOperator f = l2 ? v -> v * v : Math::abs;
        Map<String, Tensor> out = new LinkedHashMap<>();
        Trace trace = data.trace();
        try (EvalMode e = new EvalMode(model); MemoryScope s = MemoryScope.open(); GradMode g = GradMode.set(true)) {
            long t0 = System.nanoTime();
            var p = Substituted.maskedWeights(layers, masks, DType.F64, f);
            List<Tensor> leaves = new ArrayList<>();
            for (PrunableLayer l : layers) leaves.add(p.get(l.module()).requiresGrad(true));
            var norm = Substituted.affineNorm(model, DType.F64, (gamma, beta, mean, var, eps) -> {
                double[] scale = new double[gamma.length], shift = new double[gamma.length];
                for (int c = 0; c < gamma.length; c++) {
                    scale[c] = f.applyAsDouble(gamma[c]) / Math.sqrt(f.applyAsDouble(var[c]) + eps);
                    shift[c] = f.applyAsDouble(beta[c]) - f.applyAsDouble(mean[c]) * scale[c];
                }
                return new double[][] {scale, shift};
            });
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
            trace.pass(name(), "score", Trace.group(new java.util.LinkedHashMap<>(), "score", layers, List.copyOf(out.values())),
                    System.nanoTime() - t0);
        }
        return out;
    }
}
