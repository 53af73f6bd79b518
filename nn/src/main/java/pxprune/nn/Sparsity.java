package pxprune.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import pxprune.core.Tensor;
import pxprune.kernels.Device;
import pxprune.kernels.KeptWeights;

/**
 * Runs the pruned layers of a masked model on the sparse kernels (core's
 * {@link pxprune.core.Ops#conv2dSparse}), each layer by its density and shape: while attached, the
 * standard forward pass ({@link Interpreter#conv2d}, {@link Interpreter#linear}) of a chosen layer
 * computes at its kept weights only. The masks are fixed while it is attached (a pruned network's
 * training), and the weights must already be zero at pruned positions (the masks applied): the
 * layer's result is then the same convolution, to float32 summation order. The weight tensors stay
 * dense (checkpoints, weight files and SGD see nothing different); a pruned weight's gradient is
 * zero instead of the dense one that masked SGD discards. Close to go back to dense.
 *
 * <p>The choice ({@value #PROPERTY}): {@code auto} (default) takes a layer sparse when its density
 * is at most the crossover measured for its kind on ResNet-20's shapes at batch 100 (bench/README.md,
 * "The sparse kernels"; each product's sparse / dense time, interleaved, AVX-512 and AVX2):
 * {@value #CROSSOVER_3X3} for kernels larger than 1x1 at stride 1 (the three products together
 * win from there down, single noisy cells aside, and lose at 0.5), {@value #CROSSOVER_OTHER} for strided and 1x1 kernels (the strided input
 * gradient, which the dense kernels decompose by phase very efficiently, wins only below ~0.05;
 * the other two products carry the layer down to 0.1), {@value #CROSSOVER_LINEAR} for linear
 * layers (not measured: the sparse kernels spend a vector per kept weight and image on them, and
 * classifier heads cost nothing next to the convolutions); an emptied layer (density 0) always, as
 * it costs nothing there (its output is its bias, its gradients zero). {@code sparse} takes every
 * pruned layer sparse, {@code dense} none. Layers the sparse kernels cannot run (grouped
 * convolutions, float64, a device without them) stay dense at any setting.
 */
public final class Sparsity implements AutoCloseable {
    /** system property: "auto" (default), "sparse" or "dense" */
    public static final String PROPERTY = "pxprune.sparse";
    /** densities at or below which a layer runs sparse in auto mode (see the class comment) */
    public static final double CROSSOVER_3X3 = 0.3, CROSSOVER_OTHER = 0.1, CROSSOVER_LINEAR = 0.05;

    private final Map<String, Module> layers = new LinkedHashMap<>();

    private Sparsity() {}

    /** the mode of {@value #PROPERTY}, checked */
    public static String mode() {
        String m = System.getProperty(PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        if (!m.equals("auto") && !m.equals("sparse") && !m.equals("dense"))
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + m + " is not a sparse-kernel mode; use auto, sparse or dense");
        return m;
    }

    /** whether a layer of this kind and density runs sparse in {@code mode} */
    public static boolean chooses(String mode, Module layer, double density) {
        if (mode.equals("dense") || !(layer instanceof Conv2d || layer instanceof Linear)) return false;
        if (layer instanceof Conv2d c && c.groups != 1) return false;
        if (mode.equals("sparse") || density == 0) return true;
        double crossover = layer instanceof Linear ? CROSSOVER_LINEAR
                : ((Conv2d) layer).kernel > 1 && ((Conv2d) layer).stride == 1 ? CROSSOVER_3X3 : CROSSOVER_OTHER;
        return density <= crossover;
    }

    /**
     * Attaches the kept weights of every masked layer the mode chooses, with the mode of
     * {@value #PROPERTY}. {@code masks}: 0/1 values by parameter name ({@code blocks.3.conv1.weight},
     * as {@link Prunable#prunableWeights}); layers without one stay dense.
     */
    public static Sparsity attach(Module model, Map<String, float[]> masks) { return attach(model, masks, mode()); }

    public static Sparsity attach(Module model, Map<String, float[]> masks, String mode) {
        Sparsity s = new Sparsity();
        if (model.device() != Device.CPU) return s; // the sparse kernels are CPU kernels
        Map<String, Tensor> weights = Prunable.prunableWeights(model);
        Map<String, Module> modules = model.namedModules();
        try {
            for (Map.Entry<String, float[]> e : masks.entrySet()) {
                Tensor w = weights.get(e.getKey());
                if (w == null)
                    throw new IllegalArgumentException("mask " + e.getKey() + " names no prunable weight of the model; give masks of this model");
                float[] m = e.getValue();
                if (m.length != w.numel())
                    throw new IllegalArgumentException("mask " + e.getKey() + " has " + m.length + " values for " + w.numel() + " weights");
                long kept = 0;
                for (float v : m) if (v != 0) kept++;
                String name = e.getKey().endsWith(".weight") ? e.getKey().substring(0, e.getKey().length() - 7) : "";
                Module layer = modules.get(name);
                if (kept == m.length || !chooses(mode, layer, (double) kept / m.length)) continue;
                requireMasked(e.getKey(), w, m);
                int k = w.size(0), r = (int) (w.numel() / k);
                KeptWeights kw = KeptWeights.of(w.backend(), k, r, m);
                if (layer instanceof Conv2d c) c.kept = kw;
                else ((Linear) layer).kept = kw;
                s.layers.put(name, layer);
            }
        } catch (RuntimeException ex) {
            s.close();
            throw ex;
        }
        return s;
    }

    /**
     * The masks a pruned network's weights imply when its masks are not at hand (a weights file
     * read for inference): every prunable weight that holds zeros gets the mask of its non-zero
     * entries. Skipping a zero weight's products changes no result but for the order of the sums
     * (0 * x is 0 for every finite x), so inference on these masks computes the same network.
     */
    public static Map<String, float[]> zeroMasks(Module model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        Prunable.prunableWeights(model).forEach((name, w) -> {
            double[] v = w.toDoubleArray();
            float[] m = new float[v.length];
            boolean zeros = false;
            for (int i = 0; i < v.length; i++) {
                m[i] = v[i] != 0 ? 1 : 0;
                zeros |= v[i] == 0;
            }
            if (zeros) out.put(name, m);
        });
        return out;
    }

    /** the sparse path reads only kept weights: the dense fallback (another dtype) must see the same numbers */
    private static void requireMasked(String name, Tensor w, float[] m) {
        double[] v = w.toDoubleArray();
        for (int i = 0; i < v.length; i++)
            if (m[i] == 0 && v[i] != 0)
                throw new IllegalStateException(name + ": weight " + i + " is pruned but " + v[i] + "; apply the masks before attaching");
    }

    /** the names of the layers that run sparse, in module order */
    public List<String> layers() { return new ArrayList<>(layers.keySet()); }

    @Override public void close() {
        for (Module m : layers.values()) {
            KeptWeights kw = m instanceof Conv2d c ? c.kept : ((Linear) m).kept;
            if (m instanceof Conv2d c) c.kept = null;
            else ((Linear) m).kept = null;
            if (kw != null) kw.close();
        }
        layers.clear();
    }
}
