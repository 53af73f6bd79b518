package pxprune.core;

import static pxprune.jni.PxNative.*;

import java.util.Arrays;
import pxprune.kernels.Backend;
import pxprune.kernels.ConvGeometry;
import pxprune.kernels.DType;

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
            out.setRequiresGrad(true);
        }
        return out;
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

    public static Tensor add(Tensor a, Tensor b) {
        Tensor out = binaryRaw(B_ADD, a, b, "add");
        return record(out, new Node("add", a, b) {
            Tensor[] backward(Tensor gy) {
                return new Tensor[] {needs(0) ? sumTo(gy, a.shapeRef()) : null, needs(1) ? sumTo(gy, b.shapeRef()) : null};
            }
        });
    }

    public static Tensor sub(Tensor a, Tensor b) {
        Tensor out = binaryRaw(B_SUB, a, b, "sub");
        return record(out, new Node("sub", a, b) {
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
            Tensor[] backward(Tensor gy) { return new Tensor[] {affine(div(gy, out), 0.5, 0)}; }
        });
    }

    /** 1/sqrt(x) */
    public static Tensor rsqrt(Tensor x) {
        Tensor out = unaryRaw(U_RSQRT, x, 0, 0, "rsqrt");
        return record(out, new Node("rsqrt", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {affine(mul(gy, mul(out, mul(out, out))), -0.5, 0)}; }
        });
    }

    public static Tensor exp(Tensor x) {
        Tensor out = unaryRaw(U_EXP, x, 0, 0, "exp");
        return record(out, new Node("exp", x) {
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

    /** the kernels convert between F32 and F64 only; I32 (indices) is never converted */
    private static void checkConversion(String op, DType from, DType to) {
        if (from != to && (from == DType.I32 || to == DType.I32))
            throw Checks.fail(op, "cannot convert " + from + " to " + to + "; I32 tensors hold indices and convert to nothing");
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
        Checks.dims("conv2d", "input", x, "[N, C, H, W]", 4);
        Checks.dims("conv2d", "weight", w, "[out_channels, in_channels/groups, kh, kw]", 4);
        Checks.atLeast("conv2d", "groups", groups, 1);
        if ((long) x.size(1) != (long) w.size(1) * groups)
            throw new IllegalArgumentException("conv2d: input has " + x.size(1) + " channels, weight "
                    + Arrays.toString(w.shapeRef()) + " with groups=" + groups + " expects " + w.size(1) * groups);
        return new ConvGeometry(x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), w.size(2), w.size(3), stride, stride,
                padding, padding, 1, 1, groups);
    }

    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding, int groups) {
        Checks.sameType("conv2d", x, w);
        Checks.floating("conv2d", "input", x);
        ConvGeometry g = convGeometry(x, w, stride, padding, groups);
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
        int[] o = Checks.pool2d("maxPool2d", x, kernel, stride, padding);
        int h = x.size(2), w = x.size(3), oh = o[0], ow = o[1];
        long nc = (long) x.size(0) * x.size(1);
        Tensor y = empty(x, x.size(0), x.size(1), oh, ow);
        Tensor idx = Tensor.zeros(DType.I32, x.device(), x.size(0), x.size(1), oh, ow);
        be(x).maxPoolForward(x.dtype(), nc, h, w, kernel, kernel, stride, stride, padding, padding, oh, ow, x.ptr(), y.ptr(), idx.ptr());
        int[] in = x.shapeRef();
        return record(y, new Node("maxPool2d", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {poolScatter(gy, idx, in)}; }
        });
    }

    /** gx[idx] += gy (max pooling's backward), differentiable in gy */
    static Tensor poolScatter(Tensor gy, Tensor idx, int[] inShape) {
        long nc = (long) inShape[0] * inShape[1], hw = (long) inShape[2] * inShape[3], ohw = (long) gy.size(2) * gy.size(3);
        Tensor gx = zeros(gy, inShape);
        be(gy).poolScatter(gy.dtype(), nc, hw, ohw, gy.ptr(), idx.ptr(), gx.ptr());
        return record(gx, new Node("poolScatter", gy) {
            Tensor[] backward(Tensor g) { return new Tensor[] {poolGather(g, idx, gy.shapeRef())}; }
        });
    }

    static Tensor poolGather(Tensor g, Tensor idx, int[] outShape) {
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
        int[] o = Checks.pool2d("avgPool2d", x, kernel, stride, 0);
        int h = x.size(2), w = x.size(3), oh = o[0], ow = o[1];
        long nc = (long) x.size(0) * x.size(1);
        Tensor y = empty(x, x.size(0), x.size(1), oh, ow);
        be(x).avgPoolForward(x.dtype(), nc, h, w, kernel, kernel, stride, stride, oh, ow, x.ptr(), y.ptr());
        int[] in = x.shapeRef();
        return record(y, new Node("avgPool2d", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {avgPoolBackward(gy, in, kernel, stride)}; }
        });
    }

    static Tensor avgPoolBackward(Tensor gy, int[] in, int kernel, int stride) {
        Tensor gx = zeros(gy, in);
        be(gy).avgPoolBackward(gy.dtype(), (long) in[0] * in[1], in[2], in[3], kernel, kernel, stride, stride, gy.size(2),
                gy.size(3), gy.ptr(), gx.ptr());
        return record(gx, new Node("avgPoolBackward", gy) {
            Tensor[] backward(Tensor g) { return new Tensor[] {avgPool2d(g, kernel, stride)}; }
        });
    }

    /** mean over the spatial dims: [N, C, H, W] -> [N, C] */
    public static Tensor globalAvgPool(Tensor x) { return mean(x, false, 2, 3); }

    // ------------------------------------------------------------------ classification loss
    /** log-softmax over the last dim of [R, K] */
    public static Tensor logSoftmax(Tensor x) {
        Checks.dims("logSoftmax", "input", x, "[rows, classes]", 2);
        Checks.floating("logSoftmax", "input", x);
        if (x.size(1) < 1) throw Checks.fail("logSoftmax", "input " + Checks.shape(x) + " has no classes; it needs at least 1");
        Tensor y = empty(x, x.shapeRef());
        be(x).logSoftmax(x.dtype(), x.size(0), x.size(1), x.ptr(), y.ptr());
        return record(y, new Node("logSoftmax", x) {
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
}
