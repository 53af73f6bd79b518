package pxprune.px.methods.px;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.px.Masks;
import pxprune.px.ScoringData;
import pxprune.px.TinyModels;

/** docs/px-method.md#score against explicit path enumeration, and its structural properties. */
public class PxScorerTest {
    public static final double TOL = 1e-10;

    public static double[][] rows(Tensor x) {
        int n = x.size(0);
        double[] v = x.toDoubleArray();
        int per = v.length / n;
        double[][] out = new double[n][];
        for (int i = 0; i < n; i++) out[i] = Arrays.copyOfRange(v, i * per, (i + 1) * per);
        return out;
    }

    /** max |a - b| / max |b| over all layers */
    public static double maxRelError(Map<String, double[]> expected, Map<String, Tensor> actual) {
        double maxRef = 0, maxErr = 0;
        for (var e : expected.entrySet()) {
            double[] a = actual.get(e.getKey()).toDoubleArray(), b = e.getValue();
            assertEquals(b.length, a.length, e.getKey());
            for (int i = 0; i < b.length; i++) {
                maxRef = Math.max(maxRef, Math.abs(b[i]));
                maxErr = Math.max(maxErr, Math.abs(a[i] - b[i]));
            }
        }
        return maxErr / maxRef;
    }

    public static PathEnumeration mlpGraph(TinyModels.Mlp m, Masks masks) {
        PathEnumeration g = new PathEnumeration();
        for (int i = 0; i < m.fc.length; i++) g.linear("fc" + i + ".weight", m.fc[i], masks, i < m.fc.length - 1);
        return g;
    }

    public static PathEnumeration cnnGraph(TinyModels.Cnn m, Masks masks) {
        PathEnumeration g = new PathEnumeration();
        var c1 = g.conv("conv1.weight", m.conv1, 4, 4, masks, true);
        if (m.bn1 != null) PathEnumeration.batchNorm(c1, m.bn1);
        var c2 = g.conv("conv2.weight", m.conv2, 4, 4, masks, true);
        if (m.bn2 != null) PathEnumeration.batchNorm(c2, m.bn2);
        g.linear("fc.weight", m.fc, masks, false);
        return g;
    }

