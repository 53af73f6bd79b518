package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchStreamTest {

    @TempDir
    static Path root;
    static ImageFiles train;
    static final List<int[]> BATCHES = List.of(new int[] {3, 1, 4}, new int[] {1, 5, 9}, new int[] {2, 6}, new int[] {0, 7, 8, 1});

    @BeforeAll
    static void writeTree() {
        ImageNetFiles.write(root, 5, 30, 24);
        train = ImageNet.open(root, true).withSize(16).normalized(ChannelStats.IMAGENET);
    }

    static List<Batch> all(List<int[]> batches, Long seed, int workers, int ahead) {
        List<Batch> out = new ArrayList<>();
        try (BatchStream s = train.stream(batches, seed, workers, ahead)) {
            assertEquals(batches.size(), s.numBatches());
            while (s.hasNext()) out.add(s.next());
            assertThrows(java.util.NoSuchElementException.class, s::next);
        }
        return out;
    }

    @Test
    void trainingBatchesDoNotDependOnWorkersOrQueueLength() {
        List<Batch> one = all(BATCHES, 42L, 1, 0), many = all(BATCHES, 42L, 4, 3);
        for (int b = 0; b < BATCHES.size(); b++) {
            assertArrayEquals(one.get(b).x(), many.get(b).x(), "batch " + b);
            assertArrayEquals(one.get(b).y(), many.get(b).y());
            assertEquals(16, many.get(b).h());
        }
        int[] labels = Arrays.stream(BATCHES.get(0)).map(train::label).toArray();
        assertArrayEquals(labels, one.get(0).y());
        assertFalse(Arrays.equals(one.get(0).x(), all(BATCHES, 43L, 2, 1).get(0).x()), "another seed crops differently");
        // example 1 in batches 0 and 1 gets two different crops
        int d = 3 * 16 * 16;
        assertFalse(Arrays.equals(Arrays.copyOfRange(one.get(0).x(), d, 2 * d), Arrays.copyOfRange(one.get(1).x(), 0, d)));
    }

    @Test
    void evaluationBatchesAreTheCentreCropAndMatchBatch() {
        List<Batch> eval = all(BATCHES, null, 3, 1);
        assertArrayEquals(train.batch(BATCHES.get(1)).x(), eval.get(1).x());
        // example 1 is in batches 0 and 1: the same evaluation crop
        int d = 3 * 16 * 16;
        assertArrayEquals(Arrays.copyOfRange(eval.get(0).x(), d, 2 * d), Arrays.copyOfRange(eval.get(1).x(), 0, d));
    }

    @Test
    void badArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> train.stream(BATCHES, null, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> train.stream(BATCHES, null, 1, -1));
        assertThrows(IndexOutOfBoundsException.class, () -> train.stream(List.of(new int[] {10}), null, 1, 1));
    }
}
