package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SegmentationSplitTest {

    static final SegDataset DEMO = DatasetRegistry.loadSegmentation("seg_demo", null, true, 0);

    @TempDir
    Path dir;

    /** A set whose images have the given present classes (1x1 images; get is not used by the split). */
    record Listed(int[][] classes, int numClasses) implements SegDataset {
        @Override public String name() { return "listed"; }
        @Override public int size() { return classes.length; }
        @Override public int channels() { return 1; }
        @Override public List<String> classNames() {
            return java.util.stream.IntStream.range(0, numClasses).mapToObj(k -> "c" + k).toList();
        }
        @Override public SegSample get(int i) { throw new UnsupportedOperationException(); }
        @Override public int[] presentClasses(int i) { return classes[i].clone(); }
    }

    static int[] coverage(SegDataset d, int[] idx) {
        int[] have = new int[d.numClasses()];
        for (int i : idx) for (int c : d.presentClasses(i)) have[c]++;
        return have;
    }

    @Test
    void everyClassCoveredNoDuplicatesDeterministic() {
        for (int perClass : new int[] {1, 5, 10, 40}) {
            int[] idx = PruningSplit.selectSegmentation(DEMO, perClass, 3);
            assertEquals(idx.length, Arrays.stream(idx).distinct().count(), "no duplicates");
            for (int have : coverage(DEMO, idx)) assertTrue(have >= perClass, have + " < " + perClass);
            assertArrayEquals(idx, PruningSplit.selectSegmentation(DEMO, perClass, 3));
            // no more images than needed: perClass per class at most
            assertTrue(idx.length <= perClass * DEMO.numClasses());
        }
        assertFalse(Arrays.equals(PruningSplit.selectSegmentation(DEMO, 10, 3), PruningSplit.selectSegmentation(DEMO, 10, 4)));
        assertArrayEquals(PruningSplit.selectSegmentation(DEMO, 10, 8), PruningSplit.selectSegmentation(DEMO, 8));
    }

    @Test
    void earlierChoicesCountForLaterClasses() {
        // class 0 is in every image; images 0..3 also have class 1, so drawing 2 of class 0 may already cover 1
        int[][] cls = {{0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 2}, {0, 2}};
        Listed d = new Listed(cls, 3);
        for (long seed = 0; seed < 30; seed++) {
            int[] idx = PruningSplit.selectSegmentation(d, 2, seed);
            int[] have = coverage(d, idx);
            assertTrue(have[1] >= 2 && have[2] >= 2);
            // class 0's draws come first: exactly 2 of them; then only what class 1 and 2 still need
            int fromFirstTwo1 = (int) Arrays.stream(idx, 0, 2).filter(i -> i < 4).count();
            assertEquals(2 + Math.max(0, 2 - fromFirstTwo1) + Math.max(0, 2 - (2 - fromFirstTwo1)), idx.length, "seed " + seed);
        }
    }

    @Test
    void tooFewImagesNamesTheClass() {
        Listed d = new Listed(new int[][] {{0}, {0, 2}, {0}, {0, 1, 2}}, 3);
        var e = assertThrows(IllegalArgumentException.class, () -> PruningSplit.selectSegmentation(d, 2, 0));
        assertTrue(e.getMessage().contains("class 1 (c1) is present in only 1 of its 4 images"), e.getMessage());
        Listed absent = new Listed(new int[][] {{0}, {0}}, 2);
        e = assertThrows(IllegalArgumentException.class, () -> PruningSplit.selectSegmentation(absent, 1, 0));
        assertTrue(e.getMessage().contains("class 1 (c1) is present in only 0"), e.getMessage());
        var big = assertThrows(IllegalArgumentException.class, () -> PruningSplit.selectSegmentation(DEMO, 200, 0));
        assertTrue(big.getMessage().contains("square") || big.getMessage().contains("disc"), big.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PruningSplit.selectSegmentation(DEMO, 0, 0));
    }

    @Test
    void writeReadRoundTripAndCheck() throws IOException {
        int[] idx = PruningSplit.selectSegmentation(DEMO, 3, 9);
        Path csv = dir.resolve("run/pruning_split.csv");
        PruningSplit.writeSegmentation(csv, idx, DEMO);
        List<String> lines = Files.readAllLines(csv);
        assertEquals("index,classes", lines.get(0));
        assertEquals(idx[0] + "," + String.join(";", Arrays.stream(DEMO.presentClasses(idx[0])).mapToObj(Integer::toString).toList()),
                lines.get(1));
        PruningSplit.SegSelection s = PruningSplit.readSegmentation(csv);
        assertArrayEquals(idx, s.indices());
        for (int i = 0; i < idx.length; i++) assertArrayEquals(DEMO.presentClasses(idx[i]), s.classes()[i]);
        s.checkAgainst(DEMO);
        SegDataset other = DatasetRegistry.loadSegmentation("seg_demo", null, false, 0);
        var e = assertThrows(DatasetException.class, () -> s.checkAgainst(other.subset(new int[] {0})));
        assertTrue(e.getMessage().contains("another dataset") && e.getMessage().contains("row 1"), e.getMessage());
        // an image whose label is all ignore has no classes
        PruningSplit.writeSegmentation(csv, new int[] {4}, new int[][] {{}});
        assertEquals(0, PruningSplit.readSegmentation(csv).classes()[0].length);
    }

    @Test
    void badFiles() throws IOException {
        var e = assertThrows(DatasetException.class, () -> PruningSplit.readSegmentation(dir.resolve("none.csv")));
        assertTrue(e.getMessage().contains("Missing file"), e.getMessage());
        Path csv = dir.resolve("s.csv");
        PruningSplit.write(csv, new int[] {1}, new int[] {2});
        e = assertThrows(DatasetException.class, () -> PruningSplit.readSegmentation(csv));
        assertTrue(e.getMessage().contains("header 'index,classes'") && e.getMessage().contains("classification split"),
                e.getMessage());
        for (String bad : new String[] {"3,0;x", "3", "-1,0", "3,2;1", "3,0;;1", "3,0,1"}) {
            Files.writeString(csv, "index,classes\n1,0;1\n" + bad + "\n");
            e = assertThrows(DatasetException.class, () -> PruningSplit.readSegmentation(csv));
            assertTrue(e.getMessage().contains("line 3"), bad + ": " + e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> PruningSplit.writeSegmentation(csv, new int[] {1}, new int[0][]));
    }
}
