package pxprune.px.methods;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import pxprune.core.Autograd;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.Module;
import pxprune.px.Masks;
import pxprune.px.PrunableLayer;
import pxprune.px.ScoringData;
import pxprune.px.Substituted;
import pxprune.px.TinyModels;

/**
 * SNIP and GraSP in float64 on a tiny CNN with batch norm (batch statistics) against finite
 * differences: SNIP's gradient by central differences of the loss, GraSP's Hessian-gradient
 * product by central differences of the gradient along the stopped gradient.
 */
public class GradientScorersTest {
    public static final int N = 6;

    /** the mean cross-entropy of logits / temperature at the given weights, batch statistics, float64 */
    public static Tensor loss(Module model, List<PrunableLayer> layers, List<Tensor> w, Tensor x, Tensor labels, double temperature) {
        Map<Module, Tensor> sub = new IdentityHashMap<>();
        for (int i = 0; i < layers.size(); i++) sub.put(layers.get(i).module(), w.get(i));
        Substituted net = new Substituted(sub, Substituted.biases(layers, DType.F64, v -> v),
                Substituted.batchStatsNorm(model, DType.F64), Ops::relu);
        return Ops.crossEntropy(Ops.affine(model.forward(x, net), 1 / temperature, 0), labels);
    }

    public static List<Tensor> weights(List<PrunableLayer> layers, double[][] v) {
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) out.add(Tensor.of(v[i].clone(), layers.get(i).shape()).requiresGrad(true));
        return out;
    }

    public static double[][] gradient(Module model, List<PrunableLayer> layers, double[][] v, Tensor x, Tensor labels, double temp) {
        try (MemoryScope s = MemoryScope.open()) {
            List<Tensor> w = weights(layers, v);
            Tensor[] g = Autograd.grad(loss(model, layers, w, x, labels, temp), w, false);
            double[][] out = new double[g.length][];
            for (int i = 0; i < g.length; i++) out[i] = g[i].toDoubleArray();
            return out;
        }
    }

    public static double[][] theta(List<PrunableLayer> layers) {
        double[][] v = new double[layers.size()][];
        for (int i = 0; i < v.length; i++) v[i] = layers.get(i).weight().toDoubleArray();
        return v;
    }

    public static double relL2(double[][] expected, Map<String, Tensor> actual, List<PrunableLayer> layers) {
        double num = 0, den = 0;
        for (int i = 0; i < layers.size(); i++) {
            double[] a = actual.get(layers.get(i).name()).toDoubleArray();
            for (int j = 0; j < a.length; j++) {
                num += (a[j] - expected[i][j]) * (a[j] - expected[i][j]);
                den += expected[i][j] * expected[i][j];
            }
        }
        return Math.sqrt(num / den);
    }

    public static void normalise(double[][] s, double by) { for (double[] l : s) for (int j = 0; j < l.length; j++) l[j] /= by; }

    @Test void snipIsTheNormalisedGradientTimesWeight() {
        try (MemoryScope s = MemoryScope.open(); var model = new TinyModels.Cnn(21, true, true)) {
            TinyModels.perturbBatchNorms(model, 2);
            Tensor x = TinyModels.randomInputs(5, N, 1, 4, 4);
            int[] y = {0, 1, 0, 1, 1, 0};
            List<PrunableLayer> layers = PrunableLayer.of(model);
            double[][] th = theta(layers), expected = new double[th.length][];
            Tensor x64 = x.to(DType.F64), labels = Tensor.ofInts(y, N);
            double h = 1e-6, total = 0;
            for (int i = 0; i < th.length; i++) {
                expected[i] = new double[th[i].length];
                for (int j = 0; j < th[i].length; j++) {
                    double[] l = new double[2];
                    for (int k = 0; k < 2; k++) {
                        double[][] v = theta(layers);
                        v[i][j] += k == 0 ? h : -h;
                        try (MemoryScope s2 = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
                            l[k] = loss(model, layers, weights(layers, v), x64, labels, 1).item();
                        }
                    }
                    expected[i][j] = Math.abs((l[0] - l[1]) / (2 * h) * th[i][j]);
                    total += expected[i][j];
                }
            }
            normalise(expected, total);
            double err = relL2(expected, new SnipScorer(DType.F64).score(model, Masks.ones(model), new ScoringData(x, y, 2, 0)), layers);
            System.out.printf("snip vs finite differences: relative L2 %.2e%n", err);
            assertTrue(err < 1e-6, "snip: " + err);
        }
    }

    @Test void graspIsThetaTimesHessianGradientNormalised() {
        try (MemoryScope s = MemoryScope.open(); var model = new TinyModels.Cnn(22, true, true)) {
            TinyModels.perturbBatchNorms(model, 3);
            Tensor x = TinyModels.randomInputs(6, N, 1, 4, 4);
            int[] y = {1, 1, 0, 0, 1, 0};
            List<PrunableLayer> layers = PrunableLayer.of(model);
            Tensor x64 = x.to(DType.F64), labels = Tensor.ofInts(y, N);
            double t = GraspScorer.TEMPERATURE;
            double[][] th = theta(layers), g = gradient(model, layers, th, x64, labels, t);
            // Hg = d/dh g(theta + h g) at h = 0, by central differences with a step of 1e-6 of |theta| / |g|
            double gn = 0, tn = 0;
            for (int i = 0; i < g.length; i++) for (int j = 0; j < g[i].length; j++) { gn += g[i][j] * g[i][j]; tn += th[i][j] * th[i][j]; }
            double h = 1e-6 * Math.sqrt(tn / gn);
            double[][] plus = theta(layers), minus = theta(layers);
            for (int i = 0; i < g.length; i++) for (int j = 0; j < g[i].length; j++) { plus[i][j] += h * g[i][j]; minus[i][j] -= h * g[i][j]; }
            double[][] gp = gradient(model, layers, plus, x64, labels, t), gm = gradient(model, layers, minus, x64, labels, t);
            double[][] expected = new double[g.length][];
            double total = 0;
            for (int i = 0; i < g.length; i++) {
                expected[i] = new double[g[i].length];
                for (int j = 0; j < g[i].length; j++) {
                    expected[i][j] = th[i][j] * (gp[i][j] - gm[i][j]) / (2 * h);
                    total += expected[i][j];
                }
            }
            normalise(expected, Math.abs(total) + GraspScorer.EPS);
            double err = relL2(expected, new GraspScorer(DType.F64).score(model, Masks.ones(model), new ScoringData(x, y, 2, 0)), layers);
            System.out.printf("grasp vs finite differences: relative L2 %.2e%n", err);
            assertTrue(err < 1e-6, "grasp: " + err);
        }
    }
}
