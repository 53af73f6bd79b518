package pxprune.core;

import static pxprune.kernels.OpCodes.*;

import java.util.Arrays;
import pxprune.kernels.Backend;
import pxprune.kernels.ConvGeometry;
import pxprune.kernels.DType;
import pxprune.kernels.Device;
import pxprune.kernels.KeptWeights;
import pxprune.kernels.PoolGeometry;

/**
 * The differentiable operations. Each computes its result through the tensor's backend and, when
 * grad mode is on and an input requires a gradient, records a {@link Node} whose backward is
 * written with these same ops (so gradients of gradients work).
 */
public final class Ops {
    private Ops() {}

    // ------------------------------------------------------------------ plumbing
    private static boolean recording(Tensor... in) {
        if (!GradMode.isEnabled()) return false;
        for (Tensor t : in) if (t != null && t.requiresGrad()) return true;
        return false;
    }

    private static Tensor record(Tensor out, Node n) {
        if (recording(n.inputs)) {
            out.gradFn = n;
            n.output = out;
            out.setRequiresGrad(true);
        }
        return out;
    }

    /**
     * whether x's buffer may hold a new result computed from it: x is no parameter (a leaf that
     * requires a gradient), no view shares the buffer, and the op that made x does not read its
     * output in its backward. That nothing else uses x is the caller's promise (checked in
     * backward for the ops that read their inputs: Node.checkVersions).
     */
    private static boolean reusable(Tensor x) {
        return !(x.isLeaf() && x.requiresGrad()) && !x.sharesStorage() && (x.gradFn == null || !x.gradFn.readsOutput());
    }

    /** an output buffer the kernel overwrites entirely */
    private static Tensor empty(Tensor like, int... shape) { return Tensor.uninitialized(like.dtype(), like.device(), shape); }

    /** an output buffer the kernel accumulates into */
    private static Tensor zeros(Tensor like, int... shape) { return Tensor.zeros(like.dtype(), like.device(), shape); }

    private static Backend be(Tensor t) { return t.backend(); }

