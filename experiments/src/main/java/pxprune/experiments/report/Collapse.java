package pxprune.experiments.report;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.MaxPool2d;
import pxprune.nn.Module;
import pxprune.nn.Resample;
import pxprune.nn.models.CifarResNet;
import pxprune.nn.models.ResNet;
import pxprune.px.Connectivity;
import pxprune.px.EvalMode;
import pxprune.px.Masks;
import pxprune.px.PrunableLayer;

/**
 * Layer collapse of one mask on its model, three ways:
 * <ul>
 * <li><b>layers emptied</b>: prunable layers (Conv2d/Linear weights) with density 0;
 * <li><b>residual branches emptied</b>: the residual blocks of the model, found by type in its
 *     module tree ({@link CifarResNet.Block}: {@code blocks.N} with conv1, conv2 and, where it
 *     downsamples, {@code shortcut.0}; torchvision's {@link ResNet.BasicBlock} and
 *     {@link ResNet.Bottleneck}: {@code layerS.N} with conv1..conv3 and {@code downsample.0}). A
 *     block's branch is its own convolutions in order (conv1 -&gt; conv2 [-&gt; conv3]), not the
 *     shortcut. The branch is <em>emptied</em> when no path of kept weights leads through it from
 *     any element of the block's input to any element of its output, with the block's real input
 *     size: the path-count network of the mask (weights := mask, no biases, batch norm := identity,
 *     ReLU := 1[z &gt; 0], max pool := window sum, resampling := its support, as {@link Connectivity}) applied to the branch alone on an all-ones input
 *     gives zero everywhere. A branch with an emptied layer is always emptied; one can also be
 *     emptied without any empty layer (conv1 keeps only channels that conv2 never reads). The block
 *     then passes only its shortcut: it carries nothing of its own.
 * <li><b>outputs reachable</b>: {@link Connectivity#reachableOutputs} of the whole network.
 * </ul>
 */
public record Collapse(int layers, List<String> emptyLayers, int branches, List<String> emptyBranches, int reachable, int outputs) {

    public Collapse {
        emptyLayers = List.copyOf(emptyLayers);
        emptyBranches = List.copyOf(emptyBranches);
    }

    /** the residual blocks of a model by module name, each with its branch convolutions in order (empty map: no residual blocks) */
    public static Map<String, List<Conv2d>> residualBranches(Module model) {
        Map<String, List<Conv2d>> out = new LinkedHashMap<>();
        model.namedModules().forEach((name, m) -> {
            if (!(m instanceof CifarResNet.Block || m instanceof ResNet.BasicBlock || m instanceof ResNet.Bottleneck)) return;
            List<Conv2d> convs = new ArrayList<>();
            for (Module c : m.children().values()) if (c instanceof Conv2d conv) convs.add(conv);
            out.put(name, convs);
        });
        return out;
    }

    /**
     * @param sampleShape the shape of one input, [1, C, H, W]
     * @throws IllegalArgumentException if the masks do not fit the model
     */
    public static Collapse of(Module model, Masks masks, int[] sampleShape) {
        masks.checkFits(model);
        List<PrunableLayer> layers = PrunableLayer.of(model);
        List<String> empty = new ArrayList<>();
        for (PrunableLayer l : layers) if (masks.kept(l.name()) == 0) empty.add(l.name());
        Map<String, List<Conv2d>> branches = residualBranches(model);
        List<String> emptyBranches = new ArrayList<>();
        if (!branches.isEmpty()) {
            try (EvalMode e = new EvalMode(model); MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
                Map<Module, Tensor> w = new IdentityHashMap<>();
                for (PrunableLayer l : layers) {
                    float[] f = masks.values(l.name());
                    double[] d = new double[f.length];
                    for (int i = 0; i < f.length; i++) d[i] = f[i];
                    w.put(l.module(), Tensor.of(d, l.shape()));
                }
                Map<Module, int[]> inputShape = new IdentityHashMap<>();
                for (List<Conv2d> b : branches.values()) if (!b.isEmpty()) inputShape.put(b.get(0), null);
                PathCount net = new PathCount(w, inputShape);
                model.forward(Tensor.ones(DType.F64, sampleShape), net);
                branches.forEach((name, convs) -> {
                    if (convs.isEmpty()) return;
                    int[] shape = inputShape.get(convs.get(0));
                    if (shape == null) throw new IllegalStateException("internal: the forward pass never reached block " + name);
                    Tensor t = Tensor.ones(DType.F64, shape);
                    for (int i = 0; i < convs.size(); i++) {
                        if (i > 0) t = Ops.step(t);
                        t = net.conv2d(convs.get(i), t);
                    }
                    boolean any = false;
                    for (double v : t.toDoubleArray()) if (v > 0) { any = true; break; }
                    if (!any) emptyBranches.add(name);
                });
            }
        }
        int[] reach = Connectivity.reachableOutputs(model, masks, sampleShape);
        return new Collapse(layers.size(), empty, branches.size(), emptyBranches, reach[0], reach[1]);
    }

    /** the path-count network, recording the input shape of the listed convolutions */
    private static final class PathCount implements Interpreter {
        private final Map<Module, Tensor> weights;
        private final Map<Module, int[]> record;

        PathCount(Map<Module, Tensor> weights, Map<Module, int[]> record) {
            this.weights = weights;
            this.record = record;
        }

        @Override public Tensor conv2d(Conv2d m, Tensor x) {
            if (record.containsKey(m)) record.put(m, x.shape());
            return Ops.conv2d(x, weights.get(m), null, m.stride, m.padding, m.dilation, m.groups);
        }

        @Override public Tensor linear(Linear m, Tensor x) { return Ops.linear(x, weights.get(m), null); }

        @Override public Tensor batchNorm(BatchNorm m, Tensor x) { return x; }

        @Override public Tensor relu(Tensor x) { return Ops.step(x); }

        /** every element of the window reaches the output (docs/px-method.md#pooling-resampling-sums) */
        @Override public Tensor maxPool2d(MaxPool2d m, Tensor x) { return Ops.sumPool2d(x, m.kernel, m.stride, m.padding); }

        /** every input with a positive coefficient (not a rounding residue of 0) reaches the output */
        @Override public Tensor resample(Resample r, Tensor x) { return r.mapWith(x, c -> c > 1e-9 ? 1 : 0); } // as px Substituted.resampleSupport
    }
}
