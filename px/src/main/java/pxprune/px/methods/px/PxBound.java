package pxprune.px.methods.px;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import pxprune.core.Autograd;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.Module;
import pxprune.px.EvalMode;
import pxprune.px.Masks;
import pxprune.px.PrunableLayer;
import pxprune.px.ScoringData;
import pxprune.px.Substituted;

/**
 * PX's upper bound on the trace of the empirical NTK (docs/ntk.md#px-bound), from PX's two
 * auxiliary networks (docs/px-method.md#score): with W_k = sum over the data of A's output
 * z1_k(x) (not normalised) and zeta_k = sum over the kept weights j of dz2_k/dp_j (P's output k
 * differentiated w.r.t. the squared weights p = (theta*m)^2),
 * <pre>  tr Theta &lt;= B = sum_k W_k zeta_k.</pre>
 * A theorem for bias-free ReLU networks without normalisation or max pooling (the NTK taken
 * w.r.t. the kept prunable weights); for other networks the same quantity is a heuristic
 * comparison (A and P take batch norm at its eval scale and drop every shift and bias).
 * Computed in float64, in eval mode; the model is left as it was.
 */
public final class PxBound {
    private PxBound() {}

    /** W (A's output summed over the data, per output), zeta per output, and B = sum_k W_k zeta_k */
    public record Parts(double[] activationSums, double[] zeta, double bound) {}

    /** the bound B for the model at theta*m on the data (labels and classes of data are not used) */
    public static double of(Module model, Masks masks, ScoringData data) { return parts(model, masks, data).bound(); }

    public static Parts parts(Module model, Masks masks, ScoringData data) {
        masks.checkFits(model);
        List<PrunableLayer> layers = PrunableLayer.of(model);
        try (EvalMode e = new EvalMode(model)) {
            double[] w = new PxScorer(false).activationSums(model, layers, masks, data);
            for (int k = 0; k < w.length; k++)
                if (!Double.isFinite(w[k]))
                    throw new ArithmeticException("PX bound: the activation network's output " + k + " is " + w[k]
                            + " (float64 overflow: A multiplies the signal by every layer's fan-in); the model is too deep for this bound");
            double[] zeta = new double[w.length];
            try (MemoryScope s = MemoryScope.open(); GradMode g = GradMode.set(true)) {
                Map<Module, Tensor> p = Substituted.maskedWeights(layers, masks, DType.F64, v -> v * v);
                List<Tensor> leaves = new ArrayList<>();
                List<Tensor> kept = new ArrayList<>();
                for (PrunableLayer l : layers) {
                    leaves.add(p.get(l.module()).requiresGrad(true));
                    kept.add(Substituted.maskWeights(List.of(l), masks, DType.F64).get(l.module()));
                }
                Substituted net = new PxScorer(false).pathKernelNetwork(model, p);
                Tensor z2 = Ops.reshape(model.forward(Tensor.ones(DType.F64, model.device(), data.sampleShape()), net), -1);
                if (z2.numel() != w.length)
                    throw new IllegalStateException("the path-kernel network has " + z2.numel() + " outputs, the activation network "
                            + w.length);
                for (int k = 0; k < w.length; k++) {
                    try (MemoryScope sk = MemoryScope.open()) {
                        Tensor zk = Ops.pick(Ops.reshape(z2, 1, w.length), Tensor.ofInts(new int[] {k}, 1).to(z2.device()));
                        Tensor[] gr = Autograd.grad(Ops.sum(zk), leaves, false);
                        double z = 0;
                        try (GradMode ng = GradMode.noGrad()) {
                            for (int i = 0; i < gr.length; i++) z += Ops.sum(Ops.mul(gr[i], kept.get(i))).item();
                        }
                        zeta[k] = z;
                    }
                }
            }
            double b = 0;
            for (int k = 0; k < w.length; k++) b += w[k] * zeta[k];
            return new Parts(w, zeta, b);
        }
    }
}
