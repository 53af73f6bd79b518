package pxprune.kernels.cuda;

import static pxprune.jni.PxNative.B_ADD;
import static pxprune.jni.PxNative.B_MUL;
import static pxprune.jni.PxNative.U_RELU;
import static pxprune.jni.PxNative.U_SQUARE;
import static pxprune.jni.PxNative.U_STEP;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import pxprune.kernels.Backend;
import pxprune.kernels.ConvGeometry;
import pxprune.kernels.DType;
import pxprune.kernels.PxKernels;

/**
 * open_lth's CIFAR ResNet-20 written directly against a Backend and its PxKernels (no tensors, no
 * autograd), with the golden file's weights: the eval- and train-mode logits, and PX's scores
 * (docs/px-method.md section 3) computed with the fused per-layer kernels. Used to compare backends with
 * each other and with testdata/golden/resnet20_seed1.safetensors.
 */
final class ResNet20 implements AutoCloseable {
    /** an NCHW activation */
    record Act(Pointer p, int n, int c, int h, int w) {
        long numel() { return (long) n * c * h * w; }
    }

    final Backend b;
    final PxKernels px;
    final DType t;
    private final GoldenFile golden;
    private final Map<String, Pointer> weights = new LinkedHashMap<>();
    private final List<Pointer> owned = new ArrayList<>();

    ResNet20(Backend b, PxKernels px, DType t, GoldenFile golden) {
        this.b = b;
        this.px = px;
        this.t = t;
        this.golden = golden;
    }

    static String block(int i) { return "blocks." + i + "."; }

    static boolean down(int i) { return i == 3 || i == 6; }

    static int width(int i) { return 16 << (i / 3); }

    /** every prunable weight, in the order of the golden file's score names */
    static List<String> prunable() {
        List<String> names = new ArrayList<>();
        names.add("conv.weight");
        for (int i = 0; i < 9; i++) {
            names.add(block(i) + "conv1.weight");
            names.add(block(i) + "conv2.weight");
            if (down(i)) names.add(block(i) + "shortcut.0.weight");
        }
        names.add("fc.weight");
        return names;
    }

    // ------------------------------------------------------------------ buffers

    Pointer alloc(long elems, DType type) {
        Pointer p = b.allocate(Math.max(1, elems) * type.size);
        owned.add(p);
        return p;
    }

    Pointer alloc(long elems) { return alloc(elems, t); }

    Act act(int n, int c, int h, int w) { return new Act(alloc((long) n * c * h * w), n, c, h, w); }

    void free(Pointer p) {
        if (p != null && owned.remove(p)) b.free(p);
    }

    void free(Act a) { free(a.p); }

    Pointer upload(double[] v, DType type) {
        Pointer p = alloc(v.length, type);
        if (type == DType.F64) b.upload(v, p);
        else {
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
            b.upload(f, p);
        }
        return p;
    }

    double[] download(Pointer p, long n, DType type) {
        double[] d = new double[(int) n];
        if (type == DType.F64) b.download(p, d);
        else {
            float[] f = new float[(int) n];
            b.download(p, f);
            for (int i = 0; i < f.length; i++) d[i] = f[i];
        }
        return d;
    }

    double[] download(Act a) { return download(a.p, a.numel(), t); }

    Pointer weight(String name) { return weights.computeIfAbsent(name, k -> upload(golden.get("weight." + k).doubles(), t)); }

    Act input(double[] x, int n) { return new Act(upload(x, t), n, 3, 32, 32); }

    /** eval-mode batch norm as a per-channel affine map: scale = gamma/sqrt(var+eps), shift = beta - mean*scale */
    double[][] bnAffine(String bn) {
        double[] g = golden.get("weight." + bn + ".weight").doubles(), be = golden.get("weight." + bn + ".bias").doubles();
        double[] m = golden.get("weight." + bn + ".running_mean").doubles(), v = golden.get("weight." + bn + ".running_var").doubles();
        double[] scale = new double[g.length], shift = new double[g.length];
        for (int c = 0; c < g.length; c++) {
            scale[c] = g[c] / Math.sqrt(v[c] + 1e-5);
            shift[c] = be[c] - m[c] * scale[c];
        }
        return new double[][] {scale, shift};
    }

