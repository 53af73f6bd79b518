package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BatchIteratorTest {

    static final Dataset DATA = Synthetic.create(23, 1, 2, 2, 3, 0);

    static List<int[]> all(BatchIterator it) {
        List<int[]> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    @Test
    void coversEveryExampleOnceWithALastPartialBatch() {
        List<int[]> batches = all(new BatchIterator(DATA, 5, true, 1, 0));
        assertEquals(5, batches.size());
        assertEquals(3, batches.get(4).length);
        int[] seen = batches.stream().flatMapToInt(Arrays::stream).sorted().toArray();
        assertArrayEquals(IntStream.range(0, 23).toArray(), seen);
        assertEquals(4, new BatchIterator(DATA, 5, true, 1, 0, true).numBatches());
    }

    @Test
    void orderIsAFunctionOfSeedAndEpochOnly() {
        for (int epoch = 0; epoch < 3; epoch++) {
            List<int[]> a = all(new BatchIterator(DATA, 4, true, 77, epoch));
            List<int[]> b = all(new BatchIterator(DATA, 4, true, 77, epoch));
            for (int k = 0; k < a.size(); k++) assertArrayEquals(a.get(k), b.get(k));
        }
        int[] e0 = BatchIterator.order(23, true, 77, 0);
        assertFalse(Arrays.equals(e0, BatchIterator.order(23, true, 77, 1)));
        assertFalse(Arrays.equals(e0, BatchIterator.order(23, true, 78, 0)));
    }

    @Test
    void resumingMidEpochSeesTheSameBatches() {
        BatchIterator run = new BatchIterator(DATA, 4, true, 5, 2);
        List<int[]> original = all(run);
        BatchIterator resumed = new BatchIterator(DATA, 4, true, 5, 2);
        for (int b = 3; b < resumed.numBatches(); b++) assertArrayEquals(original.get(b), resumed.batch(b));
    }

    @Test
    void noShuffleIsSequentialAndBatchesCarryData() {
        BatchIterator it = new BatchIterator(DATA, 10, false, 5, 3);
        Batch b = it.nextBatch();
        assertArrayEquals(Arrays.copyOf(DATA.labels(), 10), b.y());
        assertArrayEquals(DATA.image(9), Arrays.copyOfRange(b.x(), 36, 40));
        assertArrayEquals(IntStream.range(10, 20).toArray(), it.next());
        assertArrayEquals(new int[] {20, 21, 22}, it.next());
        assertThrows(NoSuchElementException.class, it::next);
        assertThrows(IllegalArgumentException.class, () -> new BatchIterator(DATA, 0, false, 0, 0));
    }
}
