package pxprune.px;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import pxprune.core.Autograd;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.Module;

/**
 * GraSP (Wang et al. 2020, as in Synaptic-Flow and the PX authors' code): with L the mean
 * cross-entropy of logits / 200 on the whole pruning batch (batch norm with batch statistics,
 * running statistics untouched; everything else in eval mode) at W = theta*m, g = dL/dW and Hg =
 * d(g_stopped . g)/dW (a Hessian-gradient product through a gradient graph), the score is
 * theta * Hg / (|sum of all theta * Hg| + 1e-10). That is the negative of the paper's S(-theta) =
 * -theta * Hg, whose highest values GraSP removes: keeping the highest of this score is the same
 * rule. Computed in the model's precision; the normalised scores are float64.
 */
public final class GraspScorer implements Scorer {
    static final double TEMPERATURE = 200, EPS = 1e-10;

    private final DType dtype;

    /** computes in the model's precision, as the authors do */
    public GraspScorer() { this(null); }

    /** computes in the given precision (null: the model's) */
    public GraspScorer(DType dtype) { this.dtype = dtype; }

    @Override public String name() { return "grasp"; }

    @Override public Map<String, Tensor> score(Module model, Masks masks, ScoringData data) {
        masks.checkFits(model);
        List<PrunableLayer> layers = PrunableLayer.of(model);
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (EvalMode e = new EvalMode(model); MemoryScope s = MemoryScope.open(); GradMode g = GradMode.set(true)) {
            DType dt = dtype != null ? dtype : layers.get(0).weight().dtype();
            var w = Substituted.maskedWeights(layers, masks, dt, v -> v);
            List<Tensor> leaves = new ArrayList<>();
            for (PrunableLayer l : layers) leaves.add(w.get(l.module()).requiresGrad(true));
            Substituted net = new Substituted(w, Substituted.biases(layers, dt, v -> v), Substituted.batchStatsNorm(model, dt),
                    Ops::relu);
            Tensor logits = model.forward(data.x().to(dt), net);
            Tensor loss = Ops.crossEntropy(Ops.affine(logits.reshape(data.size(), -1), 1 / TEMPERATURE, 0),
                    Tensor.ofInts(data.labels(), data.size()));
            Tensor[] grads = Autograd.grad(loss, leaves, true);
            Tensor gnorm = null;
            for (Tensor gr : grads) {
                Tensor term = Ops.sum(Ops.mul(Ops.copy(gr), gr)); // Ops.copy: the stopped gradient, a constant
                gnorm = gnorm == null ? term : Ops.add(gnorm, term);
            }
            Tensor[] hg = Autograd.grad(gnorm, leaves, false);
            try (GradMode ng = GradMode.noGrad()) {
                double total = 0;
                Tensor[] sc = new Tensor[layers.size()];
                for (int i = 0; i < sc.length; i++) {
                    sc[i] = Ops.mul(hg[i], leaves.get(i));
                    total += Ops.sum(sc[i].to(DType.F64)).item();
                }
                double norm = Math.abs(total) + EPS;
                for (int i = 0; i < sc.length; i++) out.put(layers.get(i).name(), MemoryScope.keep(Ops.affine(sc[i].to(DType.F64), 1 / norm, 0)));
            }
        }
        return out;
    }
}
