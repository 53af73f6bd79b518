package pxprune.experiments.ntk;

import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import pxprune.core.Autograd;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.Module;
import pxprune.px.EvalMode;
import pxprune.px.Masks;

/**
 * The Jacobian J of f(x_n; theta) in R^K over N samples w.r.t. the NTK's parameters
 * ({@link NtkNet}), as products (docs/ntk.md#how-j-enters). Rows of J are indexed r = n*K + k,
 * columns by the parameters' entries concatenated in {@link #parameterNames()} order (pruned
 * entries are columns of zeros). Everything runs in eval mode through the engine's autograd:
 * <ul>
 *   <li>{@link #vjp}: J^T u, one backward of sum(u * f);</li>
 *   <li>{@link #jvp}: J v by double backward: g(u) = J^T u with the graph kept, then
 *       J v = d&lt;g(u), v&gt;/du at u = 0 (g is linear in u);</li>
 *   <li>{@link #apply}: Theta v = J (J^T v);</li>
 *   <li>{@link #row}, {@link #trace}, {@link #kernel}: per-sample gradients at batch 1, one backward per output.</li>
 * </ul>
 * The batch passes walk the samples in chunks (memory only). Host vectors are double[]. Owns
 * native copies of the parameters and the inputs; close() frees them.
 */
public final class NtkOperator implements AutoCloseable {
    private final Module model;
    private final NtkNet net;
    private final Tensor x;
    private final int n, k, chunk;
    private final long p;

    /**
     * @param masks   null: dense
     * @param x       the samples [N, ...] (F32 or F64; converted to dtype)
     * @param dtype   F32 or F64
     * @param chunk   samples per batch pass
     */
    public NtkOperator(Module model, Masks masks, Tensor x, DType dtype, boolean allParameters, int chunk) {
        if (x == null || x.dim() < 2 || x.size(0) < 1)
            throw new IllegalArgumentException("NTK: x must be a non-empty batch [N, ...], got " + (x == null ? "null" : Arrays.toString(x.shape())));
        if (chunk < 1) throw new IllegalArgumentException("NTK: chunk must be >= 1, got " + chunk);
        for (double v : x.toDoubleArray())
            if (!Double.isFinite(v)) throw new IllegalArgumentException("NTK: the inputs hold " + v + "; they must be finite");
        this.model = model;
        this.chunk = chunk;
        this.n = x.size(0);
        NtkNet nt = new NtkNet(model, masks, dtype, allParameters);
        Tensor xc = null;
        try {
            xc = MemoryScope.unscoped(() -> {
                try (GradMode g = GradMode.noGrad()) { return x.dtype() == dtype ? Ops.copy(x) : Ops.to(x, dtype); }
            });
            this.net = nt;
            this.x = xc;
            this.p = nt.size();
            try (EvalMode e = new EvalMode(model); MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
                this.k = (int) (model.forward(slice(0, 1), nt).numel());
            }
        } catch (RuntimeException e) {
            nt.close();
            if (xc != null) xc.close();
            throw e;
        }
    }

    public int samples() { return n; }

    /** K, the outputs per sample */
    public int outputs() { return k; }

    /** N * K */
    public int rows() { return n * k; }

    /** P, the parameter entries (pruned ones included; they are columns of zeros) */
    public long parameters() { return p; }

    /** the parameter entries that are parameters (not pruned) */
    public long keptParameters() { return net.kept; }

    public List<String> parameterNames() { return List.copyOf(net.names); }

    /** whether the network is one the PX path bound is a theorem for (no bias, batch norm or max pooling) */
    public boolean pathTheorem() { return net.pathTheorem; }

    public DType dtype() { return net.dtype; }

    /** samples [start, start + len) of x, in the current scope */
    private Tensor slice(int start, int len) {
        int[] s = x.shape();
        int per = (int) (x.numel() / n);
        s[0] = len;
        Tensor out = Tensor.zeros(x.dtype(), x.device(), s); // a copy on x's device, by x's backend
        Pointer src = x.ptr();
        src.position(src.position() + (long) start * per * x.dtype().size);
        out.backend().copy(src, out.ptr(), (long) len * per * x.dtype().size);
        return out;
    }

