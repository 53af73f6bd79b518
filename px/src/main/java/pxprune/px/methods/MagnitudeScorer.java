package pxprune.px.methods;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import pxprune.core.Tensor;
import pxprune.nn.Module;
import pxprune.px.Masks;
import pxprune.px.PrunableLayer;
import pxprune.px.Scorer;
import pxprune.px.ScoringData;
import pxprune.px.Trace;

/** |theta * m|: magnitude pruning. */
public final class MagnitudeScorer implements Scorer {
    @Override public String name() { return "magnitude"; }

    @Override public Map<String, Tensor> score(Module model, Masks masks, ScoringData data) {
        masks.checkFits(model);
        long t0 = System.nanoTime();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (PrunableLayer l : PrunableLayer.of(model)) {
            double[] w = l.weight().toDoubleArray();
            float[] m = masks.raw(l.name());
            for (int i = 0; i < w.length; i++) w[i] = Math.abs(w[i] * m[i]);
            out.put(l.name(), Tensor.of(w, l.weight().device(), l.shape()));
        }
        data.trace().pass(name(), "score", Trace.group(new LinkedHashMap<>(), "score", PrunableLayer.of(model), List.copyOf(out.values())),
                System.nanoTime() - t0);
        return out;
    }
}
