package pxprune.px.methods;

import java.util.List;
import java.util.Map;
import pxprune.core.Autograd;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.Module;
import pxprune.px.BatchLoss;
import pxprune.px.EvalMode;
import pxprune.px.Masks;
import pxprune.px.Scorer;
import pxprune.px.ScoringData;
import pxprune.px.Trace;

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
    public static final double TEMPERATURE = 200, EPS = 1e-10;

    private final DType dtype;

    /** computes in the model's precision, as the authors do */
    public GraspScorer() { this(null); }

    /** computes in the given precision (null: the model's) */
    public GraspScorer(DType dtype) { this.dtype = dtype; }

    @Override public String name() { return "grasp"; }

    @Override public Map<String, Tensor> score(Module model, Masks masks, ScoringData data) {
        masks.checkFits(model);
        try (EvalMode e = new EvalMode(model); MemoryScope s = MemoryScope.open(); GradMode g = GradMode.set(true)) {
            BatchLoss b = BatchLoss.traced(name(), model, masks, data, dtype, TEMPERATURE);
            Tensor[] grads = b.gradients(true, name(), data.trace());
            long t0 = System.nanoTime();
            Tensor gnorm = null;
            for (Tensor gr : grads) {
                Tensor term = Ops.sum(Ops.mul(Ops.copy(gr), gr)); // Ops.copy: the stopped gradient, a constant
                gnorm = gnorm == null ? term : Ops.add(gnorm, term);
            }
            Tensor[] hg = Autograd.grad(gnorm, b.leaves(), false);
            data.trace().pass(name(), "Hg backward", Trace.group(Trace.tensors("g.g", gnorm), "Hg", b.layers(), List.of(hg)),
                    System.nanoTime() - t0);
            Tensor[] sc = new Tensor[hg.length];
            try (GradMode ng = GradMode.noGrad()) {
                for (int i = 0; i < sc.length; i++) sc[i] = Ops.mul(hg[i], b.leaves().get(i));
            }
            return b.normalised(sc, total -> Math.abs(total) + EPS, name(), data.trace());
        }
    }
}
