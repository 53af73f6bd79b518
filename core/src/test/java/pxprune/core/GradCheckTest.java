package pxprune.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import pxprune.kernels.DType;

/**
 * Finite-difference checks in float64 of every op's backward (first order), and of gradients of
 * gradients (Hessian-vector products through create-graph backward).
 */
class GradCheckTest {
    MemoryScope scope;
    final SplittableRandom rng = new SplittableRandom(7);

    @BeforeEach void open() { scope = MemoryScope.open(); }
    @AfterEach void close() { scope.close(); }

    Tensor rand(int... shape) { return rand(0, shape); }

    /** uniform values with |v| >= away (keeps ReLU/abs/max away from their kinks) */
    Tensor rand(double away, int... shape) {
        double[] v = new double[(int) Tensor.numel(shape)];
        for (int i = 0; i < v.length; i++) {
            double u = rng.nextDouble(-1, 1);
            v[i] = u + Math.copySign(away, u);
        }
        return Tensor.of(v, shape).requiresGrad(true);
    }

    Tensor positive(int... shape) {
        double[] v = new double[(int) Tensor.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = rng.nextDouble(0.5, 2);
        return Tensor.of(v, shape).requiresGrad(true);
    }

    static void set(Tensor t, double[] v) { t.backend().upload(v, t.ptr()); }

    /** L = sum(f(inputs) * r) for a fixed random r; compares backward with central differences */
    void check(String name, Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        List<Tensor> in = List.of(inputs);
        Tensor y0;
        try (GradMode g = GradMode.noGrad()) { y0 = f.apply(in); }
        Tensor r = rand(y0.shape()).requiresGrad(false);
        Function<List<Tensor>, Double> loss = xs -> {
            try (MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
                return Ops.sum(Ops.mul(f.apply(xs), r)).item();
            }
        };
        Ops.sum(Ops.mul(f.apply(in), r)).backward();
        double eps = 1e-6;
        for (int k = 0; k < inputs.length; k++) {
            Tensor x = inputs[k];
            if (!x.requiresGrad()) continue;
            double[] v = x.toDoubleArray(), analytic = x.grad().toDoubleArray(), numeric = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                double o = v[i];
                v[i] = o + eps; set(x, v); double lp = loss.apply(in);
                v[i] = o - eps; set(x, v); double lm = loss.apply(in);
                v[i] = o; set(x, v);
                numeric[i] = (lp - lm) / (2 * eps);
            }
            double err = Golden.relL2(numeric, analytic);
            assertTrue(err < 1e-6, name + ": input " + k + " gradient differs from finite differences, rel " + err);
        }
    }

    @Test void elementwise() {
        check("add broadcast", xs -> Ops.add(xs.get(0), xs.get(1)), rand(2, 3, 4), rand(3, 1));
        check("sub broadcast", xs -> Ops.sub(xs.get(0), xs.get(1)), rand(2, 3), rand(2, 1));
        check("mul broadcast", xs -> Ops.mul(xs.get(0), xs.get(1)), rand(2, 3, 4), rand(1, 3, 1));
        check("div", xs -> Ops.div(xs.get(0), xs.get(1)), rand(3, 4), positive(4));
        check("affine", xs -> Ops.affine(xs.get(0), -1.5, 0.25), rand(5));
        check("square", xs -> Ops.square(xs.get(0)), rand(6));
        check("abs", xs -> Ops.abs(xs.get(0)), rand(0.1, 6));
        check("sqrt", xs -> Ops.sqrt(xs.get(0)), positive(6));
        check("rsqrt", xs -> Ops.rsqrt(xs.get(0)), positive(6));
        check("exp", xs -> Ops.exp(xs.get(0)), rand(6));
        check("log", xs -> Ops.log(xs.get(0)), positive(6));
        check("relu", xs -> Ops.relu(xs.get(0)), rand(0.1, 2, 5));
        // the reusing forms on a fresh intermediate (as a model calls them): the same derivatives
        check("reluReusing", xs -> Ops.reluReusing(Ops.affine(xs.get(0), 1.5, 0)), rand(0.1, 2, 5));
        check("addReusing broadcast", xs -> Ops.addReusing(Ops.affine(xs.get(0), 2, 0), xs.get(1)), rand(2, 3, 4), rand(3, 1));
        check("relu of addReusing", xs -> Ops.reluReusing(Ops.addReusing(Ops.mul(xs.get(0), xs.get(1)), xs.get(1))),
                rand(0.3, 3, 4), rand(0.3, 3, 4));
    }

