package pxprune.px;

import java.util.List;
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
 * by its support (1 where its coefficient is positive; docs/px-method.md section 9): a path
 * through any element of a window, or any input a resampled output reads, reaches that output.
 * All signals are non-negative, so a unit is positive exactly when a kept path reaches it, and
 * the indicator keeps the numbers small (no overflow at any depth).
 *
 * <p>The network is <em>connected</em> when at least one output unit is reachable (no layer has
 * collapsed; SynFlow's sense). {@link #reachableOutputs} tells how many are.
 */
public final class Connectivity {
    private Connectivity() {}

    /** the number of output elements (of one sample) that a kept path reaches, and their total */
    public static int[] reachableOutputs(Module model, Masks masks, int[] sampleShape) {
        List<PrunableLayer> layers = PrunableLayer.of(model);
        try (EvalMode e = new EvalMode(model); MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
            Substituted net = new Substituted(Substituted.maskWeights(layers, masks, DType.F64), Substituted.noBiases(),
                    Substituted.identityNorm(), Ops::step, Substituted::sumPool, Substituted::resampleSupport);
            double[] out = model.forward(Tensor.ones(DType.F64, model.device(), sampleShape), net).toDoubleArray();
            int reached = 0;
            for (double v : out) if (v > 0) reached++;
            return new int[] {reached, out.length};
        }
    }

    /** at least one output reachable from the input through kept weights */
    public static boolean connected(Module model, Masks masks, int[] sampleShape) {
        return reachableOutputs(model, masks, sampleShape)[0] > 0;
    }
}
