package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SegSampleTest {

    @Test
    void validatesShapesAndLabels() {
        assertThrows(IllegalArgumentException.class, () -> new SegSample(new float[5], new int[2], 3, 1, 2));
        assertThrows(IllegalArgumentException.class, () -> new SegSample(new float[6], new int[3], 3, 1, 2));
        assertThrows(IllegalArgumentException.class, () -> new SegSample(new float[0], new int[0], 0, 1, 0));
        var e = assertThrows(IllegalArgumentException.class, () -> new SegSample(new float[6], new int[] {0, 256}, 3, 1, 2));
        assertTrue(e.getMessage().contains("256") && e.getMessage().contains("x=1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SegSample(new float[6], new int[] {-1, 0}, 3, 1, 2));
        SegSample s = new SegSample(new float[6], new int[] {255, 3}, 3, 1, 2);
        assertArrayEquals(new int[] {3}, s.presentClasses());
        assertThrows(IllegalArgumentException.class, () -> s.checkClasses(3, "x"));
        s.checkClasses(4, "x");
    }

    @Test
    void stackCopiesInOrderAndRefusesMixedSizes() {
        SegSample a = new SegSample(new float[] {1, 2, 3, 4}, new int[] {0, 1}, 2, 1, 2);
        SegSample b = new SegSample(new float[] {5, 6, 7, 8}, new int[] {255, 2}, 2, 1, 2);
        SegBatch batch = SegBatch.stack(List.of(a, b));
        assertEquals(2, batch.n());
        assertEquals(4, batch.imageSize());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, batch.x());
        assertArrayEquals(new int[] {0, 1, 255, 2}, batch.y());
        SegSample c = new SegSample(new float[4], new int[2], 2, 2, 1);
        var e = assertThrows(IllegalArgumentException.class, () -> SegBatch.stack(List.of(a, b, c)));
        assertTrue(e.getMessage().contains("sample 2 is 2x2x1 but sample 0 is 2x1x2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SegBatch.stack(List.of()));
        assertThrows(IllegalArgumentException.class, () -> new SegBatch(new float[4], new int[1], 1, 2, 1, 2));
    }

    @Test
    void subsetIsAReindexedView() {
        SegDemo d = SegDemo.create(6, 3);
        SegDataset s = d.subset(new int[] {4, 1, 4});
        assertEquals(3, s.size());
        assertEquals(d.name(), s.name());
        assertEquals(d.classNames(), s.classNames());
        assertArrayEquals(d.get(4).image(), s.get(0).image());
        assertArrayEquals(d.get(1).label(), s.get(1).label());
        assertArrayEquals(d.presentClasses(4), s.presentClasses(2));
        assertThrows(IndexOutOfBoundsException.class, () -> s.get(3));
        assertThrows(IndexOutOfBoundsException.class, () -> d.subset(new int[] {6}));
    }
}
