package pxprune.experiments.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import pxprune.px.Masks;

/** Jaccard and the group statistics against their definitions, on hand-made numbers. */
class JaccardTest {
    static Masks masks(float[] a, float[] b) {
        Map<String, float[]> v = new LinkedHashMap<>();
        v.put("l1.weight", a);
        v.put("l2.weight", b);
        Map<String, int[]> s = new LinkedHashMap<>();
        s.put("l1.weight", new int[] {a.length});
        s.put("l2.weight", new int[] {b.length});
        return Masks.of(v, s);
    }

    @Test void handMadeMasks() {
        Masks a = masks(new float[] {1, 1, 0, 0}, new float[] {1, 0});
        Masks b = masks(new float[] {1, 0, 1, 0}, new float[] {1, 1});
        // kept: a = {0, 1, 4}, b = {0, 2, 4, 5}; and = {0, 4}, or = {0, 1, 2, 4, 5}
        assertEquals(2.0 / 5, Jaccard.of(a, b), 0);
        assertEquals(Jaccard.of(a, b), Jaccard.of(b, a), 0);
        assertEquals(1.0, Jaccard.of(a, a), 0);
        Masks c = masks(new float[] {0, 0, 1, 1}, new float[] {0, 1});
        assertEquals(0.0, Jaccard.of(a, c), 0, "disjoint");
        Masks none = masks(new float[4], new float[2]);
        assertEquals(1.0, Jaccard.of(none, none), 0, "two empty masks count as identical");
        assertEquals(0.0, Jaccard.of(a, none), 0);
    }

    @Test void acrossWordBoundaries() {
        // 70 + 70 weights: a keeps every even index, b every multiple of 3 (flat over both layers)
        float[][] a = new float[2][70], b = new float[2][70];
        int and = 0, or = 0;
        for (int i = 0; i < 140; i++) {
            boolean x = i % 2 == 0, y = i % 3 == 0;
            a[i / 70][i % 70] = x ? 1 : 0;
            b[i / 70][i % 70] = y ? 1 : 0;
            if (x && y) and++;
            if (x || y) or++;
        }
        assertEquals(24, and);
        assertEquals((double) and / or, Jaccard.of(masks(a[0], a[1]), masks(b[0], b[1])), 0);
        assertEquals(3, Jaccard.bits(masks(a[0], a[1])).length);
    }

    @Test void masksOfOtherWeightsAreRefused() {
        Masks a = masks(new float[] {1, 1, 0, 0}, new float[] {1, 0});
        Masks b = masks(new float[] {1, 1, 0}, new float[] {1, 0, 0});
        assertThrows(IllegalArgumentException.class, () -> Jaccard.of(a, b));
    }

    @Test void chanceIsTheExpectedOverlapOfRandomMasks() {
        assertEquals(1.0 / 3, Jaccard.chance(0.5), 1e-15);
        assertEquals(1.0, Jaccard.chance(1), 0);
        Masks x = Fixtures.random(0.2, 1), y = Fixtures.random(0.2, 2); // 270,608 weights: within a few percent of chance
        double j = Jaccard.of(x, y);
        assertTrue(Math.abs(j / Jaccard.chance(0.2) - 1) < 0.03, j + " vs " + Jaccard.chance(0.2));
    }

    @Test void statsAreMeanSampleStdAndRange() {
        Stats s = Stats.of(1, 2, 3, 4);
        assertEquals(4, s.n());
        assertEquals(2.5, s.mean(), 0);
        assertEquals(Math.sqrt(5.0 / 3), s.std(), 1e-15); // sum of squares 5, n - 1 = 3
        assertEquals(1, s.min(), 0);
        assertEquals(4, s.max(), 0);
        Stats one = Stats.of(0.7);
        assertTrue(Double.isNaN(one.std()));
        assertEquals(0, one.stdOrZero(), 0);
        assertEquals(2, Stats.of(1, Double.NaN, 3).n(), "NaN left out");
        assertEquals(0, Stats.of().n());
    }
}