    // ------------------------------------------------------------------ the network f

    ConvGeometry geometry(Act x, int k, int ks, int stride, int pad) {
        return new ConvGeometry(x.n, x.c, x.h, x.w, k, ks, ks, stride, stride, pad, pad, 1, 1, 1);
    }

    Act conv(Act x, String name, int k, int ks, int stride, int pad) {
        ConvGeometry g = geometry(x, k, ks, stride, pad);
        Act y = act(x.n, k, g.oh(), g.ow());
        b.conv2dForward(t, g, x.p, weight(name + ".weight"), null, y.p);
        return y;
    }

    /** batch norm in place: eval mode (running statistics) or train mode (batch statistics) */
    void bn(Act x, String name, boolean train) {
        if (train) {
            Pointer mean = alloc(x.c), invstd = alloc(x.c);
            b.batchNormTrainForward(t, x.n, x.c, (long) x.h * x.w, x.p, weight(name + ".weight"), weight(name + ".bias"), 1e-5,
                    0.1, null, null, x.p, mean, invstd);
            free(mean);
            free(invstd);
        } else {
            double[][] a = bnAffine(name);
            Pointer s = upload(a[0], t), h = upload(a[1], t);
            b.channelAffine(t, x.n, x.c, (long) x.h * x.w, x.p, s, h, x.p);
            free(s);
            free(h);
        }
    }

    /** ReLU in place; the gate 1[z > 0] is recorded in gates when that list is given */
    void relu(Act z, List<Pointer> gates) {
        if (gates != null) {
            Pointer g = alloc(z.numel());
            b.unary(t, U_STEP, z.p, z.numel(), 0, 0, g);
            gates.add(g);
        }
        b.unary(t, U_RELU, z.p, z.numel(), 0, 0, z.p);
    }

    /** a += o (same shape) */
    void addInPlace(Act a, Act o) { elementwise(B_ADD, a.p, o.p, a.p, a.numel()); }

    void elementwise(int op, Pointer x, Pointer y, Pointer out, long n) {
        b.binary(t, op, x, new int[] {1}, y, new int[] {1}, new int[] {(int) n}, out);
    }

    /** global average pooling to [n, c, 1, 1] */
    Act pool(Act x) {
        Act y = act(x.n, x.c, 1, 1);
        b.avgPoolForward(t, (long) x.n * x.c, x.h, x.w, x.h, x.w, 1, 1, 1, 1, x.p, y.p);
        return y;
    }

    /** the logits [n, 10]; records the 19 ReLU gates in order when gates != null */
    double[] logits(Act x, boolean train, List<Pointer> gates) {
        Act a = conv(x, "conv", 16, 3, 1, 1);
        bn(a, "bn", train);
        relu(a, gates);
        for (int i = 0; i < 9; i++) {
            String p = block(i);
            Act h = conv(a, p + "conv1", width(i), 3, down(i) ? 2 : 1, 1);
            bn(h, p + "bn1", train);
            relu(h, gates);
            Act o = conv(h, p + "conv2", width(i), 3, 1, 1);
            free(h);
            bn(o, p + "bn2", train);
            if (down(i)) {
                Act s = conv(a, p + "shortcut.0", width(i), 1, 2, 0);
                bn(s, p + "shortcut.1", train);
                addInPlace(o, s);
                free(s);
            } else addInPlace(o, a);
            relu(o, gates);
            free(a);
            a = o;
        }
        Act f = pool(a);
        free(a);
        Pointer out = alloc((long) x.n * 10);
        b.gemm(t, false, true, x.n, 10, 64, 1, f.p, 64, weight("fc.weight"), 64, 0, out, 10);
        b.binary(t, B_ADD, out, new int[] {10, 1}, weight("fc.bias"), new int[] {0, 1}, new int[] {x.n, 10}, out);
        free(f);
        double[] r = download(out, (long) x.n * 10, t);
        free(out);
        return r;
    }

