package pxprune.px;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;

class TopKTest {
    /** two layers "a.weight" [2, 5] and "b.weight" [3, 2] */
    static Masks masks(float[] a, float[] b) {
        Map<String, float[]> v = new LinkedHashMap<>();
        v.put("a.weight", a);
        v.put("b.weight", b);
        Map<String, int[]> s = new LinkedHashMap<>();
        s.put("a.weight", new int[] {2, 5});
        s.put("b.weight", new int[] {3, 2});
        return Masks.of(v, s);
    }

    static Masks ones() {
        float[] a = new float[10], b = new float[6];
        java.util.Arrays.fill(a, 1);
        java.util.Arrays.fill(b, 1);
        return masks(a, b);
    }

    static Map<String, Tensor> scores(double[] a, double[] b) {
        Map<String, Tensor> s = new LinkedHashMap<>();
        s.put("a.weight", Tensor.of(a, 2, 5));
        s.put("b.weight", Tensor.of(b, 3, 2));
        return s;
    }

    @Test void keepCountIsNMinusFloor() {
        assertEquals(16 - (long) Math.floor(0.5 * 16), TopK.keepCount(16, 0.5));
        assertEquals(1, TopK.keepCount(16, 0.01)); // floor(0.99 * 16) = 15
        assertEquals(16, TopK.keepCount(16, 1.0));
        assertEquals(270896 - (long) Math.floor((1 - 0.018) * 270896), TopK.keepCount(270896, 0.018));
    }

    @Test void keepsExactlyNKeepGloballyAndPerLayer() {
        SplittableRandom r = new SplittableRandom(1);
        try (MemoryScope s = MemoryScope.open()) {
            for (double d : new double[] {1.0, 0.9, 0.5, 0.37, 0.1, 0.01}) {
                double[] a = r.doubles(10).toArray(), b = r.doubles(6).toArray();
                Masks g = TopK.global(scores(a, b), ones(), d);
                assertEquals(TopK.keepCount(16, d), g.kept(), "global, density " + d);
                Masks l = TopK.perLayer(scores(a, b), ones(), d);
                assertEquals(TopK.keepCount(10, d), l.kept("a.weight"));
                assertEquals(TopK.keepCount(6, d), l.kept("b.weight"));
            }
        }
    }

    @Test void keepsTheHighestScores() {
        try (MemoryScope s = MemoryScope.open()) {
            double[] a = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, b = {10, 11, 12, 13, 14, 15};
            Masks m = TopK.global(scores(a, b), ones(), 0.5); // keep 8: scores 8..15
            assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0, 0, 0, 1, 1}, m.values("a.weight"));
            assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1}, m.values("b.weight"));
        }
    }

    @Test void neverRevivesAPrunedWeight() {
        try (MemoryScope s = MemoryScope.open()) {
            Masks start = masks(new float[] {0, 0, 0, 1, 1, 1, 1, 1, 1, 1}, new float[] {0, 1, 1, 1, 1, 1});
            // pruned weights get the highest scores: they must stay pruned
            double[] a = {100, 100, 100, 1, 2, 3, 4, 5, 6, 7}, b = {100, 8, 9, 10, 11, 12};
            Masks m = TopK.global(scores(a, b), start, 0.5); // keep 8 of the 12 kept
            assertEquals(8, m.kept());
            assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0, 0, 1, 1, 1}, m.values("a.weight"));
            assertArrayEquals(new float[] {0, 1, 1, 1, 1, 1}, m.values("b.weight"));
            // a target above the current density keeps everything that is kept, nothing more
            Masks same = TopK.global(scores(a, b), start, 0.99);
            assertEquals(12, same.kept());
            assertArrayEquals(start.values("a.weight"), same.values("a.weight"));
        }
    }

    @Test void tiesGoToTheLowerFlatIndexAcrossLayers() {
        try (MemoryScope s = MemoryScope.open()) {
            double[] a = new double[10], b = new double[6];
            java.util.Arrays.fill(a, 1);
            java.util.Arrays.fill(b, 1);
            b[5] = 2; // the one clear winner
            Masks m = TopK.global(scores(a, b), ones(), 0.25); // keep 4: b[5], then flat indices 0, 1, 2
            assertArrayEquals(new float[] {1, 1, 1, 0, 0, 0, 0, 0, 0, 0}, m.values("a.weight"));
            assertArrayEquals(new float[] {0, 0, 0, 0, 0, 1}, m.values("b.weight"));
            // -0.0 and +0.0 tie
            double[] z = new double[10];
            for (int i = 0; i < 10; i += 2) z[i] = -0.0;
            Masks mz = TopK.global(scores(z, new double[] {-1, -1, -1, -1, -1, -1}), ones(), 0.25);
            assertArrayEquals(new float[] {1, 1, 1, 1, 0, 0, 0, 0, 0, 0}, mz.values("a.weight"));
        }
    }

    @Test void nonFiniteScoresAreAnErrorNamingTheLayer() {
        try (MemoryScope s = MemoryScope.open()) {
            double[] a = new double[10], b = new double[6];
            b[3] = Double.NaN;
            var e = assertThrows(IllegalArgumentException.class, () -> TopK.global(scores(a, b), ones(), 0.5));
            assertTrue(e.getMessage().contains("b.weight"), e.getMessage());
            b[3] = Double.POSITIVE_INFINITY;
            assertThrows(IllegalArgumentException.class, () -> TopK.perLayer(scores(a, b), ones(), 0.5));
            // a pruned weight's score is ignored
            Masks start = masks(new float[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, new float[] {1, 1, 1, 0, 1, 1});
            assertEquals(8, TopK.global(scores(a, b), start, 0.5).kept()); // n_keep counts all 16 weights
        }
    }

    @Test void densityOutsideTheRangeIsAnError() {
        try (MemoryScope s = MemoryScope.open()) {
            for (double d : new double[] {0, -0.1, 1.5, Double.NaN}) {
                var e = assertThrows(IllegalArgumentException.class, () -> TopK.global(scores(new double[10], new double[6]), ones(), d));
                assertTrue(e.getMessage().contains(String.valueOf(d)) && e.getMessage().contains("(0, 1]"), e.getMessage());
            }
        }
    }

    @Test void scoresMustCoverEveryLayer() {
        try (MemoryScope s = MemoryScope.open()) {
            Map<String, Tensor> sc = new LinkedHashMap<>();
            sc.put("a.weight", Tensor.of(new double[10], 2, 5));
            var e = assertThrows(IllegalArgumentException.class, () -> TopK.global(sc, ones(), 0.5));
            assertTrue(e.getMessage().contains("b.weight"), e.getMessage());
        }
    }
}
