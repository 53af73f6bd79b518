package pxprune.experiments.ntk;

import java.util.ArrayList;
import java.util.IdentityHashMap;
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
import pxprune.px.Masks;
import pxprune.px.PrunableLayer;

/**
 * The model as a function f(x; theta) of the NTK's parameters theta (docs/ntk.md#definitions), in
 * a chosen precision, evaluated in eval mode (batch norm with its running statistics): copies of
 * the model's tensors, never the model's own, so the model is never changed.
 * <ul>
 *   <li>default: theta = the prunable weights (every Conv2d/Linear {@code weight}) at theta*m;
 *       biases and batch-norm affine parameters are constants;</li>
 *   <li>{@code allParameters}: also every bias and batch-norm weight and bias (never masked).</li>
 * </ul>
 * A pruned weight is not a parameter: its gradient entries are multiplied by the mask
 * ({@link #mask}). Owns its tensors (created outside any memory scope) and frees them on close.
 */
final class NtkNet implements Interpreter, AutoCloseable {
    final List<String> names = new ArrayList<>();
    final List<Tensor> leaves = new ArrayList<>();
    /** per leaf, its 0/1 mask in the leaf's dtype, or null (every entry a parameter) */
    final List<Tensor> masks = new ArrayList<>();
    final long kept, total;
    final DType dtype;
    final boolean pathTheorem;
    private final Map<Module, Tensor> weights = new IdentityHashMap<>(), biases = new IdentityHashMap<>();
    private final Map<BatchNorm, Tensor[]> norms = new IdentityHashMap<>();
    private final List<Tensor> owned = new ArrayList<>();

    NtkNet(Module model, Masks m, DType dtype, boolean allParameters) {
        if (dtype == DType.I32) throw new IllegalArgumentException("NTK precision must be F32 or F64, got I32");
        this.dtype = dtype;
        if (m != null) m.checkFits(model);
        boolean ok = false;
        try {
            long k = 0, t = 0;
            boolean theorem = true;
            for (PrunableLayer l : PrunableLayer.of(model)) {
                float[] mv = m == null ? null : m.values(l.name());
                Tensor w = own(maskedCopy(l.weight(), mv));
                weights.put(l.module(), w);
                addLeaf(l.name(), w, mv == null ? null : own(fromFloats(mv, l.shape(), w.device())));
                t += l.numel();
                k += mv == null ? l.numel() : count(mv);
                if (l.bias() != null) {
                    theorem = false;
                    Tensor b = own(copy(l.bias()));
                    biases.put(l.module(), b);
                    if (allParameters) {
                        addLeaf(l.name().substring(0, l.name().length() - "weight".length()) + "bias", b, null);
                        t += b.numel();
                        k += b.numel();
                    }
                }
            }
            for (Map.Entry<String, Module> e : model.namedModules().entrySet()) {
                Module mod = e.getValue();
                if (mod instanceof MaxPool2d) theorem = false;
                if (!(mod instanceof BatchNorm bn)) continue;
                theorem = false;
                Tensor g = own(copy(bn.weight())), b = own(copy(bn.bias()));
                norms.put(bn, new Tensor[] {g, b, own(copy(bn.runningMean())), own(copy(bn.runningVar()))});
                if (allParameters) {
                    String p = e.getKey().isEmpty() ? "" : e.getKey() + ".";
                    addLeaf(p + "weight", g, null);
                    addLeaf(p + "bias", b, null);
                    t += g.numel() + b.numel();
                    k += g.numel() + b.numel();
                }
            }
            if (allParameters) checkCovered(model);
            kept = k;
            total = t;
            pathTheorem = theorem;
            ok = true;
        } finally {
            if (!ok) close();
        }
    }

    /** every parameter of the model belongs to a Conv2d, Linear or BatchNorm (else "all parameters" would miss some) */
    private static void checkCovered(Module model) {
        model.namedModules().forEach((name, mod) -> {
            if (mod instanceof Conv2d || mod instanceof Linear || mod instanceof BatchNorm) return;
            Map<String, Tensor> own = new java.util.LinkedHashMap<>(mod.namedParameters());
            for (Module c : mod.children().values()) c.namedParameters().keySet().forEach(own::remove);
            own.keySet().removeIf(n -> n.contains("."));
            if (!own.isEmpty())
                throw new IllegalArgumentException("NTK over all parameters: module '" + name + "' (" + mod.getClass().getSimpleName()
                        + ") holds parameters " + own.keySet() + " that the NTK does not know how to differentiate");
        });
    }

    private void addLeaf(String name, Tensor t, Tensor mask) {
        t.requiresGrad(true);
        names.add(name);
        leaves.add(t);
        masks.add(mask);
    }

    private Tensor own(Tensor t) { owned.add(t); return t; }

    private static long count(float[] m) {
        long c = 0;
        for (float v : m) if (v != 0f) c++;
        return c;
    }

    private Tensor copy(Tensor t) {
        return MemoryScope.unscoped(() -> {
            try (GradMode g = GradMode.noGrad()) { return t.dtype() == dtype ? Ops.copy(t) : Ops.to(t, dtype); }
        });
    }

    private Tensor maskedCopy(Tensor w, float[] m) {
        Tensor c = copy(w);
        if (m != null) {
            try (Tensor mt = fromFloats(m, w.shape(), w.device())) { Ops.mulInPlace(c, mt); }
        }
        return c;
    }

    /** the mask m as a tensor of this net's dtype on the device of the weight it masks */
    private Tensor fromFloats(float[] m, int[] shape, pxprune.kernels.Device device) {
        return MemoryScope.unscoped(() -> {
            if (dtype == DType.F32) return Tensor.of(m, device, shape);
            double[] d = new double[m.length];
            for (int i = 0; i < m.length; i++) d[i] = m[i];
            return Tensor.of(d, device, shape);
        });
    }

    /** the number of parameter entries (pruned ones included) */
    long size() {
        long n = 0;
        for (Tensor t : leaves) n += t.numel();
        return n;
    }

    // ------------------------------------------------------------------ Interpreter
    @Override public Tensor conv2d(Conv2d m, Tensor x) { return Ops.conv2d(x, weights.get(m), biases.get(m), m.stride, m.padding, m.dilation, m.groups); }

    @Override public Tensor linear(Linear m, Tensor x) { return Ops.linear(x, weights.get(m), biases.get(m)); }

    @Override public Tensor batchNorm(BatchNorm m, Tensor x) {
        Tensor[] p = norms.get(m);
        return Ops.batchNormEval(x, p[0], p[1], p[2], p[3], m.eps);
    }

    @Override public Tensor relu(Tensor x) { return Ops.relu(x); }

    @Override public void close() {
        for (Tensor t : owned) t.close();
        owned.clear();
    }
}