    // ------------------------------------------------------------------ PX (docs/px-method.md section 3)

    /** all-ones keep mask of a weight, in maskType */
    Pointer ones(String name, DType maskType) {
        double[] v = new double[golden.get("weight." + name).numel()];
        java.util.Arrays.fill(v, 1);
        return upload(v, maskType);
    }

    Act activationConv(Act x, String name, int k, int ks, int stride, int pad, Pointer gate, DType maskType) {
        ConvGeometry g = geometry(x, k, ks, stride, pad);
        Act y = act(x.n, k, g.oh(), g.ow());
        Pointer m = ones(name + ".weight", maskType);
        px.activationConv(g, x.p, m, maskType, gate, t, y.p);
        free(m);
        return y;
    }

    /**
     * w_k = sum over the batch of A's outputs z1_k(x): weights := masks (all ones: nothing pruned),
     * biases 0, normalization = identity, each ReLU := multiplication by its recorded gate, input x*x.
     * Needs t = F64 and the 19 gates of {@link #logits} in float64.
     */
    double[] activationNetwork(Act x, List<Pointer> gates, DType maskType) {
        Act a = act(x.n, x.c, x.h, x.w);
        b.unary(t, U_SQUARE, x.p, x.numel(), 0, 0, a.p);
        int gi = 0;
        Act y = activationConv(a, "conv", 16, 3, 1, 1, gates.get(gi++), maskType);
        free(a);
        a = y;
        for (int i = 0; i < 9; i++) {
            String p = block(i);
            Act h = activationConv(a, p + "conv1", width(i), 3, down(i) ? 2 : 1, 1, gates.get(gi++), maskType);
            Act o = activationConv(h, p + "conv2", width(i), 3, 1, 1, null, maskType);
            free(h);
            if (down(i)) {
                Act s = activationConv(a, p + "shortcut.0", width(i), 1, 2, 0, null, maskType);
                addInPlace(o, s);
                free(s);
            } else addInPlace(o, a);
            elementwise(B_MUL, o.p, gates.get(gi++), o.p, o.numel());
            free(a);
            a = o;
        }
        Act f = pool(a);
        free(a);
        Act z1 = activationConv(f, "fc", 10, 1, 1, 0, null, maskType);
        free(f);
        double[] z = download(z1);
        free(z1);
        double[] w = new double[10];
        for (int n = 0; n < x.n; n++) for (int k = 0; k < 10; k++) w[k] += z[n * 10 + k];
        return w;
    }

    /** one convolution of P, remembering its input for the backward pass */
    private record PathConv(String name, ConvGeometry g, Act in) {}

    private Act pathConv(Act x, String name, int k, int ks, int stride, int pad, List<PathConv> tape) {
        ConvGeometry g = geometry(x, k, ks, stride, pad);
        Act y = act(x.n, k, g.oh(), g.ow());
        px.pathConvForward(t, g, x.p, weight(name + ".weight"), null, y.p);
        tape.add(new PathConv(name, g, x));
        return y;
    }

    /** P's normalization: the eval-time scale squared, shift 0 (in place) */
    private void pathBn(Act x, String bn) {
        double[] s = bnAffine(bn)[0];
        for (int c = 0; c < s.length; c++) s[c] *= s[c];
        Pointer sp = upload(s, t);
        b.channelAffine(t, x.n, x.c, (long) x.h * x.w, x.p, sp, null, x.p);
        free(sp);
    }