    /** float32 rounding defeats finite differences here: the gradient of a conversion is the upstream one */
    @Test void conversionPassesGradientThrough() {
        Tensor x = rand(4);
        Tensor r = Tensor.of(new float[] {1, -2, 3.5f, 0.25f}, 4);
        Ops.sum(Ops.mul(Ops.to(x, DType.F32), r)).backward();
        org.junit.jupiter.api.Assertions.assertEquals(DType.F64, x.grad().dtype());
        org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {1, -2, 3.5, 0.25}, x.grad().toDoubleArray());
    }

    @Test void reductionsAndShapes() {
        check("sum all", xs -> Ops.sum(xs.get(0)), rand(2, 3, 4));
        check("sum dims", xs -> Ops.sum(xs.get(0), false, 0, 2), rand(2, 3, 4));
        check("sum keepdim last", xs -> Ops.sum(xs.get(0), true, -1), rand(2, 3, 4));
        check("mean dims", xs -> Ops.mean(xs.get(0), false, 1), rand(2, 3, 4));
        check("expand", xs -> Ops.expand(xs.get(0), new int[] {2, 3, 4}), rand(3, 1));
        check("reshape/flatten", xs -> Ops.flatten(xs.get(0), 1), rand(2, 3, 4));
    }

    @Test void matmulAndLinear() {
        check("matmul", xs -> Ops.matmul(xs.get(0), xs.get(1), false, false), rand(3, 4), rand(4, 5));
        check("matmul tA", xs -> Ops.matmul(xs.get(0), xs.get(1), true, false), rand(4, 3), rand(4, 5));
        check("matmul tB", xs -> Ops.matmul(xs.get(0), xs.get(1), false, true), rand(3, 4), rand(5, 4));
        check("matmul tAtB", xs -> Ops.matmul(xs.get(0), xs.get(1), true, true), rand(4, 3), rand(5, 4));
        check("linear", xs -> Ops.linear(xs.get(0), xs.get(1), xs.get(2)), rand(3, 4), rand(2, 4), rand(2));
    }

    @Test void convolution() {
        check("conv s2 p1 bias", xs -> Ops.conv2d(xs.get(0), xs.get(1), xs.get(2), 2, 1, 1), rand(2, 3, 5, 5), rand(4, 3, 3, 3), rand(4));
        check("conv s1 p1 bias", xs -> Ops.conv2d(xs.get(0), xs.get(1), xs.get(2), 1, 1, 1), rand(2, 3, 5, 4), rand(4, 3, 3, 3), rand(4));
        check("conv s1 p0 2x2", xs -> Ops.conv2d(xs.get(0), xs.get(1), null, 1, 0, 1), rand(2, 2, 4, 5), rand(3, 2, 2, 2));
        check("conv groups", xs -> Ops.conv2d(xs.get(0), xs.get(1), null, 1, 1, 2), rand(2, 4, 4, 4), rand(6, 2, 3, 3));
        check("conv 1x1 s2", xs -> Ops.conv2d(xs.get(0), xs.get(1), null, 2, 0, 1), rand(2, 3, 4, 4), rand(5, 3, 1, 1));
    }

    @Test void normalization() {
        check("batchNormTrain", xs -> Ops.batchNormTrain(xs.get(0), xs.get(1), xs.get(2), null, null, 0.1, 1e-5),
                rand(3, 2, 3, 3), rand(2), rand(2));
        check("batchNormTrain 1d", xs -> Ops.batchNormTrain(xs.get(0), xs.get(1), xs.get(2), null, null, 0.1, 1e-5),
                rand(5, 3), rand(3), rand(3));
        Tensor rm = rand(2).requiresGrad(false), rv = positive(2).requiresGrad(false);
        check("batchNormEval", xs -> Ops.batchNormEval(xs.get(0), xs.get(1), xs.get(2), rm, rv, 1e-5), rand(2, 2, 3, 3), rand(2), rand(2));
        check("channelAffine", xs -> Ops.channelAffine(xs.get(0), xs.get(1), xs.get(2)), rand(2, 3, 2, 2), rand(3), rand(3));
    }

    @Test void poolingAndLoss() {
        check("maxPool k2 s2", xs -> Ops.maxPool2d(xs.get(0), 2, 2, 0), rand(2, 2, 4, 4));
        check("maxPool k3 s2 p1", xs -> Ops.maxPool2d(xs.get(0), 3, 2, 1), rand(1, 2, 5, 5));
        check("avgPool", xs -> Ops.avgPool2d(xs.get(0), 2, 2), rand(2, 2, 4, 4));
        check("globalAvgPool", xs -> Ops.globalAvgPool(xs.get(0)), rand(2, 3, 3, 3));
        check("logSoftmax", xs -> Ops.logSoftmax(xs.get(0)), rand(3, 5));
        Tensor labels = Tensor.ofInts(new int[] {1, 0, 4}, 3);
        check("crossEntropy", xs -> Ops.crossEntropy(xs.get(0), labels), rand(3, 5));
    }

    @Test void segmentationOps() {
        check("dilated conv d2", xs -> Ops.conv2d(xs.get(0), xs.get(1), xs.get(2), 1, 2, 2, 1), rand(2, 3, 6, 5), rand(4, 3, 3, 3), rand(4));
        check("dilated conv s2 d3 groups", xs -> Ops.conv2d(xs.get(0), xs.get(1), null, 2, 3, 3, 2), rand(1, 4, 7, 8), rand(4, 2, 3, 3));
        check("bilinear up", xs -> Ops.upsampleBilinear(xs.get(0), 7, 9, false), rand(2, 2, 3, 4));
        check("bilinear down align_corners", xs -> Ops.upsampleBilinear(xs.get(0), 3, 2, true), rand(1, 2, 7, 5));
        check("adaptive avg", xs -> Ops.adaptiveAvgPool2d(xs.get(0), 3, 2), rand(2, 2, 7, 5));
        check("cat dim 1", xs -> Ops.cat(1, xs.get(0), xs.get(1)), rand(2, 3, 2, 2), rand(2, 1, 2, 2));
        check("narrow dim 2", xs -> Ops.narrow(xs.get(0), 2, 1, 2), rand(2, 3, 4));
        check("sumPool k3 s2 p1", xs -> Ops.sumPool2d(xs.get(0), 3, 2, 1), rand(1, 2, 5, 6));
        Tensor[] pooled = Ops.maxPool2dWithIndices(rand(0.1, 1, 2, 4, 4).requiresGrad(false), 2, 2, 0);
        check("poolGather", xs -> Ops.poolGather(xs.get(0), pooled[1], pooled[0].shape()), rand(1, 2, 4, 4));
        check("maxPoolWithIndices", xs -> Ops.maxPool2dWithIndices(xs.get(0), 3, 2, 1)[0], rand(1, 2, 5, 5));
        Tensor labels = Tensor.ofInts(new int[] {1, 255, 0, 2, 2, 255}, 1, 2, 3);
        check("crossEntropy2d ignore", xs -> Ops.crossEntropy2d(xs.get(0), labels, 255), rand(1, 3, 2, 3));
        check("dropout", xs -> Ops.dropout(xs.get(0), 0.4, 5), rand(3, 4));
    }

    /** a small conv-bn-relu-pool-linear network's loss, as in GraSP's Hessian-gradient product */
    private Tensor net(Tensor x, Tensor labels, List<Tensor> p) {
        Tensor h = Ops.conv2d(x, p.get(0), null, 1, 1, 1);
        h = Ops.relu(Ops.batchNormTrain(h, p.get(1), p.get(2), null, null, 0.1, 1e-5));
        h = Ops.maxPool2d(h, 2, 2, 0);
        h = Ops.globalAvgPool(Ops.conv2d(h, p.get(3), null, 1, 0, 1));
        return Ops.crossEntropy(Ops.linear(h, p.get(4), p.get(5)), labels);
    }

    @Test void hessianVectorProductMatchesFiniteDifferences() {
        Tensor x = rand(4, 2, 4, 4).requiresGrad(false);
        Tensor labels = Tensor.ofInts(new int[] {0, 1, 2, 1}, 4);
        List<Tensor> p = new ArrayList<>(List.of(rand(3, 2, 3, 3), rand(3), rand(3), rand(4, 3, 1, 1), rand(3, 4), rand(3)));
        List<Tensor> v = new ArrayList<>();
        for (Tensor t : p) v.add(rand(t.shape()).requiresGrad(false));
        // Hv = d/dtheta (g(theta) . v)
        Tensor[] g = Autograd.grad(net(x, labels, p), p, true);
        Tensor gv = null;
        for (int i = 0; i < g.length; i++) {
            Tensor d = Ops.sum(Ops.mul(g[i], v.get(i)));
            gv = gv == null ? d : Ops.add(gv, d);
        }
        Tensor[] hv = Autograd.grad(gv, p, false);
        // central difference of the gradient along v
        double eps = 1e-5;
        double[][] plus = gradAt(x, labels, p, v, eps), minus = gradAt(x, labels, p, v, -eps);
        for (int i = 0; i < p.size(); i++) {
            double[] num = new double[plus[i].length];
            for (int j = 0; j < num.length; j++) num[j] = (plus[i][j] - minus[i][j]) / (2 * eps);
            double err = Golden.relL2(num, hv[i].toDoubleArray());
            assertTrue(err < 1e-5, "Hv for parameter " + i + " differs from finite differences, rel " + err);
        }
    }

    private double[][] gradAt(Tensor x, Tensor labels, List<Tensor> p, List<Tensor> v, double eps) {
        try (MemoryScope s = MemoryScope.open()) {
            List<Tensor> q = new ArrayList<>();
            for (int i = 0; i < p.size(); i++) {
                Tensor t;
                try (GradMode g = GradMode.noGrad()) { t = Ops.add(p.get(i), Ops.affine(v.get(i), eps, 0)); }
                q.add(t.requiresGrad(true));
            }
            Tensor[] g = Autograd.grad(net(x, labels, q), q, false);
            double[][] out = new double[g.length][];
            for (int i = 0; i < g.length; i++) out[i] = g[i].toDoubleArray();
            return out;
        }
    }
}
