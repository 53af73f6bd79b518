package pxprune.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import pxprune.core.Tensor;

/**
 * A layer or model: named parameters, buffers and child modules, with PyTorch's naming
 * ({@code blocks.3.shortcut.0.weight}) and state-dict order (own parameters, own buffers, then
 * children). A module owns its tensors and frees them on {@link #close()}.
 */
public abstract class Module implements AutoCloseable {
    private final LinkedHashMap<String, Tensor> params = new LinkedHashMap<>();
    private final LinkedHashMap<String, Tensor> buffers = new LinkedHashMap<>();
    private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** the forward pass, with every conv/linear/norm/activation evaluated through it */
    public abstract Tensor forward(Tensor x, Interpreter it);

    public Tensor forward(Tensor x) { return forward(x, Interpreter.STANDARD); }

    protected Tensor registerParameter(String name, Tensor t) {
        t.requiresGrad(true);
        params.put(name, t);
        return t;
    }

    protected Tensor registerBuffer(String name, Tensor t) {
        buffers.put(name, t);
        return t;
    }

    protected <M extends Module> M registerModule(String name, M m) {
        children.put(name, m);
        return m;
    }

    /** replaces a registered parameter or buffer's tensor (closing the old one) */
    void replaceTensor(String name, Tensor t) {
        if (params.containsKey(name)) { Tensor old = params.put(name, t.requiresGrad(true)); if (old != t) old.close(); }
        else if (buffers.containsKey(name)) { Tensor old = buffers.put(name, t); if (old != t) old.close(); }
        else throw new IllegalArgumentException("no parameter or buffer " + name);
    }

    Tensor localParam(String name) { return params.get(name); }

    Tensor localBuffer(String name) { return buffers.get(name); }

    public Map<String, Module> children() { return java.util.Collections.unmodifiableMap(children); }

    /** this module and all below it, by qualified name ("" for this one) */
    public Map<String, Module> namedModules() {
        Map<String, Module> out = new LinkedHashMap<>();
        collectModules("", out);
        return out;
    }

    private void collectModules(String prefix, Map<String, Module> out) {
        out.put(prefix, this);
        children.forEach((n, m) -> m.collectModules(prefix.isEmpty() ? n : prefix + "." + n, out));
    }

    public Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        namedModules().forEach((p, m) -> m.params.forEach((n, t) -> out.put(p.isEmpty() ? n : p + "." + n, t)));
        return out;
    }

    public Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        namedModules().forEach((p, m) -> m.buffers.forEach((n, t) -> out.put(p.isEmpty() ? n : p + "." + n, t)));
        return out;
    }

    /** parameters and buffers in PyTorch's state_dict order */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collectState("", out);
        return out;
    }

    private void collectState(String prefix, Map<String, Tensor> out) {
        params.forEach((n, t) -> out.put(prefix + n, t));
        buffers.forEach((n, t) -> out.put(prefix + n, t));
        children.forEach((n, m) -> m.collectState(prefix + n + ".", out));
    }

    public List<Tensor> parameters() { return new ArrayList<>(namedParameters().values()); }

    /** the number of parameter values (buffers not counted), as PyTorch's sum(p.numel() for p in parameters()) */
    public long parameterCount() {
        long n = 0;
        for (Tensor p : namedParameters().values()) n += p.numel();
        return n;
    }

    /** writes {@link #stateDict()} as safetensors with PyTorch's keys (see {@link StateDicts}) */
    public void saveStateDict(java.nio.file.Path path) throws java.io.IOException { StateDicts.save(this, path); }

    /** loads a safetensors state dict into this module's tensors, all or nothing (see {@link StateDicts}) */
    public void loadStateDict(java.nio.file.Path path) throws java.io.IOException { StateDicts.load(this, path); }

    /**
     * moves every parameter (with its gradient) and buffer of this module and those below it to
     * device, in place (the old tensors are closed); returns this. Parameters stay leaves that
     * require gradients. Optimizer state and masks live outside the module and move with their own
     * {@code to}.
     */
    public Module to(pxprune.kernels.Device device) {
        for (Module m : namedModules().values()) {
            for (Map.Entry<String, Tensor> e : m.params.entrySet()) {
                Tensor old = e.getValue();
                if (old.device() == device) continue;
                Tensor moved = movedLeaf(old, device);
                if (old.grad() != null) moved.setGrad(movedLeaf(old.grad(), device));
                e.setValue(moved.requiresGrad(old.requiresGrad()));
                old.close();
            }
            for (Map.Entry<String, Tensor> e : m.buffers.entrySet()) {
                Tensor old = e.getValue();
                if (old.device() == device) continue;
                e.setValue(movedLeaf(old, device));
                old.close();
            }
        }
        return this;
    }

    /** a copy of t on device outside any graph, owned by no MemoryScope (as the module's tensors are) */
    private static Tensor movedLeaf(Tensor t, pxprune.kernels.Device device) {
        try (pxprune.core.GradMode g = pxprune.core.GradMode.noGrad()) {
            return pxprune.core.MemoryScope.unscoped(() -> t.to(device));
        }
    }

    /** the device of the first parameter (or buffer); CPU for a module without tensors */
    public pxprune.kernels.Device device() {
        for (Tensor t : stateDict().values()) return t.device();
        return pxprune.kernels.Device.CPU;
    }

    public boolean isTraining() { return training; }

    public Module train(boolean on) {
        for (Module m : namedModules().values()) m.training = on;
        return this;
    }

    public Module eval() { return train(false); }

    public void zeroGrad() { for (Tensor p : parameters()) p.zeroGrad(); }

    @Override public void close() {
        for (Module m : namedModules().values()) {
            m.params.values().forEach(Tensor::close);
            m.buffers.values().forEach(Tensor::close);
        }
    }
}
