package pxprune.px;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Init;
import pxprune.nn.Interpreter;
import pxprune.nn.Module;
import pxprune.px.methods.GradientScorersTest;
import pxprune.px.methods.GraspScorer;
import pxprune.px.methods.SnipScorer;

/**
 * SNIP and GraSP on per-pixel labels ({@link ScoringData#dense}) against a hand-built loss: the
 * model's float64 logits [n, K, H, W] (batch statistics) with the per-pixel cross-entropy written
 * out in Java (log-sum-exp per pixel, ignored pixels skipped, mean over the labelled ones), SNIP's
 * gradient by central differences of it and GraSP's Hessian-gradient product by central
 * differences of that gradient.
 */
class DenseScoringTest {
    static final int N = 3, K = 3, H = 4, W = 4, IGNORE = ScoringData.IGNORE;

    /** conv1 1->2 3x3 pad 1, bn, ReLU, conv2 2->K 1x1 with bias: [n, K, 4, 4] */
    static final class SegNet extends Module {
        final Conv2d conv1, conv2;
        final BatchNorm bn1;

        SegNet(long seed) {
            Init init = new Init(seed);
            conv1 = registerModule("conv1", new Conv2d(1, 2, 3, 1, 1, false, init));
            bn1 = registerModule("bn1", new BatchNorm(2));
            conv2 = registerModule("conv2", new Conv2d(2, K, 1, 1, 0, true, init));
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            return conv2.forward(it.relu(bn1.forward(conv1.forward(x, it), it)), it);
        }
    }

