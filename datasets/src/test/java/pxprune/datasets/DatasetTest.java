package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DatasetTest {

    /** 3 examples of 2x2x2; pixel value = 100*i + position, labels 0, 2, 1. */
    static Dataset tiny() {
        float[] x = new float[3 * 8];
        for (int i = 0; i < x.length; i++) x[i] = 100 * (i / 8) + i % 8;
        return new Dataset(x, new int[] {0, 2, 1}, 2, 2, 2, 3, "tiny");
    }

    @Test
    void accessorsAndShape() {
        Dataset d = tiny();
        assertEquals(3, d.size());
        assertEquals(8, d.imageSize());
        assertEquals("Dataset[tiny: 3 x 2x2x2, 3 classes]", d.toString());
        assertArrayEquals(new float[] {100, 101, 102, 103, 104, 105, 106, 107}, d.image(1));
        assertEquals(2, d.label(1));
        assertArrayEquals(new int[] {1, 1, 1}, d.classCounts());
        assertArrayEquals(new int[][] {{0}, {2}, {1}}, d.indicesByClass());
    }

    @Test
    void batchAndSubsetCopyInGivenOrder() {
        Dataset d = tiny();
        Batch b = d.batch(new int[] {2, 0, 2});
        assertEquals(3, b.n());
        assertArrayEquals(new int[] {1, 0, 1}, b.y());
        assertEquals(200f, b.x()[0]);
        assertEquals(7f, b.x()[15]);
        assertEquals(207f, b.x()[23]);
        Dataset s = d.subset(new int[] {1});
        assertEquals(1, s.size());
        assertEquals(3, s.numClasses());
        assertArrayEquals(d.image(1), s.image(0));
        assertThrows(IndexOutOfBoundsException.class, () -> d.batch(new int[] {3}));
    }

    @Test
    void isImmutable() {
        float[] x = new float[8];
        int[] y = {0};
        Dataset d = new Dataset(x, y, 2, 2, 2, 1, "d");
        x[0] = 5;
        y[0] = 7;
        d.images()[0] = 9;
        d.labels()[0] = 9;
        d.image(0)[0] = 9;
        d.batch(new int[] {0}).x()[0] = 9;
        assertEquals(0f, d.image(0)[0]);
        assertEquals(0, d.label(0));
    }

    @Test
    void constructorRejectsBadLengthsAndLabels() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new Dataset(new float[7], new int[] {0}, 2, 2, 2, 1, "bad"));
        assertTrue(e.getMessage().contains("7 floats") && e.getMessage().contains("NCHW"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Dataset(new float[16], new int[] {0, 3}, 2, 2, 2, 3, "bad"));
        assertTrue(e.getMessage().contains("label 3 of example 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Dataset(new float[0], new int[0], 0, 2, 2, 3, "bad"));
        e = assertThrows(IllegalArgumentException.class, () -> Dataset.checkedLength(100_000, 3, 224, 224));
        assertTrue(e.getMessage().contains("do not fit"), e.getMessage());
    }

    @Test
    void batchRecordValidates() {
        assertThrows(IllegalArgumentException.class, () -> new Batch(new float[3], new int[1], 1, 1, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> new Batch(new float[4], new int[2], 1, 1, 2, 2));
    }
}
