package pxprune.px.methods.px;

import java.util.IdentityHashMap;
import java.util.Map;
import pxprune.core.GradMode;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.nn.BatchNorm;
import pxprune.nn.Module;

/** What PX's two paths (PxScorer's reference on the CPU, FusedPath's fused kernels) share of the auxiliary networks A and P. */
final class AuxiliaryNets {
    private AuxiliaryNets() {}

    /** per-sample output sums over the batch dimension of out, added into acc (a new array if null) */
    static double[] sumOverBatch(Tensor out, double[] acc) {
        int n = out.size(0);
        double[] v = out.toDoubleArray();
        int per = v.length / n;
        if (acc == null) acc = new double[per];
        for (int i = 0; i < n; i++) for (int k = 0; k < per; k++) acc[k] += v[i * per + k];
        return acc;
    }

    /** batch norm := x * (eval-time scale)^2, no shift */
    static java.util.function.BiFunction<BatchNorm, Tensor, Tensor> squaredEvalScale(Module model) {
        Map<BatchNorm, Tensor> scale = new IdentityHashMap<>();
        for (Module m : model.namedModules().values())
            if (m instanceof BatchNorm bn) {
                try (GradMode g = GradMode.noGrad()) { scale.put(bn, Ops.square(bn.evalScale())); }
            }
        return (m, x) -> Ops.channelAffine(x, scale.get(m), null);
    }
}
