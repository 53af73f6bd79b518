package pxprune.core;

import java.util.Arrays;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import pxprune.kernels.Backend;
import pxprune.kernels.Backends;
import pxprune.kernels.DType;
import pxprune.kernels.Device;

/**
 * A dense, contiguous n-dimensional array in a native buffer (float32, float64 or int32 indices),
 * with reverse-mode autograd. Memory: see {@link MemoryScope}; {@link #close()} frees it now.
 * Ops are in {@link Ops}; the common ones are mirrored here as methods.
 */
public final class Tensor implements AutoCloseable {
    private final Storage storage;
    private final long offset; // in elements
    private final int[] shape;
    private final int[] strides;
    private final DType dtype;
    private boolean requiresGrad;
    private boolean closed;
    /** gradient accumulated by backward() for leaves; owned by this tensor */
    private Tensor grad;
    Node gradFn;
    MemoryScope scope;

    private Tensor(Storage storage, long offset, DType dtype, int[] shape) {
        this.storage = storage;
        this.offset = offset;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.strides = contiguousStrides(shape);
        MemoryScope.register(this);
    }

    // ------------------------------------------------------------------ creation
    public static Tensor zeros(DType dtype, Device device, int... shape) { return alloc(dtype, device, true, shape); }

    /** a tensor whose values are undefined until written (op outputs) */
    public static Tensor uninitialized(DType dtype, Device device, int... shape) { return alloc(dtype, device, false, shape); }

    private static Tensor alloc(DType dtype, Device device, boolean zeroed, int[] shape) {
        checkShape(shape);
        Backend b = Backends.of(device);
        return new Tensor(new Storage(b, Math.max(1, numel(shape)) * dtype.size, zeroed), 0, dtype, shape);
    }

    public static Tensor zeros(DType dtype, int... shape) { return zeros(dtype, Device.CPU, shape); }

    public static Tensor zerosLike(Tensor t) { return zeros(t.dtype, t.device(), t.shape); }

    /** a tensor of dtype filled with value, on the CPU */
    public static Tensor full(DType dtype, double value, int... shape) { return full(dtype, value, Device.CPU, shape); }

    /** a tensor of dtype filled with value, on device */
    public static Tensor full(DType dtype, double value, Device device, int... shape) {
        Tensor t = zeros(dtype, device, shape);
        if (value != 0) t.backend().unary(dtype, pxprune.kernels.OpCodes.U_AFFINE, t.ptr(), t.numel(), 0, value, t.ptr());
        return t;
    }

    public static Tensor ones(DType dtype, int... shape) { return full(dtype, 1, shape); }

    public static Tensor ones(DType dtype, Device device, int... shape) { return full(dtype, 1, device, shape); }

    public static Tensor scalar(DType dtype, double v) { return full(dtype, v); }

    /** a 0-dimensional tensor holding v, on device */
    public static Tensor scalar(DType dtype, double v, Device device) { return full(dtype, v, device); }

    /** F32 values (copied) on the CPU */
    public static Tensor of(float[] data, int... shape) { return of(data, Device.CPU, shape); }

    /** F32 values (copied) on device: one upload */
    public static Tensor of(float[] data, Device device, int... shape) {
        check(data.length, shape);
        Tensor t = uninitialized(DType.F32, device, shape);
        t.backend().upload(data, t.ptr());
        return t;
    }

    /** F64 values (copied) on the CPU */
    public static Tensor of(double[] data, int... shape) { return of(data, Device.CPU, shape); }

    /** F64 values (copied) on device: one upload */
    public static Tensor of(double[] data, Device device, int... shape) {
        check(data.length, shape);
        Tensor t = uninitialized(DType.F64, device, shape);
        t.backend().upload(data, t.ptr());
        return t;
    }

    /** I32 values (indices, labels; copied) on the CPU */
    public static Tensor ofInts(int[] data, int... shape) { return ofInts(data, Device.CPU, shape); }

    /** I32 values (copied) on device: one upload */
    public static Tensor ofInts(int[] data, Device device, int... shape) {
        check(data.length, shape);
        Tensor t = uninitialized(DType.I32, device, shape);
        t.backend().upload(data, t.ptr());
        return t;
    }

    /** U8 values (flags; copied) on the CPU */
    public static Tensor ofBytes(byte[] data, int... shape) { return ofBytes(data, Device.CPU, shape); }

    /** U8 values (copied) on device: one upload */
    public static Tensor ofBytes(byte[] data, Device device, int... shape) {
        check(data.length, shape);
        Tensor t = uninitialized(DType.U8, device, shape);
        if (data.length > 0)
            try (BytePointer host = new BytePointer(data.length)) {
                host.put(data, 0, data.length);
                t.backend().uploadFrom(host, t.ptr(), data.length);
            }
        return t;
    }

