package pxprune.nn;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.kernels.Device;

/**
 * Stochastic gradient descent with PyTorch's exact semantics ({@code torch.optim.SGD}), one fused
 * backend kernel per parameter:
 * <pre>
 *   g = grad + weight_decay * p
 *   buf = g                                        (first step of this parameter)
 *   buf = momentum * buf + (1 - dampening) * g     (later steps)
 *   step = nesterov ? g + momentum * buf : buf     (step = g when momentum is 0)
 *   p = p - lr * step
 * </pre>
 * Parameters whose grad is null are skipped (their buffer is not started). An optional 0/1 mask
 * per parameter multiplies the weight, its momentum buffer and its step, so pruned weights stay
 * exactly zero. The optimizer owns its momentum buffers and mask copies and frees them on close().
 *
 * <p>Devices: momentum buffers and mask copies live on their parameter's device (a CUDA model
 * gets CUDA buffers, updated by the CUDA backend's fused kernel); masks and saved state given on
 * another device (e.g. read from a checkpoint on the host) are copied there. Move the model first
 * ({@code Module.to} replaces its parameter tensors), then build the optimizer over its parameters;
 * {@link #to} moves an optimizer's buffers and masks when its parameters were moved in place. A
 * gradient on another device than its parameter fails the step with a message naming both.
 */
public final class SGD implements AutoCloseable {
    private final Map<String, Tensor> params;
    private final double momentum, dampening, weightDecay;
    private final boolean nesterov;
    private double lr;
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Tensor> masks = new LinkedHashMap<>();
    private boolean closed;

    /** over the named parameters (e.g. {@code model.namedParameters()}), dampening 0 */
    public SGD(Map<String, Tensor> params, double lr, double momentum, double weightDecay, boolean nesterov) {
        this(params, lr, momentum, 0, weightDecay, nesterov);
    }

    public SGD(Map<String, Tensor> params, double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {
        if (!(lr >= 0) || !(momentum >= 0) || !(weightDecay >= 0) || !Double.isFinite(dampening))
            throw new IllegalArgumentException("SGD needs lr, momentum and weight decay >= 0, got lr=" + lr + ", momentum="
                    + momentum + ", weight_decay=" + weightDecay + ", dampening=" + dampening);
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new IllegalArgumentException("Nesterov momentum requires a momentum > 0 and zero dampening (as PyTorch), got momentum="
                    + momentum + ", dampening=" + dampening);
        for (Map.Entry<String, Tensor> e : params.entrySet())
            if (e.getValue().dtype() == DType.I32)
                throw new IllegalArgumentException("SGD: parameter " + e.getKey() + " is an integer tensor");
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
        this.lr = lr; this.momentum = momentum; this.dampening = dampening; this.weightDecay = weightDecay; this.nesterov = nesterov;
    }

    /** SGD over all of a module's parameters */
    public static SGD of(Module m, double lr, double momentum, double weightDecay, boolean nesterov) {
        return new SGD(m.namedParameters(), lr, momentum, weightDecay, nesterov);
    }

    public double lr() { return lr; }

    public void setLr(double lr) {
        if (!(lr >= 0)) throw new IllegalArgumentException("learning rate must be >= 0, got " + lr);
        this.lr = lr;
    }

    public double momentum() { return momentum; }
    public double dampening() { return dampening; }
    public double weightDecay() { return weightDecay; }
    public boolean nesterov() { return nesterov; }

    /** the optimised parameters by name */
    public Map<String, Tensor> parameters() { return params; }

    /**
     * Sets (a copy of) a 0/1 mask for one parameter, or removes it with null. The mask takes
     * effect at the next step (which multiplies the weight by it); it does not change the weight now.
     */
    public void setMask(String name, Tensor mask) {
        checkOpen();
        Tensor p = param(name);
        Tensor old = masks.remove(name);
        if (old != null) old.close();
        if (mask == null) return;
        if (!Arrays.equals(mask.shape(), p.shape()))
            throw new IllegalArgumentException("mask for " + name + " has shape " + Arrays.toString(mask.shape())
                    + ", the parameter " + Arrays.toString(p.shape()));
        for (double v : mask.toDoubleArray())
            if (v != 0 && v != 1)
                throw new IllegalArgumentException("mask for " + name + " must hold only 0 and 1, found " + v);
        Tensor copy = MemoryScope.unscoped(() -> Tensor.zeros(p.dtype(), p.device(), p.shape()));
        masks.put(name, copy);
        copyValues(mask, copy);
    }

    /** sets every given mask (see {@link #setMask}); parameters not named keep theirs */
    public void setMasks(Map<String, Tensor> m) { m.forEach(this::setMask); }

    /** the masks in use (live, owned by the optimizer), by parameter name */
    public Map<String, Tensor> masks() { return Collections.unmodifiableMap(masks); }

    /** one update of every parameter that has a gradient */
    public void step() {
        checkOpen();
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            String name = e.getKey();
            Tensor p = e.getValue(), g = p.grad();
            if (g == null) continue;
            if (g.dtype() != p.dtype() || g.numel() != p.numel())
                throw new IllegalStateException("gradient of " + name + " is " + g.dtype() + Arrays.toString(g.shape())
                        + ", the parameter " + p.dtype() + Arrays.toString(p.shape()));
            if (g.device() != p.device())
                throw new IllegalStateException("SGD: the gradient of " + name + " is on " + g.device() + " but the parameter on "
                        + p.device() + "; compute the loss on the parameter's device (move the inputs with to(" + p.device() + "))");
            Tensor buf = null;
            boolean first = false;
            if (momentum != 0) {
                buf = buffers.get(name);
                if (buf == null) {
                    buf = MemoryScope.unscoped(() -> Tensor.zeros(p.dtype(), p.device(), p.shape()));
                    buffers.put(name, buf);
                    first = true;
                }
            }
            Tensor mask = masks.get(name);
            if (mask != null && mask.device() != p.device() || buf != null && buf.device() != p.device())
                throw new IllegalStateException("SGD: the " + (mask != null && mask.device() != p.device() ? "mask" : "momentum buffer")
                        + " of " + name + " is on " + (mask != null && mask.device() != p.device() ? mask.device() : buf.device())
                        + " but the parameter on " + p.device() + "; the parameters were moved after the optimizer was built:"
                        + " call opt.to(" + p.device() + ") or build the optimizer after Module.to");
            p.backend().sgd(p.dtype(), p.numel(), p.ptr(), g.ptr(), buf == null ? null : buf.ptr(),
                    mask == null ? null : mask.ptr(), lr, momentum, dampening, weightDecay, nesterov, first);
        }
    }