    void checkAgainstEnumeration(Module model, PathEnumeration g, Masks masks, Tensor x, boolean dataFree) {
        try (MemoryScope s = MemoryScope.open()) {
            double[] minAbsZ = {Double.MAX_VALUE};
            Map<String, double[]> expected = g.pxScores(dataFree ? null : rows(x), minAbsZ);
            if (!dataFree) assertTrue(minAbsZ[0] > 1e-5, "a pre-activation is within float32 rounding of 0: choose another seed");
            Map<String, Tensor> actual = new PxScorer(dataFree).score(model, masks, new ScoringData(x, new int[x.size(0)], 2, 0, 2));
            assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()));
            double err = maxRelError(expected, actual);
            System.out.printf("px vs enumeration (%s, dataFree=%b): max relative error %.2e%n", model.getClass().getSimpleName(), dataFree, err);
            assertTrue(err <= TOL, "px vs path enumeration: relative error " + err);
        }
    }

    @Test void mlpEqualsPathEnumeration() {
        try (MemoryScope s = MemoryScope.open(); var model = new TinyModels.Mlp(3, 3, 4, 4, 2)) {
            Tensor x = TinyModels.randomInputs(11, 5, 3);
            for (Masks masks : List.of(Masks.ones(model), TinyModels.randomMasks(model, 0.6, 5))) {
                checkAgainstEnumeration(model, mlpGraph(model, masks), masks, x, false);
                checkAgainstEnumeration(model, mlpGraph(model, masks), masks, x, true);
            }
        }
    }

    @Test void deeperMlpEqualsPathEnumeration() {
        try (MemoryScope s = MemoryScope.open(); var model = new TinyModels.Mlp(4, 3, 5, 4, 3, 3)) {
            Tensor x = TinyModels.randomInputs(12, 7, 3);
            Masks masks = TinyModels.randomMasks(model, 0.7, 9);
            checkAgainstEnumeration(model, mlpGraph(model, masks), masks, x, false);
        }
    }

    @Test void cnnEqualsPathEnumeration() {
        for (boolean bn : new boolean[] {false, true}) {
            try (MemoryScope s = MemoryScope.open(); var model = new TinyModels.Cnn(5, bn, false)) {
                if (bn) TinyModels.perturbBatchNorms(model, 3);
                Tensor x = TinyModels.randomInputs(13, 4, 1, 4, 4);
                for (Masks masks : List.of(Masks.ones(model), TinyModels.randomMasks(model, 0.5, 2))) {
                    checkAgainstEnumeration(model, cnnGraph(model, masks), masks, x, false);
                    checkAgainstEnumeration(model, cnnGraph(model, masks), masks, x, true);
                }
            }
        }
    }

    @Test void aDisconnectedNetworkIsAnError() {
        try (MemoryScope s = MemoryScope.open(); var model = new TinyModels.Mlp(3, 3, 4, 2)) {
            Map<String, float[]> v = new java.util.LinkedHashMap<>();
            Map<String, int[]> sh = new java.util.LinkedHashMap<>();
            Masks ones = Masks.ones(model);
            for (String n : ones.names()) { v.put(n, ones.values(n)); sh.put(n, ones.shape(n)); }
            Arrays.fill(v.get("fc1.weight"), 0f);
            Tensor x = TinyModels.randomInputs(1, 3, 3);
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> new PxScorer().score(model, Masks.of(v, sh), new ScoringData(x, new int[3], 2, 0)));
            assertTrue(e.getMessage().contains("every output of the activation network is 0"), e.getMessage());
        }
    }

    public static double[] layerSums(Map<String, Tensor> scores) {
        List<Double> out = new ArrayList<>();
        for (Tensor t : scores.values()) out.add(Arrays.stream(t.toDoubleArray()).sum());
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    @Test void everyLayerSumsToRonAChain() {
        try (MemoryScope s = MemoryScope.open(); var model = new TinyModels.Cnn(7, true, false)) {
            TinyModels.perturbBatchNorms(model, 1);
            Tensor x = TinyModels.randomInputs(1, 6, 1, 4, 4);
            Masks masks = TinyModels.randomMasks(model, 0.7, 3);
            Map<String, Tensor> sc = new PxScorer().score(model, masks, new ScoringData(x, new int[6], 2, 0));
            PathEnumeration g = cnnGraph(model, masks);
            g.pxScores(rows(x), new double[] {1});
            double[] sums = layerSums(sc);
            for (double v : sums) assertEquals(1.0, v / g.lastR, 1e-12, "layer sums " + Arrays.toString(sums) + " vs R " + g.lastR);
            for (Tensor t : sc.values()) for (double v : t.toDoubleArray()) assertTrue(v >= 0, "negative PX score " + v);
        }
        try (MemoryScope s = MemoryScope.open(); var model = new TinyModels.Mlp(8, 6, 10, 10, 10, 4)) {
            Tensor x = TinyModels.randomInputs(2, 9, 6);
            double[] sums = layerSums(new PxScorer().score(model, Masks.ones(model), new ScoringData(x, new int[9], 4, 0)));
            for (double v : sums) assertEquals(1.0, v / sums[sums.length - 1], 1e-12, Arrays.toString(sums));
        }
    }

    @Test void invariantToRescalingAHiddenUnit() {
        try (MemoryScope s = MemoryScope.open(); var model = new TinyModels.Mlp(9, 3, 4, 4, 2)) {
            Tensor x = TinyModels.randomInputs(3, 6, 3);
            Masks masks = TinyModels.randomMasks(model, 0.8, 4);
            ScoringData data = new ScoringData(x, new int[6], 2, 0);
            Map<String, Tensor> before = new PxScorer().score(model, masks, data);
            // unit 2 of the first hidden layer: in-weights (row 2 of fc0) * c, out-weights (column 2 of fc1) / c;
            // c a power of two so that the float32 weights are rescaled exactly
            double c = 8;
            double[] w0 = model.fc[0].weight().toDoubleArray(), w1 = model.fc[1].weight().toDoubleArray();
            for (int i = 0; i < 3; i++) w0[2 * 3 + i] *= c;
            for (int o = 0; o < 4; o++) w1[o * 4 + 2] /= c;
            TinyModels.set(model.fc[0].weight(), w0);
            TinyModels.set(model.fc[1].weight(), w1);
            Map<String, Tensor> after = new PxScorer().score(model, masks, data);
            Map<String, double[]> b = new java.util.LinkedHashMap<>();
            before.forEach((k, v) -> b.put(k, v.toDoubleArray()));
            assertTrue(maxRelError(b, after) <= 1e-13, "rescaling changed the scores by " + maxRelError(b, after));
        }
    }

    public static int[] ranking(Map<String, Tensor> scores) {
        double[] all = scores.values().stream().flatMapToDouble(t -> Arrays.stream(t.toDoubleArray())).toArray();
        Integer[] idx = new Integer[all.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        Arrays.sort(idx, (a, b) -> all[a] != all[b] ? Double.compare(all[b], all[a]) : Integer.compare(a, b));
        return Arrays.stream(idx).mapToInt(Integer::intValue).toArray();
    }

    @Test void withADenseOutputLayerTheRankingIgnoresTheData() {
        try (MemoryScope s = MemoryScope.open(); Module model = ModelRegistry.create("resnet20", 1, 10, 8, 3)) {
            Tensor x = TinyModels.randomInputs(4, 20, 1, 8, 8);
            ScoringData data = new ScoringData(x, new int[20], 10, 0);
            // the convolutions pruned at random, the output layer dense
            Masks masks = TinyModels.randomMasks(model, 0.5, 6);
            Map<String, float[]> v = new java.util.LinkedHashMap<>();
            Map<String, int[]> sh = new java.util.LinkedHashMap<>();
            for (String n : masks.names()) {
                float[] m = masks.values(n);
                if (n.equals("fc.weight")) Arrays.fill(m, 1f);
                v.put(n, m);
                sh.put(n, masks.shape(n));
            }
            Masks denseOut = Masks.of(v, sh);
            Map<String, Tensor> withData = new PxScorer(false).score(model, denseOut, data);
            Map<String, Tensor> dataFree = new PxScorer(true).score(model, denseOut, data);
            assertTrue(Arrays.equals(ranking(withData), ranking(dataFree)), "rankings differ with a dense output layer");
            // once the output layer is pruned, the data enter through w
            Map<String, Tensor> a = new PxScorer(false).score(model, masks, data), b = new PxScorer(true).score(model, masks, data);
            assertTrue(!Arrays.equals(ranking(a), ranking(b)), "with a pruned output layer the data should matter");
        }
    }
}
