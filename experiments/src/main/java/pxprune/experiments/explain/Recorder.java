package pxprune.experiments.explain;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.MaxPool2d;
import pxprune.nn.Module;
import pxprune.nn.Resample;
import pxprune.px.Trace;

/**
 * A {@link Trace} that keeps a host copy of everything a scorer reports: each pass's named
 * tensors and, through {@link #watch}, the output of every layer the pass evaluates (convolution,
 * linear, normalisation, activation), in call order. It only reads tensors, so the scores are
 * the same with or without it.
 */
public final class Recorder implements Trace {
    /** a host copy of a tensor */
    public record Values(String name, DType dtype, int[] shape, double[] v) {
        static Values of(String name, Tensor t) { return new Values(name, t.dtype(), t.shape(), t.toDoubleArray()); }

        public double sum() { double s = 0; for (double x : v) s += x; return s; }

        public double min() { double m = Double.POSITIVE_INFINITY; for (double x : v) m = Math.min(m, x); return m; }

        public double max() { double m = Double.NEGATIVE_INFINITY; for (double x : v) m = Math.max(m, x); return m; }
    }

    /** one pass: its tensors (inputs first) and the outputs of the layers it evaluated */
    public record Pass(String scorer, String name, List<Values> tensors, List<Values> layers, long nanos) {
        public Values get(String tensor) {
            for (Values v : tensors) if (v.name().equals(tensor)) return v;
            throw new IllegalArgumentException("pass " + name + " has no tensor " + tensor);
        }

        /** the members of a group (group:member), in order */
        public List<Values> group(String group) {
            List<Values> out = new ArrayList<>();
            for (Values v : tensors) if (v.name().startsWith(group + ":")) out.add(v);
            return out;
        }
    }

    private final Map<Module, String> names = new IdentityHashMap<>();
    private final List<Pass> passes = new ArrayList<>();
    private final List<Values> pending = new ArrayList<>();
    private String pendingPass;

    /** @param model the model whose layers are named in the record (by their qualified module names) */
    public Recorder(Module model) { model.namedModules().forEach((n, m) -> names.put(m, n)); }

    public List<Pass> passes() { return List.copyOf(passes); }

    /** the first pass of that name */
    public Pass pass(String name) {
        for (Pass p : passes) if (p.name().equals(name)) return p;
        throw new IllegalArgumentException("no pass " + name + " was recorded; passes: " + passes.stream().map(Pass::name).toList());
    }

    @Override public Interpreter watch(String pass, Interpreter it) {
        pending.clear();
        pendingPass = pass;
        return new Interpreter() {
            private int relus;

            private Tensor keep(String layer, Tensor y) {
                pending.add(Values.of(layer, y));
                return y;
            }

            @Override public Tensor conv2d(Conv2d m, Tensor x) { return keep(names.get(m), it.conv2d(m, x)); }

            @Override public Tensor linear(Linear m, Tensor x) { return keep(names.get(m), it.linear(m, x)); }

            @Override public Tensor batchNorm(BatchNorm m, Tensor x) { return keep(names.get(m), it.batchNorm(m, x)); }

            @Override public Tensor relu(Tensor x) { return keep("relu" + (++relus), it.relu(x)); }

            // the other hooks are the watched interpreter's, unrecorded
            @Override public Tensor maxPool2d(MaxPool2d m, Tensor x) { return it.maxPool2d(m, x); }

            @Override public Tensor resample(Resample r, Tensor x) { return it.resample(r, x); }

            @Override public Tensor add(Tensor a, Tensor b) { return it.add(a, b); }

            @Override public Tensor cat(int dim, Tensor... xs) { return it.cat(dim, xs); }

            @Override public Tensor globalAvgPool(Tensor x) { return it.globalAvgPool(x); }

            @Override public Tensor flatten(Tensor x, int startDim) { return it.flatten(x, startDim); }
        };
    }

    @Override public void pass(String scorer, String pass, Map<String, Tensor> tensors, long nanos) {
        List<Values> vs = new ArrayList<>();
        tensors.forEach((n, t) -> vs.add(Values.of(n, t)));
        List<Values> layers = pass.equals(pendingPass) ? List.copyOf(pending) : List.of();
        if (pass.equals(pendingPass)) { pending.clear(); pendingPass = null; }
        passes.add(new Pass(scorer, pass, List.copyOf(vs), layers, nanos));
    }
}