    /** clears every parameter's gradient */
    public void zeroGrad() { for (Tensor p : params.values()) p.zeroGrad(); }

    /**
     * The momentum buffers (live, owned by the optimizer) by parameter name, for checkpointing;
     * a parameter appears once it has taken a step with momentum.
     */
    public Map<String, Tensor> state() { return Collections.unmodifiableMap(buffers); }

    /**
     * Restores momentum buffers (values copied; dtypes converted) as saved from {@link #state()}:
     * those parameters continue with momentum, the others start afresh at their next step.
     * Buffers present now but not in the given state are dropped.
     */
    public void loadState(Map<String, Tensor> state) {
        checkOpen();
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            Tensor p = params.get(e.getKey());
            if (p == null) throw new IllegalArgumentException("optimizer state for unknown parameter " + e.getKey()
                    + "; parameters: " + params.keySet());
            if (e.getValue().numel() != p.numel())
                throw new IllegalArgumentException("momentum buffer for " + e.getKey() + " has shape "
                        + Arrays.toString(e.getValue().shape()) + ", the parameter " + Arrays.toString(p.shape()));
        }
        if (momentum == 0 && !state.isEmpty())
            throw new IllegalArgumentException("this SGD has no momentum, but the state holds momentum buffers");
        buffers.values().forEach(Tensor::close);
        buffers.clear();
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            Tensor p = params.get(e.getKey());
            Tensor b = MemoryScope.unscoped(() -> Tensor.zeros(p.dtype(), p.device(), p.shape()));
            copyValues(e.getValue(), b);
            buffers.put(e.getKey(), b);
        }
    }

    /**
     * Moves the momentum buffers and masks to device (values kept exactly); returns this. For
     * parameters moved in place: every parameter must be on device already, else this fails naming
     * the parameter and both devices (a {@code Module.to} makes new parameter tensors: build a new
     * optimizer over {@code model.namedParameters()} and {@link #loadState} this one's state).
     */
    public SGD to(Device device) {
        checkOpen();
        for (Map.Entry<String, Tensor> e : params.entrySet())
            if (e.getValue().isClosed())
                throw new IllegalStateException("SGD.to(" + device + "): parameter " + e.getKey() + " is closed (Module.to replaced it);"
                        + " build a new SGD over model.namedParameters() and loadState(old.state())");
            else if (e.getValue().device() != device)
                throw new IllegalArgumentException("SGD.to(" + device + "): parameter " + e.getKey() + " is on " + e.getValue().device()
                        + ", not " + device + "; move the model first (model.to(" + device + ")) and build the optimizer over its parameters");
        moveAll(buffers, device);
        moveAll(masks, device);
        return this;
    }

    private static void moveAll(Map<String, Tensor> m, Device device) {
        for (Map.Entry<String, Tensor> e : m.entrySet()) {
            Tensor old = e.getValue();
            if (old.device() == device) continue;
            try (pxprune.core.GradMode g = pxprune.core.GradMode.noGrad()) {
                e.setValue(MemoryScope.unscoped(() -> old.to(device)));
            }
            old.close();
        }
    }

    /** src's values into dst (dtype converted; copied across devices through the host) */
    private static void copyValues(Tensor src, Tensor dst) {
        if (src.device() != dst.device()) {
            try (pxprune.core.GradMode g = pxprune.core.GradMode.noGrad(); MemoryScope s = MemoryScope.open()) {
                copyValues(src.to(dst.device()), dst);
            }
            return;
        }
        if (src.dtype() == DType.I32) {
            double[] v = src.toDoubleArray();
            if (dst.dtype() == DType.F32) {
                float[] f = new float[v.length];
                for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
                dst.backend().upload(f, dst.ptr());
            } else dst.backend().upload(v, dst.ptr());
        } else Ops.copyInto(src, dst);
    }

    private Tensor param(String name) {
        Tensor p = params.get(name);
        if (p == null) throw new IllegalArgumentException("no parameter named " + name + " in this optimizer; parameters: "
                + params.keySet());
        return p;
    }

    private void checkOpen() { if (closed) throw new IllegalStateException("the optimizer is closed"); }

    /** frees the momentum buffers and masks */
    @Override public void close() {
        if (closed) return;
        closed = true;
        buffers.values().forEach(Tensor::close);
        masks.values().forEach(Tensor::close);
        buffers.clear();
        masks.clear();
    }
}
