package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class DigitsAndSplitsTest {

    private static final Dataset DIGITS = Digits.load();

    @Test
    void digitsLoadsAllRowsInRange() {
        assertEquals(1797, DIGITS.size());
        assertEquals(10, DIGITS.numClasses());
        assertEquals(1, DIGITS.channels());
        assertEquals(8, DIGITS.height());
        assertEquals(8, DIGITS.width());
        assertArrayEquals(new int[] {178, 182, 177, 183, 181, 182, 181, 179, 174, 180}, DIGITS.classCounts());
        float[] x = DIGITS.images();
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (float v : x) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertEquals(0f, min);
        assertEquals(1f, max);
        // first row of the file: 0,0,5,13,9,1,0,0, ... label 0
        assertEquals(0, DIGITS.label(0));
        assertArrayEquals(new float[] {0, 0, 5 / 16f, 13 / 16f, 9 / 16f, 1 / 16f, 0, 0},
                Arrays.copyOf(DIGITS.image(0), 8));
        assertEquals(1, DIGITS.label(1));
    }

    @Test
    void creditShipsWithTheData() {
        assertTrue(Digits.class.getResource("/pxprune/datasets/DIGITS-CREDIT.txt") != null);
    }

    @Test
    void stratifiedSplitKeepsClassProportions() {
        Splits.Split s = Splits.stratifiedSplit(DIGITS, 0.2, 7);
        assertEquals(DIGITS.size(), s.train().size() + s.test().size());
        int[] all = IntStream.concat(Arrays.stream(s.trainIdx()), Arrays.stream(s.testIdx())).sorted().toArray();
        assertArrayEquals(IntStream.range(0, DIGITS.size()).toArray(), all);
        int[] counts = DIGITS.classCounts();
        int[] testCounts = s.test().classCounts();
        for (int c = 0; c < 10; c++) {
            assertEquals(Math.round(counts[c] * 0.2), testCounts[c], "class " + c);
            assertEquals(counts[c] - testCounts[c], s.train().classCounts()[c]);
        }
        for (int k = 0; k < s.testIdx().length; k++) {
            assertArrayEquals(DIGITS.image(s.testIdx()[k]), s.test().image(k));
            assertEquals(DIGITS.label(s.testIdx()[k]), s.test().label(k));
        }
    }

    @Test
    void stratifiedSplitIsDeterministicPerSeed() {
        Splits.Split a = Splits.stratifiedSplit(DIGITS, 0.2, 7);
        Splits.Split b = Splits.stratifiedSplit(DIGITS, 0.2, 7);
        Splits.Split c = Splits.stratifiedSplit(DIGITS, 0.2, 8);
        assertArrayEquals(a.testIdx(), b.testIdx());
        assertArrayEquals(a.trainIdx(), b.trainIdx());
        assertFalse(Arrays.equals(a.testIdx(), c.testIdx()));
    }

    @Test
    void stratifiedSplitRejectsBadFractions() {
        assertThrows(IllegalArgumentException.class, () -> Splits.stratifiedSplit(DIGITS, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Splits.stratifiedSplit(DIGITS, 1, 1));
        var e = assertThrows(IllegalArgumentException.class,
                () -> Splits.stratifiedSplit(DIGITS.subset(new int[] {0, 1}), 0.2, 1));
        assertTrue(e.getMessage().contains("test set empty"), e.getMessage());
    }
}
