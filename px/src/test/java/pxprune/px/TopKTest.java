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

    /** the radix selection against a sort: signs, zeros, infinities, subnormals, many ties, one value, sizes around its cut-offs */
    @Test void kthSmallestEqualsTheSortedArraysEntry() {
        SplittableRandom r = new SplittableRandom(3);
        double[] special = {0.0, -0.0, 1, -1, Double.MIN_VALUE, -Double.MIN_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE,
                Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1 + 0x1p-52, 1 - 0x1p-53, 0x1p-1022};
        for (int n : new int[] {1, 2, 63, 64, 65, 1000, 70_000, 300_000}) {
            for (int kind = 0; kind < 5; kind++) {
                double[] v = new double[n];
                for (int i = 0; i < n; i++)
                    v[i] = switch (kind) {
                        case 0 -> r.nextDouble(); // one binade mostly: deep buckets
                        case 1 -> r.nextGaussian() * Math.exp(r.nextDouble(-300, 300)); // both signs, many binades
                        case 2 -> r.nextInt(5); // ties
                        case 3 -> special[r.nextInt(special.length)];
                        default -> 1 + r.nextInt(3) * 0x1p-52; // values that differ in the last bits only
                    };
                double[] sorted = v.clone();
                java.util.Arrays.sort(sorted);
                for (int k : new int[] {0, n / 3, n / 2, n - 1}) {
                    double[] copy = v.clone();
                    double got = TopK.kthSmallest(copy, k);
                    assertEquals(Double.doubleToRawLongBits(sorted[k]), Double.doubleToRawLongBits(got), "n " + n + " kind " + kind + " k " + k);
                    assertArrayEquals(v, copy, "the input is left as it was");
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> TopK.kthSmallest(new double[3], 3));
    }

    /** select keeps exactly n, the highest, ties to the lower index, on random data with ties */
    @Test void selectMatchesASortedReference() {
        SplittableRandom r = new SplittableRandom(4);
        for (int trial = 0; trial < 20; trial++) {
            int len = 1 + r.nextInt(5000);
            double[] v = new double[len];
            for (int i = 0; i < len; i++) v[i] = r.nextInt(50) * 0.25;
            long n = r.nextInt(len + 2);
            boolean[] keep = TopK.select(v, n);
            Integer[] order = new Integer[len];
            for (int i = 0; i < len; i++) order[i] = i;
            java.util.Arrays.sort(order, (a, b) -> v[a] != v[b] ? Double.compare(v[b], v[a]) : Integer.compare(a, b));
            boolean[] want = new boolean[len];
            for (int i = 0; i < Math.min(n, len); i++) want[order[i]] = true;
            assertArrayEquals(want, keep, "trial " + trial);
        }
    }
}