    // ------------------------------------------------------------------ broadcasting binary ops
    static int[] broadcastShape(int[] a, int[] b, String op) {
        int nd = Math.max(a.length, b.length);
        int[] s = new int[nd];
        for (int i = 0; i < nd; i++) {
            int da = i - (nd - a.length) >= 0 ? a[i - (nd - a.length)] : 1;
            int db = i - (nd - b.length) >= 0 ? b[i - (nd - b.length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new IllegalArgumentException(op + ": shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                        + " do not broadcast");
            s[i] = Math.max(da, db);
        }
        return s;
    }

    /** element strides of a tensor of shape s read as the (broadcast) shape out */
    static int[] broadcastStrides(int[] s, int[] out) {
        int[] st = Tensor.contiguousStrides(s);
        int[] r = new int[out.length];
        int off = out.length - s.length;
        for (int i = 0; i < out.length; i++) r[i] = i < off || s[i - off] == 1 ? 0 : st[i - off];
        return r;
    }

    private static Tensor binaryRaw(int op, Tensor a, Tensor b, String name) {
        Checks.sameType(name, a, b);
        Checks.floating(name, "input", a);
        int[] s = broadcastShape(a.shapeRef(), b.shapeRef(), name);
        Tensor out = empty(a, s);
        be(a).binary(a.dtype(), op, a.ptr(), broadcastStrides(a.shapeRef(), s), b.ptr(), broadcastStrides(b.shapeRef(), s),
                s, out.ptr());
        return out;
    }

    public static Tensor add(Tensor a, Tensor b) { return record(binaryRaw(B_ADD, a, b, "add"), addNode(a, b)); }

    /**
     * a + b written over a's buffer, for an a that nothing else uses (a batch norm's output in a
     * residual block): saves the memory of one activation. a is closed (using it afterwards fails). Falls back
     * to {@link #add} where a's buffer cannot take the result (b broadcasts a, or a is not reusable:
     * a parameter, a view, or made by an op that reads its output).
     */
    public static Tensor addReusing(Tensor a, Tensor b) {
        Checks.sameType("addReusing", a, b);
        Checks.floating("addReusing", "input", a);
        int[] s = broadcastShape(a.shapeRef(), b.shapeRef(), "addReusing");
        if (!Arrays.equals(s, a.shapeRef()) || !reusable(a) || a.sameStorage(b)) return add(a, b);
        be(a).binary(a.dtype(), B_ADD, a.ptr(), Tensor.contiguousStrides(s), b.ptr(), broadcastStrides(b.shapeRef(), s), s, a.ptr());
        return record(takeOver(a), addNode(a, b));
    }

    /**
     * the result of an op that wrote over x's buffer: a new tensor on that buffer, and x retired (its
     * buffer lives on in the result), so that using x afterwards fails at once and the result's buffer
     * is not shared, hence reusable in turn; the buffer's version is bumped for Node.checkVersions
     */
    private static Tensor takeOver(Tensor x) {
        x.bumpVersion();
        Tensor out = x.view(x.shapeRef());
        x.retire();
        return out;
    }

    private static Node addNode(Tensor a, Tensor b) {
        return new Node("add", a, b) {
            @Override boolean readsInputs() { return false; }

            Tensor[] backward(Tensor gy) {
                return new Tensor[] {needs(0) ? sumTo(gy, a.shapeRef()) : null, needs(1) ? sumTo(gy, b.shapeRef()) : null};
            }
        };
    }

    public static Tensor sub(Tensor a, Tensor b) {
        Tensor out = binaryRaw(B_SUB, a, b, "sub");
        return record(out, new Node("sub", a, b) {
            @Override boolean readsInputs() { return false; }

            Tensor[] backward(Tensor gy) {
                return new Tensor[] {needs(0) ? sumTo(gy, a.shapeRef()) : null,
                        needs(1) ? affine(sumTo(gy, b.shapeRef()), -1, 0) : null};
            }
        });
    }

    public static Tensor mul(Tensor a, Tensor b) {
        Tensor out = binaryRaw(B_MUL, a, b, "mul");
        return record(out, new Node("mul", a, b) {
            Tensor[] backward(Tensor gy) {
                return new Tensor[] {needs(0) ? sumTo(mul(gy, b), a.shapeRef()) : null,
                        needs(1) ? sumTo(mul(gy, a), b.shapeRef()) : null};
            }
        });
    }

    public static Tensor div(Tensor a, Tensor b) {
        Tensor out = binaryRaw(B_DIV, a, b, "div");
        return record(out, new Node("div", a, b) {
            Tensor[] backward(Tensor gy) {
                Tensor ga = needs(0) || needs(1) ? div(gy, b) : null;
                return new Tensor[] {needs(0) ? sumTo(ga, a.shapeRef()) : null,
                        needs(1) ? sumTo(affine(mul(ga, div(a, b)), -1, 0), b.shapeRef()) : null};
            }
        });
    }

    /** gy where x > 0, else 0 (ReLU's backward); differentiable in gy only */
    public static Tensor maskPositive(Tensor gy, Tensor x) {
        Tensor out = binaryRaw(B_GTMASK, gy, x, "maskPositive");
        return record(out, new Node("maskPositive", gy, null) {
            Tensor[] backward(Tensor g) { return new Tensor[] {maskPositive(g, x), null}; }
        });
    }

    /** In place: dst += src (no autograd; for gradient accumulation and optimizers). */
    public static void addInPlace(Tensor dst, Tensor src) { inPlace(B_ADD, dst, src, "addInPlace"); }

    /** In place: dst *= src (no autograd; applying masks). */
    public static void mulInPlace(Tensor dst, Tensor src) { inPlace(B_MUL, dst, src, "mulInPlace"); }

    /** dst = dst op src, src broadcast to dst's shape (never the other way: dst's buffer cannot grow) */
    private static void inPlace(int op, Tensor dst, Tensor src, String name) {
        Checks.sameType(name, dst, src);
        Checks.floating(name, "dst", dst);
        int[] s = dst.shapeRef();
        if (!Arrays.equals(broadcastShape(s, src.shapeRef(), name), s))
            throw Checks.fail(name, "src " + Checks.shape(src) + " does not broadcast to dst " + Arrays.toString(s)
                    + "; the result must keep dst's shape");
        be(dst).binary(dst.dtype(), op, dst.ptr(), Tensor.contiguousStrides(s), src.ptr(),
                broadcastStrides(src.shapeRef(), s), s, dst.ptr());
    }

    /** In place copy of src's values into dst (same number of elements; dtype converted between F32 and F64). */
    public static void copyInto(Tensor src, Tensor dst) {
        if (src.numel() != dst.numel())
            throw Checks.fail("copyInto", "src " + Checks.shape(src) + " has " + src.numel() + " elements but dst "
                    + Checks.shape(dst) + " has " + dst.numel() + "; they must be equal");
        if (src.device() != dst.device())
            throw Checks.fail("copyInto", "src is on " + src.device() + " but dst on " + dst.device()
                    + "; copy within one device");
        checkConversion("copyInto", src.dtype(), dst.dtype());
        if (src.dtype() == dst.dtype()) be(dst).copy(src.ptr(), dst.ptr(), src.numel() * src.dtype().size);
        else be(dst).convert(src.dtype(), src.ptr(), dst.dtype(), dst.ptr(), src.numel());
    }

    /** a fresh copy, not connected to the graph */
    public static Tensor copy(Tensor t) {
        Tensor out = empty(t, t.shapeRef());
        be(t).copy(t.ptr(), out.ptr(), t.numel() * t.dtype().size);
        return out;
    }

    // ------------------------------------------------------------------ reductions and broadcasting
    /** sums t down to shape (t's shape broadcast from it) */
    public static Tensor sumTo(Tensor t, int[] shape) {
        if (Arrays.equals(t.shapeRef(), shape)) return t;
        Checks.floating("sumTo", "input", t);
        int[] in = t.shapeRef();
        if (!Arrays.equals(broadcastShape(in, shape, "sumTo"), in))
            throw new IllegalArgumentException("sumTo: " + Arrays.toString(in) + " cannot be summed to " + Arrays.toString(shape));
        Tensor out = zeros(t, shape);
        be(t).reduceSum(t.dtype(), t.ptr(), in, broadcastStrides(shape, in), out.numel(), out.ptr());
        return record(out, new Node("sumTo", t) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {expand(gy, in)}; }
        });
    }

    /** broadcasts t to shape */
    public static Tensor expand(Tensor t, int[] shape) {
        if (Arrays.equals(t.shapeRef(), shape)) return t;
        Checks.floating("expand", "input", t);
        int[] s = broadcastShape(t.shapeRef(), shape, "expand");
        if (!Arrays.equals(s, shape)) throw new IllegalArgumentException("expand: " + Arrays.toString(t.shapeRef())
                + " does not broadcast to " + Arrays.toString(shape));
        Tensor out = empty(t, shape);
        Tensor zero = Tensor.zeros(t.dtype(), t.device());
        be(t).binary(t.dtype(), B_ADD, t.ptr(), broadcastStrides(t.shapeRef(), shape), zero.ptr(), new int[shape.length],
                shape, out.ptr());
        zero.close();
        int[] src = t.shapeRef();
        return record(out, new Node("expand", t) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {sumTo(gy, src)}; }
        });
    }

    public static Tensor sum(Tensor t) { return reshape(sumTo(t, ones(t.dim())), new int[0]); }

    /** sum over dims (negative counts from the end) */
    public static Tensor sum(Tensor t, boolean keepDim, int... dims) { return sum(t, keepDim, dims, "sum"); }

    private static Tensor sum(Tensor t, boolean keepDim, int[] dims, String op) {
        int[] s = t.shape();
        boolean[] red = new boolean[s.length];
        for (int d : dims) {
            int i = Checks.dim(op, d, s.length);
            if (red[i]) throw Checks.fail(op, "dim " + d + " appears more than once in " + Arrays.toString(dims));
            red[i] = true;
        }
        int[] kept = s.clone();
        int nk = 0;
        for (int i = 0; i < s.length; i++) if (red[i]) kept[i] = 1; else nk++;
        Tensor r = sumTo(t, kept);
        if (keepDim) return r;
        int[] squeezed = new int[nk];
        for (int i = 0, j = 0; i < s.length; i++) if (!red[i]) squeezed[j++] = s[i];
        return reshape(r, squeezed);
    }

    public static Tensor mean(Tensor t) { return affine(sum(t), 1.0 / t.numel(), 0); }

    public static Tensor mean(Tensor t, boolean keepDim, int... dims) {
        Tensor s = sum(t, keepDim, dims, "mean"); // checks dims
        long n = 1;
        for (int d : dims) n *= t.size(d);
        return affine(s, 1.0 / n, 0);
    }

    private static int[] ones(int n) { int[] o = new int[n]; Arrays.fill(o, 1); return o; }

    // ------------------------------------------------------------------ unary
    private static Tensor unaryRaw(int op, Tensor x, double a, double b, String name) {
        Checks.floating(name, "input", x);
        Tensor out = empty(x, x.shapeRef());
        be(x).unary(x.dtype(), op, x.ptr(), x.numel(), a, b, out.ptr());
        return out;
    }

    /** x * a + b */
    public static Tensor affine(Tensor x, double a, double b) {
        Tensor out = unaryRaw(U_AFFINE, x, a, b, "affine");
        return record(out, new Node("affine", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {affine(gy, a, 0)}; }
        });
    }

    public static Tensor square(Tensor x) {
        Tensor out = unaryRaw(U_SQUARE, x, 0, 0, "square");
        return record(out, new Node("square", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {affine(mul(gy, x), 2, 0)}; }
        });
    }

    public static Tensor abs(Tensor x) {
        Tensor out = unaryRaw(U_ABS, x, 0, 0, "abs");
        return record(out, new Node("abs", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {mul(gy, sign(x))}; }
        });
    }

    /** sign(x), not differentiable (zero gradient) */
    public static Tensor sign(Tensor x) { return unaryRaw(U_SIGN, x, 0, 0, "sign"); }

    /** 1 where x > 0 else 0, not differentiable */
    public static Tensor step(Tensor x) { return unaryRaw(U_STEP, x, 0, 0, "step"); }

    public static Tensor sqrt(Tensor x) {
        Tensor out = unaryRaw(U_SQRT, x, 0, 0, "sqrt");
        return record(out, new Node("sqrt", x) {
            @Override boolean readsOutput() { return true; }

            Tensor[] backward(Tensor gy) { return new Tensor[] {affine(div(gy, out), 0.5, 0)}; }
        });
    }

    /** 1/sqrt(x) */
    public static Tensor rsqrt(Tensor x) {
        Tensor out = unaryRaw(U_RSQRT, x, 0, 0, "rsqrt");
        return record(out, new Node("rsqrt", x) {
            @Override boolean readsOutput() { return true; }

            Tensor[] backward(Tensor gy) { return new Tensor[] {affine(mul(gy, mul(out, mul(out, out))), -0.5, 0)}; }
        });
    }

    public static Tensor exp(Tensor x) {
        Tensor out = unaryRaw(U_EXP, x, 0, 0, "exp");
        return record(out, new Node("exp", x) {
            @Override boolean readsOutput() { return true; }

            Tensor[] backward(Tensor gy) { return new Tensor[] {mul(gy, out)}; }
        });
    }

    public static Tensor log(Tensor x) {
        Tensor out = unaryRaw(U_LOG, x, 0, 0, "log");
        return record(out, new Node("log", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {div(gy, x)}; }
        });
    }

    public static Tensor relu(Tensor x) {
        Tensor out = unaryRaw(U_RELU, x, 0, 0, "relu");
        return record(out, new Node("relu", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {maskPositive(gy, x)}; }
        });
    }

    /**
     * relu(x) written over x's buffer (torchvision's ReLU(inplace=True)), for an x that nothing else
     * uses (a batch norm's or a residual sum's output): saves the memory of one activation. x is
     * closed (using it afterwards fails). The backward reads the result (positive where x was). Falls back to
     * {@link #relu} where x is not reusable (a parameter, a view, or made by an op that reads its output).
     */
    public static Tensor reluReusing(Tensor x) {
        Checks.floating("reluReusing", "input", x);
        if (!reusable(x)) return relu(x);
        be(x).unary(x.dtype(), U_RELU, x.ptr(), x.numel(), 0, 0, x.ptr());
        Tensor out = takeOver(x);
        return record(out, new Node("relu", x) {
            @Override boolean readsOutput() { return true; }

            Tensor[] backward(Tensor gy) { return new Tensor[] {maskPositive(gy, out)}; }
        });
    }

    // ------------------------------------------------------------------ shape and type
    public static Tensor reshape(Tensor t, int... shape) {
        Tensor out = t.view(shape);
        int[] src = t.shapeRef();
        return record(out, new Node("reshape", t) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {reshape(gy, src)}; }
        });
    }

    /** merges dims startDim.. (negative counts from the end) into one */
    public static Tensor flatten(Tensor t, int startDim) {
        int[] s = t.shapeRef();
        if (s.length == 0) return reshape(t, 1);
        startDim = Checks.dim("flatten", startDim, s.length);
        int[] r = new int[startDim + 1];
        System.arraycopy(s, 0, r, 0, startDim);
        long p = 1;
        for (int i = startDim; i < s.length; i++) p *= s[i];
        r[startDim] = (int) p; // fits: p <= numel, which Tensor keeps within an int
        return reshape(t, r);
    }

    public static Tensor to(Tensor t, DType dtype) {
        if (t.dtype() == dtype) return reshape(t, t.shapeRef());
        checkConversion("to", t.dtype(), dtype);
        Tensor out = Tensor.zeros(dtype, t.device(), t.shapeRef());
        be(t).convert(t.dtype(), t.ptr(), dtype, out.ptr(), t.numel());
        DType src = t.dtype();
        return record(out, new Node("to", t) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {to(gy, src)}; }
        });
    }

    /**
     * t on another device: a copy (gradients flow back to t's device), or t itself (a view) when it is
     * there already. One side of every transfer is the CPU: a CUDA backend copies between its memory
     * and host memory ({@link Backend#uploadFrom}, {@link Backend#downloadTo}).
     */
    public static Tensor to(Tensor t, Device device) {
        if (t.device() == device) return reshape(t, t.shapeRef());
        Tensor out = Tensor.uninitialized(t.dtype(), device, t.shapeRef());
        long bytes = t.numel() * t.dtype().size;
        if (t.device() == Device.CPU) out.backend().uploadFrom(t.ptr(), out.ptr(), bytes);
        else if (device == Device.CPU) be(t).downloadTo(t.ptr(), out.ptr(), bytes);
        else {
            try (Tensor host = to(t.detach(), Device.CPU)) {
                out.backend().uploadFrom(host.ptr(), out.ptr(), bytes);
            }
        }
        Device src = t.device();
        return record(out, new Node("to", t) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {to(gy, src)}; }
        });
    }

    /** the kernels convert between F32 and F64 only; I32 (indices) and U8 (flags) are never converted */
    private static void checkConversion(String op, DType from, DType to) {
        if (from != to && (from.code < 0 || to.code < 0)) {
            DType odd = from.code < 0 ? from : to;
            throw Checks.fail(op, "cannot convert " + from + " to " + to + "; " + odd + " tensors hold "
                    + (odd == DType.U8 ? "flags" : "indices") + " and convert to nothing");
        }
    }

    // ------------------------------------------------------------------ matrix product and linear
    /** op(a) @ op(b) for 2-D a, b, with op = transpose when the flag is set */
    public static Tensor matmul(Tensor a, Tensor b, boolean ta, boolean tb) {
        Checks.sameType("matmul", a, b);
        Checks.floating("matmul", "input", a);
        if (a.dim() != 2 || b.dim() != 2) throw new IllegalArgumentException("matmul takes 2-D tensors, got "
                + Arrays.toString(a.shapeRef()) + " and " + Arrays.toString(b.shapeRef()));
        int m = ta ? a.size(1) : a.size(0), k = ta ? a.size(0) : a.size(1);
        int kb = tb ? b.size(1) : b.size(0), n = tb ? b.size(0) : b.size(1);
        if (k != kb) throw new IllegalArgumentException("matmul: inner dimensions differ: " + Arrays.toString(a.shapeRef())
                + (ta ? "^T" : "") + " @ " + Arrays.toString(b.shapeRef()) + (tb ? "^T" : ""));
        Tensor out = k == 0 ? zeros(a, m, n) : empty(a, m, n);
        if (m > 0 && n > 0 && k > 0)
            be(a).gemm(a.dtype(), ta, tb, m, n, k, 1, a.ptr(), a.size(1), b.ptr(), b.size(1), 0, out.ptr(), n);
        return record(out, new Node("matmul", a, b) {
            Tensor[] backward(Tensor g) {
                Tensor ga = !needs(0) ? null : ta ? matmul(b, g, tb, true) : matmul(g, b, false, !tb);
                Tensor gb = !needs(1) ? null : tb ? matmul(g, a, true, ta) : matmul(a, g, !ta, false);
                return new Tensor[] {ga, gb};
            }
        });
    }

    /** x [n, in] @ w^T [in, out] + b */
    public static Tensor linear(Tensor x, Tensor w, Tensor b) {
        Checks.dims("linear", "weight", w, "[out, in]", 2);
        if (x.dim() != 2 || x.size(1) != w.size(1))
            throw Checks.fail("linear", "input " + Checks.shape(x) + " does not fit weight " + Checks.shape(w)
                    + "; it must be [batch, " + w.size(1) + "]");
        Checks.sameType("linear", x, w);
        Checks.vector("linear", "bias", b, w.size(0), "one per output feature", x);
        Tensor y = matmul(x, w, false, true);
        return b == null ? y : add(y, b);
    }

    // ------------------------------------------------------------------ convolution
    /** the geometry of conv2d(x, w), after checking the tensors' shapes (ConvGeometry checks the numbers) */
    public static ConvGeometry convGeometry(Tensor x, Tensor w, int stride, int padding, int groups) {
        return convGeometry(x, w, stride, padding, 1, groups);
    }

    /** the geometry of a dilated conv2d(x, w) (PyTorch's Conv2d dilation), after checking the tensors' shapes */
    public static ConvGeometry convGeometry(Tensor x, Tensor w, int stride, int padding, int dilation, int groups) {
        Checks.dims("conv2d", "input", x, "[N, C, H, W]", 4);
        Checks.dims("conv2d", "weight", w, "[out_channels, in_channels/groups, kh, kw]", 4);
        Checks.atLeast("conv2d", "groups", groups, 1);
        if ((long) x.size(1) != (long) w.size(1) * groups)
            throw new IllegalArgumentException("conv2d: input has " + x.size(1) + " channels, weight "
                    + Arrays.toString(w.shapeRef()) + " with groups=" + groups + " expects " + w.size(1) * groups);
        return new ConvGeometry(x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), w.size(2), w.size(3), stride, stride,
                padding, padding, dilation, dilation, groups);
    }

    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding, int groups) {
        return conv2d(x, w, bias, stride, padding, 1, groups);
    }

    /** PyTorch's conv2d(x, w, bias, stride, padding, dilation, groups) with square stride, padding and dilation */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding, int dilation, int groups) {
        Checks.sameType("conv2d", x, w);
        Checks.floating("conv2d", "input", x);
        ConvGeometry g = convGeometry(x, w, stride, padding, dilation, groups);
        Checks.vector("conv2d", "bias", bias, g.k(), "one per output channel", x);
        return conv2d(x, w, bias, g);
    }

    static Tensor conv2d(Tensor x, Tensor w, Tensor bias, ConvGeometry g) {
        Tensor out = empty(x, g.n(), g.k(), g.oh(), g.ow());
        be(x).conv2dForward(x.dtype(), g, x.ptr(), w.ptr(), bias == null ? null : bias.ptr(), out.ptr());
        return record(out, new Node("conv2d", x, w, bias) {
            Tensor[] backward(Tensor gy) {
                return new Tensor[] {needs(0) ? convBackwardData(gy, w, g) : null,
                        needs(1) ? convBackwardWeight(x, gy, g) : null,
                        needs(2) ? sum(gy, false, 0, 2, 3) : null};
            }
        });
    }

    /** the gradient of conv2d w.r.t. its input (a transposed convolution), differentiable in gy and w */
    static Tensor convBackwardData(Tensor gy, Tensor w, ConvGeometry g) {
        Tensor gx = empty(gy, g.n(), g.c(), g.h(), g.w());
        be(gy).conv2dBackwardData(gy.dtype(), g, gy.ptr(), w.ptr(), gx.ptr());
        return record(gx, new Node("conv2dBackwardData", gy, w) {
            Tensor[] backward(Tensor G) {
                return new Tensor[] {needs(0) ? conv2d(G, w, null, g) : null, needs(1) ? convBackwardWeight(G, gy, g) : null};
            }
        });
    }

    /** the gradient of conv2d w.r.t. its weight, differentiable in x and gy */
    static Tensor convBackwardWeight(Tensor x, Tensor gy, ConvGeometry g) {
        Tensor gw = empty(x, g.k(), g.c() / g.groups(), g.kh(), g.kw());
        be(x).conv2dBackwardWeight(x.dtype(), g, x.ptr(), gy.ptr(), gw.ptr());
        return record(gw, new Node("conv2dBackwardWeight", x, gy) {
            Tensor[] backward(Tensor G) {
                return new Tensor[] {needs(0) ? convBackwardData(gy, G, g) : null, needs(1) ? conv2d(x, G, null, g) : null};
            }
        });
    }

    // ------------------------------------------------------------------ sparse convolution
    /**
     * conv2d(x, w * mask) + bias computed at the kept weights of {@code kept} only (the backend's
     * sparse kernels, native/src/main/cpp/pxsparse.h): the pruned entries of w are never read, and
     * w's gradient is zero there (the masked gradient, all that masked SGD uses). w keeps its dense
     * [out, in, kh, kw] layout; kept lists the positions of a fixed mask. Differentiable in x, w and
     * bias, to any order. Ungrouped float32 convolutions on a backend that has the kernels
     * ({@link #sparseConvSupported}); elsewhere use {@link #conv2d} on w * mask.
     */
    public static Tensor conv2dSparse(Tensor x, Tensor w, Tensor bias, int stride, int padding, int dilation, KeptWeights kept) {
        Checks.sameType("conv2d", x, w);
        Checks.floating("conv2d", "input", x);
        ConvGeometry g = convGeometry(x, w, stride, padding, dilation, 1);
        Checks.vector("conv2d", "bias", bias, g.k(), "one per output channel", x);
        requireSparse(x, g, kept);
        return conv2dSparse(x, w, bias, g, kept);
    }

    /** whether {@link #conv2dSparse} runs for an input like x and this geometry */
    public static boolean sparseConvSupported(Tensor x, ConvGeometry g) { return be(x).sparseConv(x.dtype(), g); }

    private static void requireSparse(Tensor x, ConvGeometry g, KeptWeights kept) {
        if (!sparseConvSupported(x, g))
            throw Checks.fail("conv2d", "the sparse kernels do not run " + x.dtype() + " on " + x.device() + " with groups "
                    + g.groups() + "; use the dense conv2d on the masked weight");
        if (kept.rows() != g.k() || kept.rowLength() != g.groupRows())
            throw Checks.fail("conv2d", "kept weights of a [" + kept.rows() + ", " + kept.rowLength() + "] weight do not fit a weight of "
                    + g.k() + " x " + g.groupRows() + "; build them from this layer's mask");
    }

    static Tensor conv2dSparse(Tensor x, Tensor w, Tensor bias, ConvGeometry g, KeptWeights kept) {
        Tensor out = empty(x, g.n(), g.k(), g.oh(), g.ow());
        be(x).sparseConv2dForward(x.dtype(), g, kept, x.ptr(), w.ptr(), bias == null ? null : bias.ptr(), out.ptr());
        return record(out, new Node("conv2dSparse", x, w, bias) {
            Tensor[] backward(Tensor gy) {
                return new Tensor[] {needs(0) ? sparseBackwardData(gy, w, g, kept) : null,
                        needs(1) ? sparseBackwardWeight(x, gy, g, kept) : null,
                        needs(2) ? sum(gy, false, 0, 2, 3) : null};
            }
        });
    }

    /** the input gradient of conv2dSparse, differentiable in gy and w (w read at the kept weights only) */
    static Tensor sparseBackwardData(Tensor gy, Tensor w, ConvGeometry g, KeptWeights kept) {
        Tensor gx = empty(gy, g.n(), g.c(), g.h(), g.w());
        be(gy).sparseConv2dBackwardData(gy.dtype(), g, kept, gy.ptr(), w.ptr(), gx.ptr());
        return record(gx, new Node("conv2dSparseBackwardData", gy, w) {
            Tensor[] backward(Tensor G) {
                return new Tensor[] {needs(0) ? conv2dSparse(G, w, null, g, kept) : null,
                        needs(1) ? sparseBackwardWeight(G, gy, g, kept) : null};
            }
        });
    }

    /**
     * the weight gradient of conv2dSparse (zero at pruned weights), differentiable in x and gy; its
     * own gradient G enters at the kept weights only, as its pruned entries are constants
     */
    static Tensor sparseBackwardWeight(Tensor x, Tensor gy, ConvGeometry g, KeptWeights kept) {
        Tensor gw = empty(x, g.k(), g.c(), g.kh(), g.kw());
        be(x).sparseConv2dBackwardWeight(x.dtype(), g, kept, x.ptr(), gy.ptr(), gw.ptr());
        return record(gw, new Node("conv2dSparseBackwardWeight", x, gy) {
            Tensor[] backward(Tensor G) {
                return new Tensor[] {needs(0) ? sparseBackwardData(gy, G, g, kept) : null,
                        needs(1) ? conv2dSparse(x, G, null, g, kept) : null};
            }
        });
    }

    /**
     * linear(x, w * mask, b) at the kept weights only: a [batch, in] input is a batch of 1x1 images
     * of {@code in} channels, and the layer a 1x1 convolution on them (the sparse kernels vectorise
     * along positions, of which a 1x1 map has one: fine for classifier heads, whose cost is
     * negligible next to the convolutions). Same conditions as {@link #conv2dSparse}.
     */
    public static Tensor linearSparse(Tensor x, Tensor w, Tensor b, KeptWeights kept) {
        Checks.dims("linear", "weight", w, "[out, in]", 2);
        if (x.dim() != 2 || x.size(1) != w.size(1))
            throw Checks.fail("linear", "input " + Checks.shape(x) + " does not fit weight " + Checks.shape(w)
                    + "; it must be [batch, " + w.size(1) + "]");
        Tensor y = conv2dSparse(reshape(x, x.size(0), x.size(1), 1, 1), reshape(w, w.size(0), w.size(1), 1, 1), b, 1, 0, 1, kept);
        return reshape(y, x.size(0), w.size(0));
    }

    // ------------------------------------------------------------------ normalization
    private static long spatial(Tensor x) {
        long s = 1;
        for (int i = 2; i < x.dim(); i++) s *= x.size(i);
        return s;
    }

    private static int[] channelShape(Tensor x) {
        int[] s = new int[x.dim()];
        Arrays.fill(s, 1);
        s[1] = x.size(1);
        return s;
    }

    /**
     * Batch norm with batch statistics (training mode) over dim 1 of x [N, C, ...]; updates the
     * running statistics in place (momentum, unbiased variance) when they are given.
     */
    public static Tensor batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                        double momentum, double eps) {
        checkBatchNorm("batchNormTrain", x, gamma, beta, runMean, runVar);
        int n = x.size(0), c = x.size(1);
        long s = spatial(x);
        if (n * s < 2) throw new IllegalArgumentException("batch norm in training mode needs more than one value per channel, "
                + "got input " + Arrays.toString(x.shapeRef()) + "; use eval mode or a larger batch");
        Tensor y = empty(x, x.shapeRef()), mean = empty(x, c), invstd = empty(x, c);
        be(x).batchNormTrainForward(x.dtype(), n, c, s, x.ptr(), ptr(gamma), ptr(beta), eps, momentum, ptr(runMean),
                ptr(runVar), y.ptr(), mean.ptr(), invstd.ptr());
        return record(y, new Node("batchNormTrain", x, gamma, beta) {
            Tensor[] backward(Tensor gy) {
                if (GradMode.isEnabled()) return compositeBackward(gy);
                Tensor gx = needs(0) ? empty(x, x.shapeRef()) : null;
                Tensor dg = needs(1) ? empty(x, c) : null, db = needs(2) ? empty(x, c) : null;
                be(x).batchNormTrainBackward(x.dtype(), n, c, s, x.ptr(), gy.ptr(), mean.ptr(), invstd.ptr(), ptr(gamma),
                        ptr(gx), ptr(dg), ptr(db));
                return new Tensor[] {gx, dg, db};
            }

            /** the same formula with differentiable ops, for create-graph mode */
            Tensor[] compositeBackward(Tensor gy) {
                int[] cs = channelShape(x);
                Tensor mu = mean(x, true, reduceDims(x));
                Tensor xc = sub(x, mu);
                Tensor is = rsqrt(affine(mean(square(xc), true, reduceDims(x)), 1, eps));
                Tensor xhat = mul(xc, is);
                Tensor sg = sum(gy, true, reduceDims(x)), sgx = sum(mul(gy, xhat), true, reduceDims(x));
                Tensor gx = null;
                if (needs(0)) {
                    double m = (double) n * s;
                    Tensor k = gamma == null ? is : mul(reshape(gamma, cs), is);
                    Tensor inner = sub(sub(gy, affine(sg, 1 / m, 0)), mul(xhat, affine(sgx, 1 / m, 0)));
                    gx = mul(k, inner);
                }
                return new Tensor[] {gx, needs(1) ? reshape(sgx, c) : null, needs(2) ? reshape(sg, c) : null};
            }
        });
    }

    /** x [N, C, ...] floating, and each per-channel tensor (nullable) a [C] vector like x */
    private static void checkBatchNorm(String op, Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar) {
        if (x.dim() < 2) throw Checks.fail(op, "input must be [N, C, ...] (2-D or more), got " + Checks.shape(x));
        Checks.floating(op, "input", x);
        int c = x.size(1);
        Checks.vector(op, "weight (gamma)", gamma, c, "one per channel", x);
        Checks.vector(op, "bias (beta)", beta, c, "one per channel", x);
        Checks.vector(op, "running_mean", runMean, c, "one per channel", x);
        Checks.vector(op, "running_var", runVar, c, "one per channel", x);
    }

    private static int[] reduceDims(Tensor x) {
        int[] d = new int[x.dim() - 1];
        d[0] = 0;
        for (int i = 2; i < x.dim(); i++) d[i - 1] = i;
        return d;
    }

    private static org.bytedeco.javacpp.Pointer ptr(Tensor t) { return t == null ? null : t.ptr(); }

    /** y[n, c, ...] = x * scale[c] + shift[c]; differentiable in all three (shift nullable) */
    public static Tensor channelAffine(Tensor x, Tensor scale, Tensor shift) {
        if (x.dim() < 2) throw Checks.fail("channelAffine", "input must be [N, C, ...] (2-D or more), got " + Checks.shape(x));
        Checks.floating("channelAffine", "input", x);
        if (scale == null) throw Checks.fail("channelAffine", "scale is null; pass a [C] tensor (ones for none)");
        int n = x.size(0), c = x.size(1);
        long s = spatial(x);
        if (scale.numel() != c || (shift != null && shift.numel() != c))
            throw Checks.fail("channelAffine", "input has " + c + " channels but scale/shift have " + scale.numel() + "/"
                    + (shift == null ? "-" : shift.numel()) + " elements; they must have " + c);
        Checks.sameType("channelAffine", x, scale);
        if (shift != null) Checks.sameType("channelAffine", x, shift);
        Tensor y = empty(x, x.shapeRef());
        be(x).channelAffine(x.dtype(), n, c, s, x.ptr(), scale.ptr(), ptr(shift), y.ptr());
        return record(y, new Node("channelAffine", x, scale, shift) {
            Tensor[] backward(Tensor gy) {
                Tensor gx = needs(0) ? channelAffine(gy, scale, null) : null;
                Tensor gs = needs(1) ? reshape(sum(mul(gy, x), false, reduceDims(x)), scale.shapeRef()) : null;
                Tensor gb = needs(2) ? reshape(sum(gy, false, reduceDims(x)), shift.shapeRef()) : null;
                return new Tensor[] {gx, gs, gb};
            }
        });
    }

    /** eval-mode batch norm: running statistics, differentiable in x, gamma and beta */
    public static Tensor batchNormEval(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, double eps) {
        if (runMean == null || runVar == null)
            throw Checks.fail("batchNormEval", "running_mean and running_var are required in eval mode; use batchNormTrain");
        checkBatchNorm("batchNormEval", x, gamma, beta, runMean, runVar);
        Tensor scale = rsqrt(affine(runVar, 1, eps));
        if (gamma != null) scale = mul(gamma, scale);
        Tensor shift = affine(mul(runMean, scale), -1, 0);
        if (beta != null) shift = add(beta, shift);
        return channelAffine(x, scale, shift);
    }

    // ------------------------------------------------------------------ pooling
    /**
     * Checks that x is [N, C, H, W] or [C, H, W] (one image), floating and non-empty; true when it
     * is 3-D (the caller then pools its 4-D view and reshapes back).
     */
    private static boolean checkPoolInput(String op, Tensor x) {
        Checks.dims(op, "input", x, "[N, C, H, W] or [C, H, W]", 3, 4);
        Checks.floating(op, "input", x);
        Checks.nonEmpty(op, "input", x);
        return x.dim() == 3;
    }

    /** a [C, H, W] input as one image [1, C, H, W] */
    private static Tensor batchOfOne(Tensor x) { return reshape(x, 1, x.size(0), x.size(1), x.size(2)); }

    /** the pooled batch of one back to [C, oh, ow] */
    private static Tensor unbatch(Tensor y) { return reshape(y, y.size(1), y.size(2), y.size(3)); }

    /** max pooling over [N, C, H, W] (or [C, H, W]) with a square window, PyTorch's MaxPool2d(kernel, stride, padding) */
    public static Tensor maxPool2d(Tensor x, int kernel, int stride, int padding) {
        if (checkPoolInput("maxPool2d", x)) return unbatch(maxPool2d(batchOfOne(x), kernel, stride, padding));
        return maxPool("maxPool2d", x, kernel, stride, padding)[0];
    }

    /**
     * Max pooling that also returns where each output came from: {@code {y, idx}}, idx an I32
     * tensor of y's shape holding the flat index into the (n, c) input plane of each window's
     * maximum (the first one on ties), for gathering at the same places later ({@link #poolGather}).
     */
    public static Tensor[] maxPool2dWithIndices(Tensor x, int kernel, int stride, int padding) {
        Checks.dims("maxPool2dWithIndices", "input", x, "[N, C, H, W]", 4);
        Checks.floating("maxPool2dWithIndices", "input", x);
        Checks.nonEmpty("maxPool2dWithIndices", "input", x);
        return maxPool("maxPool2dWithIndices", x, kernel, stride, padding);
    }

    /** max pooling of a checked floating, non-empty [N, C, H, W] input: {@code {y, idx}}, y's backward scattering through idx */
    private static Tensor[] maxPool(String op, Tensor x, int kernel, int stride, int padding) {
        PoolGeometry g = Checks.pool2d(op, x, kernel, stride, padding);
        Tensor y = empty(x, g.n(), g.c(), g.oh(), g.ow());
        Tensor idx = Tensor.zeros(DType.I32, x.device(), g.n(), g.c(), g.oh(), g.ow());
        be(x).maxPoolForward(x.dtype(), g, x.ptr(), y.ptr(), idx.ptr());
        int[] in = x.shapeRef();
        record(y, new Node("maxPool2d", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {poolScatter(gy, idx, in)}; }
        });
        return new Tensor[] {y, idx};
    }

    /** gx[idx] += gy (max pooling's backward), differentiable in gy */
    static Tensor poolScatter(Tensor gy, Tensor idx, int[] inShape) {
        long nc = (long) inShape[0] * inShape[1], hw = (long) inShape[2] * inShape[3], ohw = (long) gy.size(2) * gy.size(3);
        Tensor gx = zeros(gy, inShape);
        be(gy).poolScatter(gy.dtype(), nc, hw, ohw, gy.ptr(), idx.ptr(), gx.ptr());
        return record(gx, new Node("poolScatter", gy) {
            Tensor[] backward(Tensor g) { return new Tensor[] {poolGatherChecked(g, idx, gy.shapeRef())}; }
        });
    }

    static Tensor poolGatherChecked(Tensor g, Tensor idx, int[] outShape) {
        long nc = (long) outShape[0] * outShape[1], hw = (long) g.size(2) * g.size(3), ohw = (long) outShape[2] * outShape[3];
        Tensor out = empty(g, outShape);
        be(g).poolGather(g.dtype(), nc, hw, ohw, g.ptr(), idx.ptr(), out.ptr());
        int[] src = g.shapeRef();
        return record(out, new Node("poolGather", g) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {poolScatter(gy, idx, src)}; }
        });
    }

    /** average pooling over [N, C, H, W] (or [C, H, W]), square window, no padding */
    public static Tensor avgPool2d(Tensor x, int kernel, int stride) {
        if (checkPoolInput("avgPool2d", x)) return unbatch(avgPool2d(batchOfOne(x), kernel, stride));
        PoolGeometry g = Checks.pool2d("avgPool2d", x, kernel, stride, 0);
        Tensor y = empty(x, g.n(), g.c(), g.oh(), g.ow());
        be(x).avgPoolForward(x.dtype(), g, x.ptr(), y.ptr());
        return record(y, new Node("avgPool2d", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {avgPoolBackward(gy, g)}; }
        });
    }

    static Tensor avgPoolBackward(Tensor gy, PoolGeometry g) {
        Tensor gx = zeros(gy, g.n(), g.c(), g.h(), g.w());
        be(gy).avgPoolBackward(gy.dtype(), g, gy.ptr(), gx.ptr());
        return record(gx, new Node("avgPoolBackward", gy) {
            Tensor[] backward(Tensor gg) { return new Tensor[] {avgPool2d(gg, g.kh(), g.sh())}; }
        });
    }

    /** mean over the spatial dims: [N, C, H, W] -> [N, C] */
    public static Tensor globalAvgPool(Tensor x) { return mean(x, false, 2, 3); }

    /**
     * out[n, c, j] = g[n, c, idx[n, c, j]]: routes g through recorded pooling indices (of
     * {@link #maxPool2dWithIndices}); outShape is the pooled shape [N, C, oh, ow]. Differentiable in g.
     */
    public static Tensor poolGather(Tensor g, Tensor idx, int[] outShape) {
        Checks.dims("poolGather", "input", g, "[N, C, H, W]", 4);
        Checks.floating("poolGather", "input", g);
        if (idx.dtype() != DType.I32 || !Arrays.equals(idx.shapeRef(), outShape) || outShape.length != 4
                || outShape[0] != g.size(0) || outShape[1] != g.size(1))
            throw Checks.fail("poolGather", "indices " + idx.dtype() + Checks.shape(idx) + " must be I32 of the pooled shape "
                    + Arrays.toString(outShape) + " with the input's N and C " + Checks.shape(g));
        if (idx.device() != g.device())
            throw Checks.fail("poolGather", "indices are on " + idx.device() + " but the input on " + g.device());
        return poolGatherChecked(g, idx, outShape);
    }

    /**
     * Sum over each k x k window's in-bounds inputs (zero padding), stride s: a depthwise
     * convolution with a ones kernel (every input of the window counts once).
     */
    public static Tensor sumPool2d(Tensor x, int kernel, int stride, int padding) {
        Checks.dims("sumPool2d", "input", x, "[N, C, H, W]", 4);
        Checks.floating("sumPool2d", "input", x);
        Checks.pool2d("sumPool2d", x, kernel, stride, padding);
        int c = x.size(1);
        Tensor ones = Tensor.full(x.dtype(), 1, x.device(), c, 1, kernel, kernel);
        Tensor y = conv2d(x, ones, null, stride, padding, 1, c);
        return y;
    }

    // ------------------------------------------------------------------ fixed linear resampling
    /**
     * y[n, c] = mh @ x[n, c] @ mw^T for x [N, C, H, W], mh [OH, H], mw [OW, W] (constants of x's
     * type and device): any separable fixed linear map of the spatial dims, such as bilinear
     * upsampling ({@link #bilinearMatrix}) or adaptive average pooling ({@link #adaptiveAvgMatrix}).
     * Two matrix products and two transposes; the backward is the same map with the transposed
     * matrices. Differentiable in x.
     */
    public static Tensor spatialMap(Tensor x, Tensor mh, Tensor mw) {
        Checks.dims("spatialMap", "input", x, "[N, C, H, W]", 4);
        Checks.floating("spatialMap", "input", x);
        Checks.sameType("spatialMap", x, mh);
        Checks.sameType("spatialMap", x, mw);
        if (mh.dim() != 2 || mw.dim() != 2 || mh.size(1) != x.size(2) || mw.size(1) != x.size(3))
            throw Checks.fail("spatialMap", "matrices " + Checks.shape(mh) + " and " + Checks.shape(mw) + " do not fit input "
                    + Checks.shape(x) + "; they must be [OH, " + x.size(2) + "] and [OW, " + x.size(3) + "]");
        Checks.nonEmpty("spatialMap", "input", x);
        int n = x.size(0), c = x.size(1), h = x.size(2), oh = mh.size(0), ow = mw.size(0);
        if (oh < 1 || ow < 1) throw Checks.fail("spatialMap", "output size " + oh + "x" + ow + " must be at least 1x1");
        int nc = n * c;
        DType t = x.dtype();
        Backend b = be(x);
        Tensor out = empty(x, n, c, oh, ow);
        try (MemoryScope s = MemoryScope.open()) {
            // t1 [NC*H, OW] = x [NC*H, W] @ mw^T; then [NC, H, OW] -> [H, NC*OW]; t3 [OH, NC*OW] = mh @ that; -> [NC, OH, OW]
            Tensor t1 = empty(x, nc * h, ow), t2 = empty(x, h, nc * ow), t3 = empty(x, oh, nc * ow);
            b.gemm(t, false, true, nc * h, ow, x.size(3), 1, x.ptr(), x.size(3), mw.ptr(), mw.size(1), 0, t1.ptr(), ow);
            b.permute(t, nc, h, ow, t1.ptr(), null, null, t2.ptr());
            b.gemm(t, false, false, oh, nc * ow, h, 1, mh.ptr(), h, t2.ptr(), nc * ow, 0, t3.ptr(), nc * ow);
            b.permute(t, oh, nc, ow, t3.ptr(), null, null, out.ptr());
        }
        return record(out, new Node("spatialMap", x) {
            Tensor[] backward(Tensor gy) {
                Tensor mhT = transpose2d(mh), mwT = transpose2d(mw);
                return new Tensor[] {spatialMap(gy, mhT, mwT)};
            }
        });
    }

    /** a constant 2-D matrix transposed (no graph) */
    private static Tensor transpose2d(Tensor m) {
        Tensor out = empty(m, m.size(1), m.size(0));
        be(m).permute(m.dtype(), m.size(0), m.size(1), 1, m.ptr(), null, null, out.ptr());
        return out;
    }

    /**
     * The weights of PyTorch's bilinear interpolation ({@code F.interpolate(mode='bilinear', size=...)})
     * along one axis, as a row-major [out][in] matrix: each output position out_i reads input
     * position src = (i + 0.5) in/out - 0.5 clamped at 0 (align_corners=False) or i (in-1)/(out-1)
     * (align_corners=True), with weights 1 - frac and frac on its two neighbours.
     */
    public static double[] bilinearMatrix(int in, int out, boolean alignCorners) {
        if (in < 1 || out < 1)
            throw new IllegalArgumentException("bilinear interpolation from " + in + " to " + out + " positions: both must be >= 1");
        double[] m = new double[out * in];
        double scale = alignCorners ? (out > 1 ? (double) (in - 1) / (out - 1) : 0) : (double) in / out;
        for (int i = 0; i < out; i++) {
            double src = alignCorners ? i * scale : Math.max(0, (i + 0.5) * scale - 0.5);
            int i0 = Math.min((int) src, in - 1), i1 = Math.min(i0 + 1, in - 1);
            double l1 = Math.min(1, src - i0);
            m[i * in + i0] += 1 - l1;
            m[i * in + i1] += l1;
        }
        return m;
    }

    /**
     * The weights of PyTorch's adaptive average pooling along one axis, [out][in]: output i averages
     * inputs floor(i in/out) .. ceil((i+1) in/out) - 1.
     */
    public static double[] adaptiveAvgMatrix(int in, int out) {
        if (in < 1 || out < 1)
            throw new IllegalArgumentException("adaptive average pooling from " + in + " to " + out + " positions: both must be >= 1");
        double[] m = new double[out * in];
        for (int i = 0; i < out; i++) {
            int start = (int) ((long) i * in / out), end = (int) (((long) (i + 1) * in + out - 1) / out);
            for (int j = start; j < end; j++) m[i * in + j] = 1.0 / (end - start);
        }
        return m;
    }

    /** a row-major [rows, cols] matrix as a constant tensor of x's type on x's device */
    public static Tensor matrixLike(Tensor x, double[] m, int rows, int cols) {
        if (m.length != (long) rows * cols) throw new IllegalArgumentException(m.length + " values do not fill " + rows + "x" + cols);
        Tensor t = Tensor.zeros(x.dtype(), x.device(), rows, cols);
        if (x.dtype() == DType.F64) t.backend().upload(m, t.ptr());
        else {
            float[] f = new float[m.length];
            for (int i = 0; i < m.length; i++) f[i] = (float) m[i];
            t.backend().upload(f, t.ptr());
        }
        return t;
    }

    /** PyTorch's F.interpolate(x, size=(oh, ow), mode='bilinear', align_corners=...) for x [N, C, H, W] */
    public static Tensor upsampleBilinear(Tensor x, int oh, int ow, boolean alignCorners) {
        Checks.dims("upsampleBilinear", "input", x, "[N, C, H, W]", 4);
        Checks.atLeast("upsampleBilinear", "output height", oh, 1);
        Checks.atLeast("upsampleBilinear", "output width", ow, 1);
        return spatialMap(x, matrixLike(x, bilinearMatrix(x.size(2), oh, alignCorners), oh, x.size(2)),
                matrixLike(x, bilinearMatrix(x.size(3), ow, alignCorners), ow, x.size(3)));
    }

    /** PyTorch's F.adaptive_avg_pool2d(x, (oh, ow)) for x [N, C, H, W] */
    public static Tensor adaptiveAvgPool2d(Tensor x, int oh, int ow) {
        Checks.dims("adaptiveAvgPool2d", "input", x, "[N, C, H, W]", 4);
        Checks.atLeast("adaptiveAvgPool2d", "output height", oh, 1);
        Checks.atLeast("adaptiveAvgPool2d", "output width", ow, 1);
        return spatialMap(x, matrixLike(x, adaptiveAvgMatrix(x.size(2), oh), oh, x.size(2)),
                matrixLike(x, adaptiveAvgMatrix(x.size(3), ow), ow, x.size(3)));
    }

    // ------------------------------------------------------------------ concatenation and slicing
    /** a view of p advanced by elems elements of type t */
    private static org.bytedeco.javacpp.Pointer at(org.bytedeco.javacpp.Pointer p, DType t, long elems) {
        return new org.bytedeco.javacpp.Pointer(p).position(p.position() + elems * t.size);
    }

    /** product of shape[from..to) */
    private static long prod(int[] shape, int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) p *= shape[i];
        return p;
    }

    /** PyTorch's torch.cat(ts, dim): every tensor has the same shape except along dim. Differentiable in each. */
    public static Tensor cat(int dim, Tensor... ts) {
        if (ts.length == 0) throw Checks.fail("cat", "no tensors given; pass at least one");
        Tensor first = ts[0];
        Checks.floating("cat", "input", first);
        int nd = first.dim();
        if (nd == 0) throw Checks.fail("cat", "cannot concatenate 0-d tensors; reshape them to [1] first");
        int d = Checks.dim("cat", dim, nd);
        int total = 0;
        for (int i = 0; i < ts.length; i++) {
            Tensor t = ts[i];
            Checks.sameType("cat", first, t);
            boolean fits = t.dim() == nd;
            for (int j = 0; fits && j < nd; j++) fits = j == d || t.size(j) == first.size(j);
            if (!fits) throw Checks.fail("cat", "tensor " + i + " " + Checks.shape(t) + " does not match tensor 0 "
                    + Checks.shape(first) + " outside dim " + d + "; all sizes but dim " + d + "'s must be equal");
            total += t.size(d);
        }
        int[] shape = first.shape();
        shape[d] = total;
        Tensor out = empty(first, shape);
        long outer = prod(shape, 0, d), inner = prod(shape, d + 1, nd);
        DType t = first.dtype();
        int off = 0;
        int[] starts = new int[ts.length];
        for (int i = 0; i < ts.length; i++) {
            starts[i] = off;
            long block = ts[i].size(d) * inner;
            for (long o = 0; o < outer && block > 0; o++)
                be(first).copy(at(ts[i].ptr(), t, o * block), at(out.ptr(), t, (o * total + off) * inner), block * t.size);
            off += ts[i].size(d);
        }
        return record(out, new Node("cat", ts) {
            Tensor[] backward(Tensor gy) {
                Tensor[] g = new Tensor[ts.length];
                for (int i = 0; i < ts.length; i++) if (needs(i)) g[i] = narrow(gy, d, starts[i], ts[i].size(d));
                return g;
            }
        });
    }

    /** PyTorch's t.narrow(dim, start, length), as a contiguous copy. Differentiable in t. */
    public static Tensor narrow(Tensor t, int dim, int start, int length) {
        Checks.floating("narrow", "input", t);
        int nd = t.dim();
        if (nd == 0) throw Checks.fail("narrow", "cannot narrow a 0-d tensor");
        int d = Checks.dim("narrow", dim, nd), size = t.size(d);
        if (start < 0 || length < 0 || (long) start + length > size)
            throw Checks.fail("narrow", "start " + start + " and length " + length + " do not fit dim " + d + " of size " + size
                    + " in " + Checks.shape(t) + "; need 0 <= start and start + length <= " + size);
        int[] shape = t.shape();
        shape[d] = length;
        Tensor out = empty(t, shape);
        long outer = prod(shape, 0, d), inner = prod(shape, d + 1, nd), block = length * inner;
        DType dt = t.dtype();
        for (long o = 0; o < outer && block > 0; o++)
            be(t).copy(at(t.ptr(), dt, (o * size + start) * inner), at(out.ptr(), dt, o * block), block * dt.size);
        int[] in = t.shapeRef();
        return record(out, new Node("narrow", t) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {padAlong(gy, d, start, in)}; }
        });
    }

    /** g placed at [start, start + g.size(d)) of dim d of a zero tensor of shape full (narrow's backward) */
    private static Tensor padAlong(Tensor g, int d, int start, int[] full) {
        Tensor out = zeros(g, full);
        int nd = full.length, size = full[d], length = g.size(d);
        long outer = prod(full, 0, d), inner = prod(full, d + 1, nd), block = length * inner;
        DType dt = g.dtype();
        for (long o = 0; o < outer && block > 0; o++)
            be(g).copy(at(g.ptr(), dt, o * block), at(out.ptr(), dt, (o * size + start) * inner), block * dt.size);
        return record(out, new Node("padAlong", g) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {narrow(gy, d, start, length)}; }
        });
    }

    // ------------------------------------------------------------------ dropout
    /**
     * Inverted dropout: each element is zeroed with probability p and the others scaled by 1/(1-p),
     * the mask drawn from {@code new SplittableRandom(seed)} in element order. p = 0 returns x.
     * Differentiable in x (the mask is a constant).
     */
    public static Tensor dropout(Tensor x, double p, long seed) {
        Checks.floating("dropout", "input", x);
        if (!(p >= 0 && p < 1)) throw Checks.fail("dropout", "probability " + p + " must be in [0, 1)");
        if (p == 0) return x;
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        double keep = 1 / (1 - p);
        double[] m = new double[(int) x.numel()];
        for (int i = 0; i < m.length; i++) m[i] = rng.nextDouble() < p ? 0 : keep;
        return mul(x, reshape(matrixLike(x, m, 1, m.length), x.shapeRef()));
    }

    // ------------------------------------------------------------------ classification loss
    /** log-softmax over the last dim of [R, K] */
    public static Tensor logSoftmax(Tensor x) {
        Checks.dims("logSoftmax", "input", x, "[rows, classes]", 2);
        Checks.floating("logSoftmax", "input", x);
        if (x.size(1) < 1) throw Checks.fail("logSoftmax", "input " + Checks.shape(x) + " has no classes; it needs at least 1");
        Tensor y = empty(x, x.shapeRef());
        be(x).logSoftmax(x.dtype(), x.size(0), x.size(1), x.ptr(), y.ptr());
        return record(y, new Node("logSoftmax", x) {
            @Override boolean readsOutput() { return true; }

            Tensor[] backward(Tensor gy) { return new Tensor[] {sub(gy, mul(exp(y), sum(gy, true, 1)))}; }
        });
    }

    /** out[r] = x[r, labels[r]] */
    public static Tensor pick(Tensor x, Tensor labels) {
        Checks.floating("pick", "input", x);
        Checks.labels("pick", x, labels);
        return pickChecked(x, labels);
    }

    /** pick with labels already checked against x's shape */
    private static Tensor pickChecked(Tensor x, Tensor labels) {
        Tensor out = empty(x, x.size(0));
        be(x).pick(x.dtype(), x.size(0), x.size(1), x.ptr(), labels.ptr(), out.ptr());
        int[] in = x.shapeRef();
        return record(out, new Node("pick", x) {
            Tensor[] backward(Tensor g) { return new Tensor[] {place(g, labels, in)}; }
        });
    }

    static Tensor place(Tensor g, Tensor labels, int[] shape) {
        if (g.device() != labels.device())
            throw Checks.fail("place", "the gradient is on " + g.device() + " but the labels on " + labels.device()
                    + "; seed a backward on its root's device");
        Tensor out = zeros(g, shape);
        be(g).place(g.dtype(), shape[0], shape[1], g.ptr(), labels.ptr(), out.ptr());
        return record(out, new Node("place", g) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {pickChecked(gy, labels)}; }
        });
    }

    /** mean cross-entropy of logits [N, K] against integer labels in [0, K) */
    public static Tensor crossEntropy(Tensor logits, Tensor labels) {
        Checks.labels("crossEntropy", logits, labels);
        Checks.floating("crossEntropy", "logits", logits);
        if (logits.size(0) < 1) throw Checks.fail("crossEntropy", "logits " + Checks.shape(logits)
                + " hold an empty batch; the mean needs at least one row");
        return affine(sum(pickChecked(logSoftmax(logits), labels)), -1.0 / logits.size(0), 0);
    }

    /**
     * [N, A, B] -> [N, B, A] per image (a batched transpose; backward the inverse). Used to turn
     * per-pixel logits [N, K, H*W] into rows [N*H*W, K].
     */
    static Tensor swapLast(Tensor x, int a, int b) {
        int n = x.size(0);
        Tensor out = empty(x, n, b, a);
        long per = (long) a * b;
        for (int i = 0; i < n; i++)
            be(x).permute(x.dtype(), a, b, 1, at(x.ptr(), x.dtype(), i * per), null, null, at(out.ptr(), x.dtype(), i * per));
        return record(out, new Node("swapLast", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {swapLast(gy, b, a)}; }
        });
    }

    /**
     * PyTorch's F.cross_entropy(logits, labels, ignore_index=ignoreIndex) for dense predictions:
     * logits [N, K, H, W], labels I32 [N, H, W] with values in [0, K) or equal to ignoreIndex; the
     * mean over the pixels that are not ignored. A batch whose every pixel is ignored gives 0 (with
     * a zero gradient) where PyTorch gives NaN.
     */
    public static Tensor crossEntropy2d(Tensor logits, Tensor labels, int ignoreIndex) {
        Checks.dims("crossEntropy2d", "logits", logits, "[N, classes, H, W]", 4);
        Checks.floating("crossEntropy2d", "logits", logits);
        int n = logits.size(0), k = logits.size(1), h = logits.size(2), w = logits.size(3);
        if (labels.dtype() != DType.I32 || labels.dim() != 3 || labels.size(0) != n || labels.size(1) != h || labels.size(2) != w)
            throw Checks.fail("crossEntropy2d", "labels must be I32 [" + n + ", " + h + ", " + w + "] (one per pixel of logits "
                    + Checks.shape(logits) + "), got " + labels.dtype() + Checks.shape(labels));
        if (labels.device() != logits.device())
            throw Checks.fail("crossEntropy2d", "labels are on " + labels.device() + " but the logits on " + logits.device());
        if (k < 1 || n < 1) throw Checks.fail("crossEntropy2d", "logits " + Checks.shape(logits) + " are empty");
        int[] l = labels.toIntArray();
        double[] valid = new double[l.length];
        int count = 0;
        for (int i = 0; i < l.length; i++) {
            if (l[i] == ignoreIndex) { l[i] = 0; continue; }
            if (l[i] < 0 || l[i] >= k)
                throw Checks.fail("crossEntropy2d", "label " + l[i] + " (pixel " + i % (h * w) + " of image " + i / (h * w)
                        + ") is outside the " + k + " classes and not the ignore index " + ignoreIndex + "; use 0.." + (k - 1)
                        + " or " + ignoreIndex);
            valid[i] = 1;
            count++;
        }
        Tensor rows = reshape(swapLast(reshape(logits, n, k, h * w), k, h * w), n * h * w, k);
        Tensor picked = pickChecked(logSoftmax(rows), Tensor.ofInts(l, logits.device(), l.length));
        Tensor kept = mul(picked, reshape(matrixLike(picked, valid, 1, valid.length), valid.length));
        return affine(sum(kept), count == 0 ? 0 : -1.0 / count, 0);
    }
}
