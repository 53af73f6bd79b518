package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SyntheticTest {

    @Test
    void deterministicBalancedAndShaped() {
        Dataset a = Synthetic.create(103, 3, 16, 12, 10, 5);
        Dataset b = Synthetic.create(103, 3, 16, 12, 10, 5);
        Dataset c = Synthetic.create(103, 3, 16, 12, 10, 6);
        assertEquals(103, a.size());
        assertEquals(3 * 16 * 12, a.imageSize());
        assertArrayEquals(a.images(), b.images());
        assertArrayEquals(a.labels(), b.labels());
        assertFalse(Arrays.equals(a.images(), c.images()));
        for (int count : a.classCounts()) assertTrue(count == 10 || count == 11);
    }

    @Test
    void isLearnableByNearestClassMean() {
        Splits.Split s = Splits.stratifiedSplit(Synthetic.create(600, 3, 16, 16, 10, 1), 0.5, 1);
        Dataset train = s.train();
        int d = train.imageSize();
        double[][] means = new double[10][d];
        int[] counts = train.classCounts();
        for (int i = 0; i < train.size(); i++) {
            float[] x = train.image(i);
            for (int p = 0; p < d; p++) means[train.label(i)][p] += x[p] / counts[train.label(i)];
        }
        int correct = 0;
        for (int i = 0; i < s.test().size(); i++) {
            float[] x = s.test().image(i);
            int best = -1;
            double bestDist = Double.MAX_VALUE;
            for (int k = 0; k < 10; k++) {
                double dist = 0;
                for (int p = 0; p < d; p++) dist += (x[p] - means[k][p]) * (x[p] - means[k][p]);
                if (dist < bestDist) {
                    bestDist = dist;
                    best = k;
                }
            }
            if (best == s.test().label(i)) correct++;
        }
        assertTrue(correct >= 0.9 * s.test().size(), correct + " of " + s.test().size());
    }
}
