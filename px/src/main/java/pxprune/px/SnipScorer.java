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
            Tensor loss = Ops.crossEntropy(logits.reshape(data.size(), -1), Tensor.ofInts(data.labels(), data.size()));
            Tensor[] grads = Autograd.grad(loss, leaves, false);
            try (GradMode ng = GradMode.noGrad()) {
                double total = 0;
                Tensor[] sc = new Tensor[layers.size()];
                for (int i = 0; i < sc.length; i++) {
                    sc[i] = Ops.abs(Ops.mul(grads[i], leaves.get(i)));
                    total += Ops.sum(sc[i].to(DType.F64)).item();
                }
                for (int i = 0; i < sc.length; i++) out.put(layers.get(i).name(), MemoryScope.keep(Ops.affine(sc[i].to(DType.F64), 1 / total, 0)));
            }
        }
        return out;
    }
}