    private Tensor forward(Tensor xb) { return Ops.reshape(model.forward(xb, net), xb.size(0), k); }

    /** f(x_n)_k for every sample, row-major [N, K] */
    public double[] outputsAt() {
        double[] out = new double[rows()];
        try (EvalMode e = new EvalMode(model); GradMode g = GradMode.noGrad()) {
            for (int s = 0; s < n; s += chunk) {
                int nb = Math.min(chunk, n - s);
                try (MemoryScope sc = MemoryScope.open()) {
                    System.arraycopy(forward(slice(s, nb)).toDoubleArray(), 0, out, s * k, nb * k);
                }
            }
        }
        return out;
    }

    private Tensor hostTensor(double[] v, int from, int... shape) {
        int len = (int) Tensor.numel(shape);
        double[] part = Arrays.copyOfRange(v, from, from + len);
        Tensor t = Tensor.of(part, x.device(), shape); // on the model's device
        return net.dtype == DType.F64 ? t : Ops.to(t, net.dtype);
    }

    /** gradients (masked) of the leaves into out, accumulated */
    private void addMasked(Tensor[] grads, double[] out) {
        long off = 0;
        try (GradMode g = GradMode.noGrad()) {
            for (int i = 0; i < grads.length; i++) {
                Tensor gr = grads[i];
                if (net.masks.get(i) != null) gr = Ops.mul(gr, net.masks.get(i));
                double[] v = gr.toDoubleArray();
                for (int j = 0; j < v.length; j++) out[(int) (off + j)] += v[j];
                off += v.length;
            }
        }
    }

    private void checkLength(String op, double[] v, long len) {
        if (v.length != len) throw new IllegalArgumentException(op + ": vector of length " + v.length + ", expected " + len);
    }

    /** J^T u for u of length N*K: a vector over the parameters (0 at pruned entries) */
    public double[] vjp(double[] u) {
        checkLength("vjp", u, rows());
        double[] out = new double[Math.toIntExact(p)];
        try (EvalMode e = new EvalMode(model); GradMode g = GradMode.set(true)) {
            for (int s = 0; s < n; s += chunk) {
                int nb = Math.min(chunk, n - s);
                try (MemoryScope sc = MemoryScope.open()) {
                    Tensor f = forward(slice(s, nb));
                    Tensor r = Ops.sum(Ops.mul(f, hostTensor(u, s * k, nb, k)));
                    addMasked(Autograd.grad(r, net.leaves, false), out);
                }
            }
        }
        return out;
    }

    /** J v for v over the parameters (its pruned entries are ignored), by double backward */
    public double[] jvp(double[] v) {
        checkLength("jvp", v, p);
        double[] out = new double[rows()];
        try (EvalMode e = new EvalMode(model); GradMode g = GradMode.set(true)) {
            for (int s = 0; s < n; s += chunk) {
                int nb = Math.min(chunk, n - s);
                try (MemoryScope sc = MemoryScope.open()) {
                    Tensor u = Tensor.zeros(net.dtype, x.device(), nb, k).requiresGrad(true);
                    Tensor f = forward(slice(s, nb));
                    Tensor[] gu = Autograd.grad(Ops.sum(Ops.mul(f, u)), net.leaves, true);
                    Tensor dot = null;
                    long off = 0;
                    for (int i = 0; i < gu.length; i++) {
                        Tensor vi = hostTensor(v, (int) off, net.leaves.get(i).shape());
                        off += vi.numel();
                        if (net.masks.get(i) != null) {
                            try (GradMode ng = GradMode.noGrad()) { vi = Ops.mul(vi, net.masks.get(i)); }
                        }
                        if (!gu[i].requiresGrad()) continue; // f does not depend on this leaf: a zero column
                        Tensor term = Ops.sum(Ops.mul(gu[i], vi));
                        dot = dot == null ? term : Ops.add(dot, term);
                    }
                    if (dot == null) continue; // J = 0
                    Tensor ju = Autograd.grad(dot, List.of(u), false)[0];
                    System.arraycopy(ju.toDoubleArray(), 0, out, s * k, nb * k);
                }
            }
        }
        return out;
    }

