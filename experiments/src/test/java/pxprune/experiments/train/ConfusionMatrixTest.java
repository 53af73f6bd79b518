package pxprune.experiments.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The confusion matrix, IoU, mean IoU and pixel accuracy against values computed by hand. */
class ConfusionMatrixTest {
    static final int I = 255;

    @Test
    void handComputedWithIgnoredPixelsAndAClassAbsentFromBoth() {
        ConfusionMatrix cm = new ConfusionMatrix(4);
        // pixel 5 is ignored: its prediction (2) must count neither as a false positive of class 2 nor at all
        cm.add(new int[] {0, 0, 1, 1, 2, I, 0, 2}, new int[] {0, 1, 1, 1, 0, 2, 0, 2});
        assertEquals(2, cm.count(0, 0));
        assertEquals(1, cm.count(0, 1));
        assertEquals(2, cm.count(1, 1));
        assertEquals(1, cm.count(2, 0));
        assertEquals(1, cm.count(2, 2));
        assertEquals(7, cm.total());
        assertEquals(5, cm.correct());
        assertEquals(5.0 / 7, cm.pixelAccuracy(), 1e-15);
        double[] iou = cm.iou();
        assertEquals(2.0 / 4, iou[0], 1e-15); // TP 2, FP 1 (a class-2 pixel), FN 1
        assertEquals(2.0 / 3, iou[1], 1e-15); // TP 2, FP 1, FN 0
        assertEquals(1.0 / 2, iou[2], 1e-15); // TP 1, FP 0 (the ignored pixel), FN 1
        assertTrue(Double.isNaN(iou[3]), "class 3 occurs in neither: " + iou[3]);
        assertEquals((0.5 + 2.0 / 3 + 0.5) / 3, cm.meanIou(), 1e-15);
        assertEquals(Arrays.asList(0.5, 2.0 / 3, 0.5, null), cm.iouJson());
    }

    @Test
    void aClassOnlyPredictedCountsWithIouZero() {
        ConfusionMatrix cm = new ConfusionMatrix(3);
        cm.add(new int[] {0, 0, 0, 1}, new int[] {0, 2, 0, 1});
        double[] iou = cm.iou();
        assertEquals(2.0 / 3, iou[0], 1e-15);
        assertEquals(1.0, iou[1], 1e-15);
        assertEquals(0.0, iou[2], 0.0); // predicted once, never true: TP 0, FP 1
        assertEquals((2.0 / 3 + 1 + 0) / 3, cm.meanIou(), 1e-15);
        assertEquals(0.75, cm.pixelAccuracy(), 1e-15);
    }

    @Test
    void everyPixelIgnoredGivesZeros() {
        ConfusionMatrix cm = new ConfusionMatrix(2);
        cm.add(new int[] {I, I}, new int[] {0, 1});
        assertEquals(0, cm.total());
        assertEquals(0.0, cm.pixelAccuracy());
        assertEquals(0.0, cm.meanIou());
    }

    @Test
    void addAllSumsAndCsvHasCountsAndIou() {
        ConfusionMatrix a = new ConfusionMatrix(2), b = new ConfusionMatrix(2);
        a.add(new int[] {0, 1}, new int[] {0, 0});
        b.add(new int[] {1, 1}, new int[] {1, 1});
        a.addAll(b);
        assertEquals(1, a.count(1, 0));
        assertEquals(2, a.count(1, 1));
        String csv = a.csv(List.of("bg", "thing, round"));
        assertEquals("true\\predicted,bg,\"thing, round\",iou\nbg,1,0,0.500000\n\"thing, round\",1,2,0.666667\n", csv);
    }

    @Test
    void argmaxTakesTheFirstMaximumPerPixel() {
        // n=1, k=3, h=1, w=3: pixel 0 -> class 2, pixel 1 tie of 0 and 1 -> 0, pixel 2 -> class 1
        float[] logits = {0, 5, 1, /**/ 1, 5, 3, /**/ 2, 4, 2};
        assertArrayEquals(new int[] {2, 0, 1}, ConfusionMatrix.argmax(logits, 1, 3, 1, 3));
    }

    @Test
    void badLabelsAreRefused() {
        ConfusionMatrix cm = new ConfusionMatrix(2);
        String m = assertThrows(IllegalArgumentException.class, () -> cm.add(new int[] {3}, new int[] {0})).getMessage();
        assertTrue(m.contains("true label 3") && m.contains("255"), m);
        assertThrows(IllegalArgumentException.class, () -> cm.add(new int[] {0}, new int[] {2}));
        assertThrows(IllegalArgumentException.class, () -> cm.add(new int[] {0, 1}, new int[] {0}));
    }
}