    /** gradient through a conv of P: scores of its weight, and the gradient to its input */
    private Act pathBack(PathConv c, Act gy, Map<String, double[]> scores) {
        Pointer s = alloc((long) c.g.k() * c.g.groupRows());
        px.pathConvScore(t, c.g, c.in.p, gy.p, weight(c.name + ".weight"), null, s);
        scores.put(c.name + ".weight", download(s, (long) c.g.k() * c.g.groupRows(), t));
        free(s);
        Act gx = act(c.in.n, c.in.c, c.in.h, c.in.w);
        px.pathConvBackwardData(t, c.g, gy.p, weight(c.name + ".weight"), null, gx.p);
        return gx;
    }

    /**
     * P on one all-ones sample (weights squared, normalization = its eval scale squared, no
     * activations, biases 0), then the backward pass of R = sum_k w_k z2_k through the fused
     * kernels: PX's score theta^2 dR/d(theta^2) of every prunable weight.
     */
    Map<String, double[]> pathScores(double[] w) {
        List<PathConv> tape = new ArrayList<>();
        double[] one = new double[3 * 32 * 32];
        java.util.Arrays.fill(one, 1);
        Act x = input(one, 1);
        Act a = pathConv(x, "conv", 16, 3, 1, 1, tape);
        pathBn(a, "bn");
        for (int i = 0; i < 9; i++) {
            String p = block(i);
            Act h = pathConv(a, p + "conv1", width(i), 3, down(i) ? 2 : 1, 1, tape);
            pathBn(h, p + "bn1");
            Act o = pathConv(h, p + "conv2", width(i), 3, 1, 1, tape);
            pathBn(o, p + "bn2");
            Act out = act(o.n, o.c, o.h, o.w);
            b.copy(o.p, out.p, o.numel() * t.size);
            if (down(i)) {
                Act s = pathConv(a, p + "shortcut.0", width(i), 1, 2, 0, tape);
                pathBn(s, p + "shortcut.1");
                addInPlace(out, s);
            } else addInPlace(out, a);
            a = out;
        }
        Act f = pool(a);
        Act z2 = pathConv(f, "fc", 10, 1, 1, 0, tape);

        // backward, seeded with dR/dz2 = w
        Map<String, double[]> scores = new LinkedHashMap<>();
        Act g = new Act(upload(w, t), 1, 10, 1, 1);
        Act gf = pathBack(tape.get(tape.size() - 1), g, scores);
        Act ga = act(a.n, a.c, a.h, a.w);
        b.avgPoolBackward(t, a.c, a.h, a.w, a.h, a.w, 1, 1, 1, 1, gf.p, ga.p);
        for (int i = 8; i >= 0; i--) {
            String p = block(i);
            // this block's convs on the tape: conv1, conv2 (and shortcut.0)
            int base = 1 + 2 * i + (i > 3 ? 1 : 0) + (i > 6 ? 1 : 0);
            PathConv c1 = tape.get(base), c2 = tape.get(base + 1);
            Act gc2 = scaled(ga, p + "bn2");
            Act gh = pathBack(c2, gc2, scores);
            Act gc1 = scaled(gh, p + "bn1");
            Act gin = pathBack(c1, gc1, scores);
            if (down(i)) {
                Act gcs = scaled(ga, p + "shortcut.1");
                Act gs = pathBack(tape.get(base + 2), gcs, scores);
                addInPlace(gin, gs);
            } else addInPlace(gin, ga);
            ga = gin;
        }
        Act gc = scaled(ga, "bn");
        pathBack(tape.get(0), gc, scores);
        return scores;
    }

    /** gy * (the eval scale of bn)^2 per channel: the backward of pathBn */
    private Act scaled(Act gy, String bn) {
        Act g = act(gy.n, gy.c, gy.h, gy.w);
        b.copy(gy.p, g.p, gy.numel() * t.size);
        pathBn(g, bn);
        return g;
    }

    @Override public void close() {
        for (Pointer p : owned) b.free(p);
        owned.clear();
        weights.clear();
    }
}