    /** Theta v = J J^T v for v of length N*K */
    public double[] apply(double[] v) { return jvp(vjp(v)); }

    /** row r = n*K + k of J: the gradient of f_k(x_n), masked (batch 1, one backward) */
    public double[] row(int r) {
        if (r < 0 || r >= rows()) throw new IllegalArgumentException("row " + r + " outside 0.." + (rows() - 1));
        double[] out = new double[Math.toIntExact(p)];
        try (EvalMode e = new EvalMode(model); GradMode g = GradMode.set(true); MemoryScope sc = MemoryScope.open()) {
            Tensor f = forward(slice(r / k, 1));
            Tensor fk = Ops.pick(f, Tensor.ofInts(new int[] {r % k}, 1).to(f.device()));
            addMasked(Autograd.grad(Ops.sum(fk), net.leaves, false), out);
        }
        return out;
    }

    /** receives each row of J as a native tensor of the leaves' gradients (masked), valid during the call */
    interface RowSink { void accept(int row, Tensor[] grads); }

    /** every row of J, sample by sample: one forward at batch 1, then one backward per output */
    void rows(RowSink sink, java.io.PrintStream progress, String label) {
        long t0 = System.nanoTime(), last = t0;
        try (EvalMode e = new EvalMode(model); GradMode g = GradMode.set(true)) {
            for (int s = 0; s < n; s++) {
                try (MemoryScope sc = MemoryScope.open()) {
                    Tensor f = forward(slice(s, 1));
                    for (int o = 0; o < k; o++) {
                        try (MemoryScope so = MemoryScope.open()) {
                            Tensor[] gr = Autograd.grad(Ops.sum(Ops.pick(f, Tensor.ofInts(new int[] {o}, 1).to(f.device()))), net.leaves, false);
                            try (GradMode ng = GradMode.noGrad()) {
                                for (int i = 0; i < gr.length; i++) if (net.masks.get(i) != null) gr[i] = Ops.mul(gr[i], net.masks.get(i));
                            }
                            sink.accept(s * k + o, gr);
                        }
                    }
                }
                long now = System.nanoTime();
                if (progress != null && (now - last > 5e9 || s == n - 1) && n > 1) {
                    progress.printf(java.util.Locale.ROOT, "[ntk %s] per-sample gradients: %d/%d samples, %.1fs%n", label, s + 1, n, (now - t0) / 1e9);
                    last = now;
                }
            }
        }
    }

    /** the exact trace: the sum over rows of ||row||^2 */
    public double trace() { return trace(null, ""); }

    double trace(java.io.PrintStream progress, String label) {
        double[] t = {0};
        rows((r, gr) -> {
            for (Tensor g : gr) t[0] += Ops.sum(Ops.square(g)).item();
        }, progress, label);
        return t[0];
    }

    /** the explicit N*K x N*K kernel J J^T (J held as one native N*K x P matrix) and its trace */
    public double[][] kernel() { return kernel(null, ""); }

    double[][] kernel(java.io.PrintStream progress, String label) {
        int rows = rows();
        try (MemoryScope sc = MemoryScope.open()) {
            Tensor jm = Tensor.zeros(net.dtype, x.device(), rows, Math.toIntExact(p)); // beside the gradients it gathers
            long rowBytes = p * net.dtype.size;
            rows((r, gr) -> {
                Pointer base = jm.ptr();
                long off = base.position() + r * rowBytes;
                for (Tensor g : gr) {
                    long b = g.numel() * net.dtype.size;
                    Pointer dst = new Pointer(base).position(off);
                    jm.backend().copy(g.ptr(), dst, b);
                    off += b;
                }
            }, progress, label);
            double[] th;
            try (GradMode g = GradMode.noGrad()) { th = Ops.matmul(jm, jm, false, true).toDoubleArray(); }
            double[][] out = new double[rows][rows];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < rows; j++) out[i][j] = 0.5 * (th[i * rows + j] + th[j * rows + i]); // exactly symmetric
            }
            return out;
        }
    }

    @Override public void close() {
        net.close();
        x.close();
    }
}