    private static void check(int n, int[] shape) {
        checkShape(shape);
        if (numel(shape) != n)
            throw new IllegalArgumentException(n + " values do not fill shape " + Arrays.toString(shape));
    }

    /**
     * every size >= 0 and at most Integer.MAX_VALUE elements in all: strides, views and the kernels
     * index with int
     */
    private static void checkShape(int[] shape) {
        for (int s : shape)
            if (s < 0) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative size " + s
                    + "; sizes must be >= 0");
        long n = numel(shape);
        if (n > Integer.MAX_VALUE)
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + n + " elements, more than the "
                    + Integer.MAX_VALUE + " a tensor may hold (indices are int); split it");
    }

    static int[] contiguousStrides(int[] shape) {
        int[] st = new int[shape.length];
        int s = 1;
        for (int d = shape.length - 1; d >= 0; d--) { st[d] = s; s *= shape[d]; }
        return st;
    }

    /** the number of elements of a shape (Long.MAX_VALUE when that does not fit a long) */
    public static long numel(int[] shape) {
        long n = 1;
        boolean overflow = false;
        for (int s : shape) {
            if (s == 0) return 0;
            if (overflow) continue;
            if (s > 0 && n > Long.MAX_VALUE / s) overflow = true;
            else n *= s;
        }
        return overflow ? Long.MAX_VALUE : n;
    }

    // ------------------------------------------------------------------ accessors
    public int[] shape() { return shape.clone(); }
    int[] shapeRef() { return shape; }
    public int[] strides() { return strides.clone(); }
    public int dim() { return shape.length; }
    /** the size of dim d (negative counts from the end) */
    public int size(int d) { return shape[Checks.dim("size", d, shape.length)]; }
    public long numel() { return numel(shape); }
    public DType dtype() { return dtype; }
    public Device device() { return storage.backend.device(); }
    public Backend backend() { return storage.backend; }
    public boolean isClosed() { return closed || storage.freed(); }

    /** how often this tensor's buffer was reused for a new result (see Node's version check) */
    int version() { return storage.version(); }

    void bumpVersion() { storage.bumpVersion(); }

    /** whether a view shares this tensor's buffer */
    boolean sharesStorage() { return storage.shared(); }

    boolean sameStorage(Tensor o) { return storage == o.storage; }

    /** the data as a byte-positioned pointer (valid while this tensor is open) */
    public Pointer ptr() {
        if (closed) throw new IllegalStateException("tensor " + Arrays.toString(shape) + " is closed");
        return new Pointer(storage.pointer()).position(offset * dtype.size);
    }

    public boolean requiresGrad() { return requiresGrad; }

    /** marks a leaf as needing gradients; returns this */
    public Tensor requiresGrad(boolean r) {
        if (r && dtype.code < 0) throw new IllegalArgumentException("integer tensors cannot require gradients");
        requiresGrad = r;
        return this;
    }

    void setRequiresGrad(boolean r) { requiresGrad = r; }

    public boolean isLeaf() { return gradFn == null; }

    public Tensor grad() { return grad; }

    /** replaces the accumulated gradient (closing the old one) */
    public void setGrad(Tensor g) {
        if (grad != null && grad != g) grad.close();
        grad = g;
    }

    public void zeroGrad() { setGrad(null); }

    // ------------------------------------------------------------------ host transfer
    public float[] toFloatArray() {
        if (dtype == DType.F32) {
            float[] a = new float[(int) numel()];
            backend().download(ptr(), a);
            return a;
        }
        double[] d = toDoubleArray();
        float[] a = new float[d.length];
        for (int i = 0; i < d.length; i++) a[i] = (float) d[i];
        return a;
    }

    public double[] toDoubleArray() {
        double[] a = new double[(int) numel()];
        switch (dtype) {
            case F64 -> backend().download(ptr(), a);
            case F32 -> { float[] f = toFloatArray(); for (int i = 0; i < f.length; i++) a[i] = f[i]; }
            case I32 -> { int[] f = toIntArray(); for (int i = 0; i < f.length; i++) a[i] = f[i]; }
            case U8 -> { byte[] f = toByteArray(); for (int i = 0; i < f.length; i++) a[i] = f[i] & 0xff; }
        }
        return a;
    }

    /** the values of a U8 tensor, one download */
    public byte[] toByteArray() {
        if (dtype != DType.U8) throw new IllegalStateException("toByteArray needs a U8 tensor, this is " + dtype);
        byte[] a = new byte[(int) numel()];
        if (a.length > 0)
            try (BytePointer host = new BytePointer(a.length)) {
                backend().downloadTo(ptr(), host, a.length);
                host.get(a, 0, a.length);
            }
        return a;
    }

    public int[] toIntArray() {
        if (dtype != DType.I32) throw new IllegalStateException("toIntArray needs an I32 tensor, this is " + dtype);
        int[] a = new int[(int) numel()];
        backend().download(ptr(), a);
        return a;
    }

    /** the single value of a one-element tensor */
    public double item() {
        if (numel() != 1) throw new IllegalStateException("item() needs one element, shape is " + Arrays.toString(shape));
        return toDoubleArray()[0];
    }

    // ------------------------------------------------------------------ views
    /** a view with another shape over the same storage (one dim may be -1) */
    public Tensor view(int... newShape) {
        int[] s = newShape.clone();
        int infer = -1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("view: only one dimension may be -1, got "
                        + Arrays.toString(newShape));
                infer = i;
            } else if (s[i] < 0)
                throw new IllegalArgumentException("view: size " + s[i] + " in " + Arrays.toString(newShape)
                        + " is negative; sizes must be >= 0 (or -1 for one inferred dim)");
        }
        if (infer >= 0) {
            s[infer] = 1;
            long known = numel(s);
            if (known == 0)
                throw new IllegalArgumentException("view: cannot infer the -1 in " + Arrays.toString(newShape) + " for "
                        + Arrays.toString(shape) + ": with a 0 size beside it, it could be any value; give it explicitly");
            if (numel() % known != 0)
                throw new IllegalArgumentException("view: " + Arrays.toString(shape) + " (" + numel() + " elements) cannot be viewed as "
                        + Arrays.toString(newShape) + ": " + numel() + " is not a multiple of " + known);
            s[infer] = (int) (numel() / known);
        }
        if (numel(s) != numel())
            throw new IllegalArgumentException("view: " + Arrays.toString(shape) + " (" + numel() + " elements) cannot be viewed as "
                    + Arrays.toString(newShape) + " (" + (numel(s) == Long.MAX_VALUE ? "overflowing" : numel(s))
                    + " elements); the counts must be equal");
        storage.retain();
        return new Tensor(storage, offset, dtype, s);
    }

    /** a view that shares the data but not the graph */
    public Tensor detach() { return view(shape); }

    // ------------------------------------------------------------------ autograd
    /** gradients of this scalar w.r.t. every leaf that requires them, accumulated into their grad() */
    public void backward() { Autograd.backward(this, null); }

    /**
     * {@link #backward()} that frees the graph's intermediate results as soon as the backward has
     * used them (PyTorch's default, retain_graph=False): afterwards only this tensor, the tensors in
     * keep, leaves (parameters, inputs) and tensors made outside the graph remain usable; the graph
     * cannot be walked again. A training step's peak memory then stays near the forward pass's.
     */
    public void backwardAndFree(Tensor... keep) { Autograd.backwardAndFree(this, keep); }

    public void backward(Tensor seed) { Autograd.backward(this, seed); }

    // ------------------------------------------------------------------ op shortcuts
    public Tensor add(Tensor o) { return Ops.add(this, o); }
    public Tensor sub(Tensor o) { return Ops.sub(this, o); }
    public Tensor mul(Tensor o) { return Ops.mul(this, o); }
    public Tensor div(Tensor o) { return Ops.div(this, o); }
    public Tensor mul(double a) { return Ops.affine(this, a, 0); }
    public Tensor add(double b) { return Ops.affine(this, 1, b); }
    public Tensor neg() { return Ops.affine(this, -1, 0); }
    public Tensor square() { return Ops.square(this); }
    public Tensor abs() { return Ops.abs(this); }
    public Tensor sqrt() { return Ops.sqrt(this); }
    public Tensor exp() { return Ops.exp(this); }
    public Tensor log() { return Ops.log(this); }
    public Tensor relu() { return Ops.relu(this); }
    public Tensor sum() { return Ops.sum(this); }
    public Tensor sum(boolean keepDim, int... dims) { return Ops.sum(this, keepDim, dims); }
    public Tensor mean() { return Ops.mean(this); }
    public Tensor reshape(int... s) { return Ops.reshape(this, s); }
    public Tensor flatten(int startDim) { return Ops.flatten(this, startDim); }
    public Tensor to(DType t) { return Ops.to(this, t); }
    public Tensor to(Device d) { return Ops.to(this, d); }

    /**
     * gives up this tensor's hold on its buffer, which another tensor took over (Ops.reluReusing):
     * the tensor can no longer be read, but stays in the graph (its gradFn) for the backward
     */
    void retire() {
        if (closed) return;
        closed = true;
        storage.release();
    }

    /** frees the buffer now (if no view shares it) and the accumulated gradient */
    @Override public void close() {
        if (closed) return;
        closed = true;
        gradFn = null;
        storage.release();
        if (grad != null) { grad.close(); grad = null; }
    }

    @Override public String toString() {
        StringBuilder sb = new StringBuilder("Tensor(").append(dtype).append(Arrays.toString(shape));
        if (!isClosed() && numel() <= 16 && dtype != DType.I32) sb.append(' ').append(Arrays.toString(toDoubleArray()));
        return sb.append(')').toString();
    }
}
