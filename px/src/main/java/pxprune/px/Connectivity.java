package pxprune.px;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.Module;

/**
 * Layer-collapse check. An output unit is <em>reachable</em> when at least one input-output path
 * has every weight on it kept. It is computed by the path-count network of the mask (weights :=
 * mask, biases := 0, batch norm := identity) on one all-ones input, with every ReLU replaced by
 * the indicator 1[z &gt; 0], every max pool by the sum of its window and every fixed resampling
 * by its support (1 where its coefficient is positive; docs/px-method.md#pooling-resampling-sums): a path
 * through any element of a window, or any input a resampled output reads, reaches that output.
 * All signals are non-negative, so a unit is positive exactly when a kept path reaches it, and
 * the indicator keeps the numbers small (no overflow at any depth).
 *
 * <p>The network is <em>connected</em> when at least one output unit is reachable (no layer has
 * collapsed; SynFlow's sense). {@link #reachableOutputs} tells how many are.
 *
 * <p>The check runs in float32 (it runs once per pruning round): only whether a value is positive
 * matters, and a sum of non-negative float32 numbers is positive exactly when one of its terms is,
 * so float32 decides every unit as float64 would while no value overflows. Between two indicators
 * the values are path counts; should one overflow (inf, and then NaN from inf * 0 in the next
 * layer, which an indicator would turn into 0), the indicator's input is no longer finite, which is
 * checked at every indicator and at the output, and the check is rerun in float64.
 */
public final class Connectivity {
    private Connectivity() {}

    /** the number of output elements (of one sample) that a kept path reaches, and their total */
    public static int[] reachableOutputs(Module model, Masks masks, int[] sampleShape) {
        int[] r = reachableOutputs(model, masks, sampleShape, DType.F32);
        return r != null ? r : reachableOutputs(model, masks, sampleShape, DType.F64);
    }

    /** in dt; in float32 null if a value left its range (float64 counts as it finds: inf is reached, NaN is not) */
    public static int[] reachableOutputs(Module model, Masks masks, int[] sampleShape, DType dt) {
        List<PrunableLayer> layers = PrunableLayer.of(model);
        try (EvalMode e = new EvalMode(model); MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
            boolean[] finite = {true};
            Map<Module, Tensor> weights = new IdentityHashMap<>();
            if (dt == DType.F32) for (PrunableLayer l : layers) weights.put(l.module(), masks.tensor(l.name(), l.weight().device()));
            else weights = Substituted.maskWeights(layers, masks, dt);
            Substituted net = new Substituted(weights, Substituted.noBiases(),
                    Substituted.identityNorm(), z -> {
                        if (dt == DType.F32 && finite[0]) finite[0] = Double.isFinite(Ops.sum(z).item());
                        return Ops.step(z);
                    }, Substituted::sumPool, Substituted::resampleSupport);
            double[] out = model.forward(Tensor.ones(dt, model.device(), sampleShape), net).toDoubleArray();
            int reached = 0;
            for (double v : out) {
                if (!Double.isFinite(v)) finite[0] = false; // NaN is not > 0
                if (v > 0) reached++;
            }
            return dt == DType.F32 && !finite[0] ? null : new int[] {reached, out.length};
        }
    }

    /** at least one output reachable from the input through kept weights */
    public static boolean connected(Module model, Masks masks, int[] sampleShape) {
        return reachableOutputs(model, masks, sampleShape)[0] > 0;
    }
}
