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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PruningSplitTest {

    private static final Dataset DIGITS = Digits.load();

    @TempDir
    Path dir;

    @Test
    void exactlyKPerClassGroupedByClass() {
        int[] idx = PruningSplit.select(DIGITS, 7, 1);
        assertEquals(70, idx.length);
        assertEquals(70, Arrays.stream(idx).distinct().count());
        for (int i = 0; i < idx.length; i++) assertEquals(i / 7, DIGITS.label(idx[i]), "position " + i);
        assertEquals(100, PruningSplit.select(DIGITS, 1).length); // default 10 per class
    }

    @Test
    void deterministicPerSeedAndDifferentAcrossSeeds() {
        assertArrayEquals(PruningSplit.select(DIGITS, 10, 3), PruningSplit.select(DIGITS, 10, 3));
        assertFalse(Arrays.equals(PruningSplit.select(DIGITS, 10, 3), PruningSplit.select(DIGITS, 10, 4)));
        // the draw order is kept, not sorted
        int[] idx = PruningSplit.select(DIGITS, 10, 3);
        assertFalse(Arrays.equals(Arrays.copyOf(idx, 10), Arrays.stream(Arrays.copyOf(idx, 10)).sorted().toArray()));
    }

    @Test
    void tooFewExamplesNamesTheClass() {
        Dataset small = new Dataset(new float[5], new int[] {0, 0, 1, 2, 2}, 1, 1, 1, 3, "small");
        var e = assertThrows(IllegalArgumentException.class, () -> PruningSplit.select(small, 2, 0));
        assertTrue(e.getMessage().contains("class 1 has only 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PruningSplit.select(small, 0, 0));
    }

    @Test
    void writeReadRoundTrip() throws IOException {
        int[] idx = PruningSplit.select(DIGITS, 2, 9);
        Path csv = dir.resolve("run/pruning_split.csv");
        PruningSplit.write(csv, idx, DIGITS);
        assertTrue(Files.readAllLines(csv).get(0).equals("index,label"));
        assertEquals(idx[0] + "," + DIGITS.label(idx[0]), Files.readAllLines(csv).get(1));
        PruningSplit.Selection s = PruningSplit.read(csv);
        assertArrayEquals(idx, s.indices());
        assertArrayEquals(Arrays.stream(idx).map(DIGITS::label).toArray(), s.labels());
        s.checkAgainst(DIGITS);
        var e = assertThrows(DatasetException.class,
                () -> s.checkAgainst(DIGITS.subset(new int[] {idx[1], idx[0]})));
        assertTrue(e.getMessage().contains("another dataset"), e.getMessage());
    }

    @Test
    void badFilesAndArguments() throws IOException {
        var e = assertThrows(DatasetException.class, () -> PruningSplit.read(dir.resolve("none.csv")));
        assertTrue(e.getMessage().contains("Missing file") && e.getMessage().contains("none.csv"), e.getMessage());
        Path csv = dir.resolve("s.csv");
        Files.writeString(csv, "idx,lab\n1,2\n");
        e = assertThrows(DatasetException.class, () -> PruningSplit.read(csv));
        assertTrue(e.getMessage().contains("header 'index,label'"), e.getMessage());
        Files.writeString(csv, "index,label\n1,2\n3;4\n");
        e = assertThrows(DatasetException.class, () -> PruningSplit.read(csv));
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PruningSplit.write(csv, new int[] {1, 2}, new int[] {0}));
    }
}
