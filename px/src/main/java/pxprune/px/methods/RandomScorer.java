package pxprune.px.methods;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import pxprune.core.Tensor;
import pxprune.nn.Module;
import pxprune.px.Masks;
import pxprune.px.PrunableLayer;
import pxprune.px.Scorer;
import pxprune.px.ScoringData;
import pxprune.px.Trace;

/**
 * Uniform scores in [0, 1) from a generator seeded with {@link ScoringData#seed()}, drawn in
 * layer registration order, row-major; times the mask. The same seed gives the same scores in
 * every round, so iterative random pruning keeps one random order (equal to one-shot pruning).
 */
public final class RandomScorer implements Scorer {
    @Override public String name() { return "random"; }

    @Override public Map<String, Tensor> score(Module model, Masks masks, ScoringData data) {
        masks.checkFits(model);
        SplittableRandom rng = new SplittableRandom(data.seed());
        long t0 = System.nanoTime();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (PrunableLayer l : PrunableLayer.of(model)) {
            float[] m = masks.raw(l.name());
            double[] v = new double[m.length];
            for (int i = 0; i < v.length; i++) v[i] = rng.nextDouble() * m[i];
            out.put(l.name(), Tensor.of(v, l.weight().device(), l.shape()));
        }
        data.trace().pass(name(), "score", Trace.group(new LinkedHashMap<>(), "score", PrunableLayer.of(model), List.copyOf(out.values())),
                System.nanoTime() - t0);
        return out;
    }
}