    static int[] labels() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(7);
        int[] y = new int[N * H * W];
        for (int i = 0; i < y.length; i++) y[i] = r.nextInt(5) == 0 ? IGNORE : r.nextInt(K);
        return y;
    }

    /** the hand-built loss at weights v (one array per prunable layer), logits divided by temperature */
    static double loss(Module model, List<PrunableLayer> layers, double[][] v, Tensor x64, int[] y, double temperature) {
        double[] z;
        try (MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
            Map<Module, Tensor> sub = new IdentityHashMap<>();
            for (int i = 0; i < layers.size(); i++) sub.put(layers.get(i).module(), Tensor.of(v[i].clone(), layers.get(i).shape()));
            Substituted net = new Substituted(sub, Substituted.biases(layers, DType.F64, t -> t), Substituted.batchStatsNorm(model, DType.F64),
                    Ops::relu);
            z = model.forward(x64, net).toDoubleArray();
        }
        double sum = 0;
        int count = 0;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < H * W; p++) {
                int label = y[n * H * W + p];
                if (label == IGNORE) continue;
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < K; k++) max = Math.max(max, z[(n * K + k) * H * W + p] / temperature);
                double lse = 0;
                for (int k = 0; k < K; k++) lse += Math.exp(z[(n * K + k) * H * W + p] / temperature - max);
                sum += Math.log(lse) + max - z[(n * K + label) * H * W + p] / temperature;
                count++;
            }
        return sum / count;
    }

    static double[][] theta(List<PrunableLayer> layers) {
        double[][] v = new double[layers.size()][];
        for (int i = 0; i < v.length; i++) v[i] = layers.get(i).weight().toDoubleArray();
        return v;
    }

    static double[][] gradient(Module model, List<PrunableLayer> layers, double[][] at, Tensor x64, int[] y, double temp, double h) {
        double[][] g = new double[at.length][];
        for (int i = 0; i < at.length; i++) {
            g[i] = new double[at[i].length];
            for (int j = 0; j < at[i].length; j++) {
                double keep = at[i][j];
                at[i][j] = keep + h;
                double lp = loss(model, layers, at, x64, y, temp);
                at[i][j] = keep - h;
                double lm = loss(model, layers, at, x64, y, temp);
                at[i][j] = keep;
                g[i][j] = (lp - lm) / (2 * h);
            }
        }
        return g;
    }

    @Test
    void theLossIsTheMeanOverLabelledPixelsAsCrossEntropy2d() {
        try (MemoryScope s = MemoryScope.open(); SegNet model = new SegNet(3)) {
            TinyModels.perturbBatchNorms(model, 1);
            Tensor x = TinyModels.randomInputs(4, N, 1, H, W);
            int[] y = labels();
            List<PrunableLayer> layers = PrunableLayer.of(model);
            double hand = loss(model, layers, theta(layers), x.to(DType.F64), y, 1);
            ScoringData d = ScoringData.dense(x, y, K, 0, N);
            double viaBatchLoss;
            try (EvalMode e = new EvalMode(model); MemoryScope s2 = MemoryScope.open()) {
                viaBatchLoss = BatchLoss.of(model, Masks.ones(model), d, DType.F64, 1).loss().item();
            }
            assertEquals(hand, viaBatchLoss, 1e-12 * Math.abs(hand));
        }
    }

    @Test
    void snipOnPixelLabelsIsTheNormalisedGradientTimesWeight() {
        try (MemoryScope s = MemoryScope.open(); SegNet model = new SegNet(11)) {
            TinyModels.perturbBatchNorms(model, 2);
            Tensor x = TinyModels.randomInputs(5, N, 1, H, W);
            int[] y = labels();
            List<PrunableLayer> layers = PrunableLayer.of(model);
            double[][] th = theta(layers);
            double[][] g = gradient(model, layers, theta(layers), x.to(DType.F64), y, 1, 1e-6);
            double total = 0;
            for (int i = 0; i < g.length; i++) for (int j = 0; j < g[i].length; j++) { g[i][j] = Math.abs(g[i][j] * th[i][j]); total += g[i][j]; }
            for (double[] l : g) for (int j = 0; j < l.length; j++) l[j] /= total;
            double err = GradientScorersTest.relL2(g, new SnipScorer(DType.F64).score(model, Masks.ones(model), ScoringData.dense(x, y, K, 0, N)), layers);
            System.out.printf("dense snip vs finite differences of the hand-built loss: relative L2 %.2e%n", err);
            assertTrue(err < 1e-6, "snip: " + err);
        }
    }

    /**
     * The same loss built from elementwise ops (exp, sum over classes, log, one-hot products), so
     * that autograd can differentiate it without Ops.crossEntropy2d: float64 at the weights w.
     */
    static Tensor opsLoss(Module model, List<PrunableLayer> layers, List<Tensor> w, Tensor x64, int[] y, double temperature) {
        Map<Module, Tensor> sub = new IdentityHashMap<>();
        for (int i = 0; i < layers.size(); i++) sub.put(layers.get(i).module(), w.get(i));
        Substituted net = new Substituted(sub, Substituted.biases(layers, DType.F64, t -> t), Substituted.batchStatsNorm(model, DType.F64),
                Ops::relu);
        Tensor z = Ops.affine(model.forward(x64, net), 1 / temperature, 0);
        double[] onehot = new double[N * K * H * W], valid = new double[N * H * W];
        int count = 0;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < H * W; p++) {
                int l = y[n * H * W + p];
                if (l == IGNORE) continue;
                onehot[(n * K + l) * H * W + p] = 1;
                valid[n * H * W + p] = 1;
                count++;
            }
        Tensor lse = Ops.log(Ops.sum(Ops.exp(z), true, 1));
        Tensor total = Ops.sub(Ops.sum(Ops.mul(lse, Tensor.of(valid, N, 1, H, W))), Ops.sum(Ops.mul(z, Tensor.of(onehot, N, K, H, W))));
        return Ops.affine(total, 1.0 / count, 0);
    }

    static double[][] opsGradient(Module model, List<PrunableLayer> layers, double[][] v, Tensor x64, int[] y, double temp) {
        try (MemoryScope s = MemoryScope.open()) {
            List<Tensor> w = new java.util.ArrayList<>();
            for (int i = 0; i < layers.size(); i++) w.add(Tensor.of(v[i].clone(), layers.get(i).shape()).requiresGrad(true));
            Tensor[] g = pxprune.core.Autograd.grad(opsLoss(model, layers, w, x64, y, temp), w, false);
            double[][] out = new double[g.length][];
            for (int i = 0; i < g.length; i++) out[i] = g[i].toDoubleArray();
            return out;
        }
    }

    @Test
    void graspOnPixelLabelsIsThetaTimesHessianGradientNormalised() {
        try (MemoryScope s = MemoryScope.open(); SegNet model = new SegNet(12)) {
            TinyModels.perturbBatchNorms(model, 3);
            Tensor x = TinyModels.randomInputs(6, N, 1, H, W);
            Tensor x64 = x.to(DType.F64);
            int[] y = labels();
            List<PrunableLayer> layers = PrunableLayer.of(model);
            double t = GraspScorer.TEMPERATURE;
            double[][] th = theta(layers);
            // the elementwise-ops loss is the hand-built loss
            try (MemoryScope s2 = MemoryScope.open(); GradMode ng = GradMode.noGrad()) {
                List<Tensor> w = new java.util.ArrayList<>();
                for (int i = 0; i < layers.size(); i++) w.add(Tensor.of(th[i].clone(), layers.get(i).shape()));
                double a = opsLoss(model, layers, w, x64, y, t).item(), b = loss(model, layers, th, x64, y, t);
                assertEquals(b, a, 1e-12 * Math.abs(b));
            }
            double[][] g = opsGradient(model, layers, th, x64, y, t);
            // Hg = d/dh g(theta + h g) at h = 0, by central differences with a step of 1e-6 of |theta| / |g|
            double gn = 0, tn = 0;
            for (int i = 0; i < g.length; i++) for (int j = 0; j < g[i].length; j++) { gn += g[i][j] * g[i][j]; tn += th[i][j] * th[i][j]; }
            double h = 1e-6 * Math.sqrt(tn / gn);
            double[][] plus = theta(layers), minus = theta(layers);
            for (int i = 0; i < g.length; i++) for (int j = 0; j < g[i].length; j++) { plus[i][j] += h * g[i][j]; minus[i][j] -= h * g[i][j]; }
            double[][] gp = opsGradient(model, layers, plus, x64, y, t), gm = opsGradient(model, layers, minus, x64, y, t);
            double[][] expected = new double[g.length][];
            double total = 0;
            for (int i = 0; i < g.length; i++) {
                expected[i] = new double[g[i].length];
                for (int j = 0; j < g[i].length; j++) {
                    expected[i][j] = th[i][j] * (gp[i][j] - gm[i][j]) / (2 * h);
                    total += expected[i][j];
                }
            }
            for (double[] l : expected) for (int j = 0; j < l.length; j++) l[j] /= Math.abs(total) + GraspScorer.EPS;
            double err = GradientScorersTest.relL2(expected, new GraspScorer(DType.F64).score(model, Masks.ones(model), ScoringData.dense(x, y, K, 0, N)), layers);
            System.out.printf("dense grasp vs finite differences of the hand-built loss's gradient: relative L2 %.2e%n", err);
            assertTrue(err < 1e-6, "grasp: " + err);
        }
    }

    @Test
    void pixelLabelsAreChecked() {
        try (MemoryScope s = MemoryScope.open()) {
            Tensor x = TinyModels.randomInputs(1, 2, 1, 2, 2);
            String m = assertThrows(IllegalArgumentException.class, () -> ScoringData.dense(x, new int[7], 3, 0, 2)).getMessage();
            assertTrue(m.contains("need 8 pixel labels"), m);
            m = assertThrows(IllegalArgumentException.class, () -> ScoringData.dense(x, new int[] {0, 1, 2, 3, 0, 0, 0, 0}, 3, 0, 2))
                    .getMessage();
            assertTrue(m.contains("pixel label 3") && m.contains("image 0, pixel 3"), m);
            int[] all = new int[8];
            java.util.Arrays.fill(all, IGNORE);
            m = assertThrows(IllegalArgumentException.class, () -> ScoringData.dense(x, all, 3, 0, 2)).getMessage();
            assertTrue(m.contains("every pixel label is the ignore label"), m);
            m = assertThrows(IllegalArgumentException.class, () -> ScoringData.dense(TinyModels.randomInputs(1, 2, 4), new int[8], 3, 0, 2))
                    .getMessage();
            assertTrue(m.contains("[n, C, H, W]"), m);
            ScoringData d = ScoringData.dense(x, new int[] {1, 1, 2, IGNORE, IGNORE, 2, 2, 0}, 3, 0, 2);
            assertTrue(d.isDense());
            assertEquals(List.of(1, 2), java.util.Arrays.stream(d.labels()).boxed().toList()); // each image's most frequent class
            assertTrue(d.withTrace(Trace.NONE).isDense());
        }
    }
}
