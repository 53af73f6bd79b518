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

    private static void sameType(Tensor a, Tensor b, String op) {
        if (a.dtype() != b.dtype())
            throw new IllegalArgumentException(op + ": dtypes differ (" + a.dtype() + " vs " + b.dtype() + "); convert one with to()");
        if (a.device() != b.device())
            throw new IllegalArgumentException(op + ": devices differ (" + a.device() + " vs " + b.device() + ")");
    }

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
        sameType(a, b, name);
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
    public static void addInPlace(Tensor dst, Tensor src) {
        sameType(dst, src, "addInPlace");
        int[] s = dst.shapeRef();
        if (!Arrays.equals(broadcastShape(s, src.shapeRef(), "addInPlace"), s))
            throw new IllegalArgumentException("addInPlace: " + Arrays.toString(src.shapeRef()) + " into " + Arrays.toString(s));
        be(dst).binary(dst.dtype(), B_ADD, dst.ptr(), Tensor.contiguousStrides(s), src.ptr(),
                broadcastStrides(src.shapeRef(), s), s, dst.ptr());
    }

    /** In place: dst *= src (no autograd; applying masks). */
    public static void mulInPlace(Tensor dst, Tensor src) {
        sameType(dst, src, "mulInPlace");
        int[] s = dst.shapeRef();
        be(dst).binary(dst.dtype(), B_MUL, dst.ptr(), Tensor.contiguousStrides(s), src.ptr(),
                broadcastStrides(src.shapeRef(), s), s, dst.ptr());
    }

    /** In place copy of src's values into dst (same shape; dtype converted). */
    public static void copyInto(Tensor src, Tensor dst) {
        if (src.numel() != dst.numel())
            throw new IllegalArgumentException("copyInto: " + Arrays.toString(src.shapeRef()) + " into " + Arrays.toString(dst.shapeRef()));
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
    public static Tensor sum(Tensor t, boolean keepDim, int... dims) {
        int[] s = t.shape();
        boolean[] red = new boolean[s.length];
        for (int d : dims) red[d < 0 ? d + s.length : d] = true;
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
        long n = 1;
        for (int d : dims) n *= t.size(d);
        return affine(sum(t, keepDim, dims), 1.0 / n, 0);
    }

    private static int[] ones(int n) { int[] o = new int[n]; Arrays.fill(o, 1); return o; }

    // ------------------------------------------------------------------ unary
    private static Tensor unaryRaw(int op, Tensor x, double a, double b) {
        Tensor out = empty(x, x.shapeRef());
        be(x).unary(x.dtype(), op, x.ptr(), x.numel(), a, b, out.ptr());
        return out;
    }

    /** x * a + b */
    public static Tensor affine(Tensor x, double a, double b) {
        Tensor out = unaryRaw(U_AFFINE, x, a, b);
        return record(out, new Node("affine", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {affine(gy, a, 0)}; }
        });
    }

    public static Tensor square(Tensor x) {
        Tensor out = unaryRaw(U_SQUARE, x, 0, 0);
        return record(out, new Node("square", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {affine(mul(gy, x), 2, 0)}; }
        });
    }

    public static Tensor abs(Tensor x) {
        Tensor out = unaryRaw(U_ABS, x, 0, 0);
        return record(out, new Node("abs", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {mul(gy, sign(x))}; }
        });
    }

    /** sign(x), not differentiable (zero gradient) */
    public static Tensor sign(Tensor x) { return unaryRaw(U_SIGN, x, 0, 0); }

    /** 1 where x > 0 else 0, not differentiable */
    public static Tensor step(Tensor x) { return unaryRaw(U_STEP, x, 0, 0); }

    public static Tensor sqrt(Tensor x) {
        Tensor out = unaryRaw(U_SQRT, x, 0, 0);
        return record(out, new Node("sqrt", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {affine(div(gy, out), 0.5, 0)}; }
        });
    }

    /** 1/sqrt(x) */
    public static Tensor rsqrt(Tensor x) {
        Tensor out = unaryRaw(U_RSQRT, x, 0, 0);
        return record(out, new Node("rsqrt", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {affine(mul(gy, mul(out, mul(out, out))), -0.5, 0)}; }
        });
    }

    public static Tensor exp(Tensor x) {
        Tensor out = unaryRaw(U_EXP, x, 0, 0);
        return record(out, new Node("exp", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {mul(gy, out)}; }
        });
    }

    public static Tensor log(Tensor x) {
        Tensor out = unaryRaw(U_LOG, x, 0, 0);
        return record(out, new Node("log", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {div(gy, x)}; }
        });
    }

    public static Tensor relu(Tensor x) {
        Tensor out = unaryRaw(U_RELU, x, 0, 0);
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

    public static Tensor flatten(Tensor t, int startDim) {
        int[] s = t.shapeRef();
        int[] r = new int[startDim + 1];
        System.arraycopy(s, 0, r, 0, startDim);
        long p = 1;
        for (int i = startDim; i < s.length; i++) p *= s[i];
        r[startDim] = (int) p;
        return reshape(t, r);
    }

    public static Tensor to(Tensor t, DType dtype) {
        if (t.dtype() == dtype) return reshape(t, t.shapeRef());
        Tensor out = Tensor.zeros(dtype, t.device(), t.shapeRef());
        be(t).convert(t.dtype(), t.ptr(), dtype, out.ptr(), t.numel());
        DType src = t.dtype();
        return record(out, new Node("to", t) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {to(gy, src)}; }
        });
    }

    // ------------------------------------------------------------------ matrix product and linear
    /** op(a) @ op(b) for 2-D a, b, with op = transpose when the flag is set */
    public static Tensor matmul(Tensor a, Tensor b, boolean ta, boolean tb) {
        sameType(a, b, "matmul");
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
        if (x.dim() != 2 || w.dim() != 2 || x.size(1) != w.size(1))
            throw new IllegalArgumentException("linear: input " + Arrays.toString(x.shapeRef()) + " does not fit weight "
                    + Arrays.toString(w.shapeRef()) + " (expects [batch, " + (w.dim() == 2 ? w.size(1) : "?") + "])");
        Tensor y = matmul(x, w, false, true);
        return b == null ? y : add(y, b);
    }

    // ------------------------------------------------------------------ convolution
    public static ConvGeometry convGeometry(Tensor x, Tensor w, int stride, int padding, int groups) {
        if (x.dim() != 4 || w.dim() != 4)
            throw new IllegalArgumentException("conv2d takes x [N,C,H,W] and w [K,C/groups,kh,kw], got "
                    + Arrays.toString(x.shapeRef()) + " and " + Arrays.toString(w.shapeRef()));
        if (x.size(1) != w.size(1) * groups)
            throw new IllegalArgumentException("conv2d: input has " + x.size(1) + " channels, weight "
                    + Arrays.toString(w.shapeRef()) + " with groups=" + groups + " expects " + w.size(1) * groups);
        return new ConvGeometry(x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), w.size(2), w.size(3), stride, stride,
                padding, padding, 1, 1, groups);
    }

    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding, int groups) {
        sameType(x, w, "conv2d");
        ConvGeometry g = convGeometry(x, w, stride, padding, groups);
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

    private static int[] reduceDims(Tensor x) {
        int[] d = new int[x.dim() - 1];
        d[0] = 0;
        for (int i = 2; i < x.dim(); i++) d[i - 1] = i;
        return d;
    }

    private static org.bytedeco.javacpp.Pointer ptr(Tensor t) { return t == null ? null : t.ptr(); }

    /** y[n, c, ...] = x * scale[c] + shift[c]; differentiable in all three (shift nullable) */
    public static Tensor channelAffine(Tensor x, Tensor scale, Tensor shift) {
        int n = x.size(0), c = x.size(1);
        long s = spatial(x);
        if (scale.numel() != c || (shift != null && shift.numel() != c))
            throw new IllegalArgumentException("channelAffine: " + c + " channels but scale/shift of "
                    + scale.numel() + "/" + (shift == null ? "-" : shift.numel()));
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
        Tensor scale = rsqrt(affine(runVar, 1, eps));
        if (gamma != null) scale = mul(gamma, scale);
        Tensor shift = affine(mul(runMean, scale), -1, 0);
        if (beta != null) shift = add(beta, shift);
        return channelAffine(x, scale, shift);
    }

    // ------------------------------------------------------------------ pooling
    /** max pooling over [N, C, H, W] with a square window */
    public static Tensor maxPool2d(Tensor x, int kernel, int stride, int padding) {
        int h = x.size(2), w = x.size(3);
        int oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1;
        if (oh < 1 || ow < 1) throw new IllegalArgumentException("maxPool2d: input " + h + "x" + w + " smaller than window " + kernel);
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

    /** average pooling over [N, C, H, W], square window, no padding */
    public static Tensor avgPool2d(Tensor x, int kernel, int stride) {
        int h = x.size(2), w = x.size(3), oh = (h - kernel) / stride + 1, ow = (w - kernel) / stride + 1;
        if (oh < 1 || ow < 1) throw new IllegalArgumentException("avgPool2d: input " + h + "x" + w + " smaller than window " + kernel);
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
        if (x.dim() != 2) throw new IllegalArgumentException("logSoftmax takes [rows, classes], got " + Arrays.toString(x.shapeRef()));
        Tensor y = empty(x, x.shapeRef());
        be(x).logSoftmax(x.dtype(), x.size(0), x.size(1), x.ptr(), y.ptr());
        return record(y, new Node("logSoftmax", x) {
            Tensor[] backward(Tensor gy) { return new Tensor[] {sub(gy, mul(exp(y), sum(gy, true, 1)))}; }
        });
    }

    /** out[r] = x[r, labels[r]] */
    public static Tensor pick(Tensor x, Tensor labels) {
        checkLabels(x, labels);
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
            Tensor[] backward(Tensor gy) { return new Tensor[] {pick(gy, labels)}; }
        });
    }

    private static void checkLabels(Tensor x, Tensor labels) {
        if (labels.dtype() != DType.I32 || labels.dim() != 1 || labels.size(0) != x.size(0))
            throw new IllegalArgumentException("labels must be an I32 vector of " + x.size(0) + " entries, got "
                    + labels.dtype() + Arrays.toString(labels.shapeRef()));
        for (int l : labels.toIntArray())
            if (l < 0 || l >= x.size(1))
                throw new IllegalArgumentException("label " + l + " is outside 0.." + (x.size(1) - 1));
    }

    /** mean cross-entropy of logits [N, K] against integer labels */
    public static Tensor crossEntropy(Tensor logits, Tensor labels) {
        return affine(sum(pick(logSoftmax(logits), labels)), -1.0 / logits.size(0), 0);
    }
}
