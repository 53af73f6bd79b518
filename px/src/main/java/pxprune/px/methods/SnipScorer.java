package pxprune.px.methods;

import java.util.Map;
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

/**
 * SNIP (Lee et al. 2019, as in Synaptic-Flow and the PX authors' code): |g * theta| with g the
 * gradient of the mean cross-entropy of the whole pruning batch at W = theta*m, batch norm with
 * batch statistics (running statistics untouched), everything else in eval mode; normalised by
 * the total over all layers. Computed in the model's precision; the normalised scores are float64.
 */
public final class SnipScorer implements Scorer {
    private final DType dtype;

    /** computes in the model's precision, as the authors do */
    public SnipScorer() { this(null); }

    /** computes in the given precision (null: the model's) */
    public SnipScorer(DType dtype) { this.dtype = dtype; }

    @Override public String name() { return "snip"; }

    @Override public Map<String, Tensor> score(Module model, Masks masks, ScoringData data) {
        masks.checkFits(model);
        try (EvalMode e = new EvalMode(model); MemoryScope s = MemoryScope.open()) {
            BatchLoss b = BatchLoss.traced(name(), model, masks, data, dtype, 1);
            Tensor[] grads = b.gradients(false, name(), data.trace());
            Tensor[] sc = new Tensor[grads.length];
            try (GradMode ng = GradMode.noGrad()) {
                for (int i = 0; i < sc.length; i++) sc[i] = Ops.abs(Ops.mul(grads[i], b.leaves().get(i)));
            }
            return b.normalised(sc, total -> total, name(), data.trace());
        }
    }
}
