package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CifarTest {

    @TempDir
    Path root;

    /** One record: label bytes, then R plane = 255, G plane = 0, B plane(p) = (p + shift) % 256. */
    static byte[] record(int shift, int... labelBytes) {
        byte[] r = new byte[labelBytes.length + 3072];
        for (int i = 0; i < labelBytes.length; i++) r[i] = (byte) labelBytes[i];
        int o = labelBytes.length;
        for (int p = 0; p < 1024; p++) {
            r[o + p] = (byte) 255;
            r[o + 1024 + p] = 0;
            r[o + 2048 + p] = (byte) ((p + shift) % 256);
        }
        return r;
    }

    static void write(Path file, byte[]... records) throws IOException {
        Files.createDirectories(file.getParent());
        try (var out = Files.newOutputStream(file)) {
            for (byte[] r : records) out.write(r);
        }
    }

    /** Files of 10000 / shrink records: the real format needs 10000 per file (see fullSizeFilesAndTruncation). */
    static final int TRAIN_SHRINK = 5000, TEST_SHRINK = 10000;

    /** data_batch_b holds two records with labels b and b+5, shifts 10*b and 10*b+1; test_batch one record. */
    static void writeCifar10(Path root) throws IOException {
        Path dir = root.resolve("cifar-10-batches-bin");
        for (int b = 1; b <= 5; b++) {
            write(dir.resolve("data_batch_" + b + ".bin"), record(10 * b, b), record(10 * b + 1, (b + 5) % 10));
        }
        write(dir.resolve("test_batch.bin"), record(7, 9));
    }

    static void assertPlanes(Dataset d, int i, int shift) {
        float[] img = d.image(i);
        for (int p = 0; p < 1024; p++) {
            assertEquals(1f, img[p], "R at " + p);
            assertEquals(0f, img[1024 + p], "G at " + p);
            assertEquals(((p + shift) % 256) / 255f, img[2048 + p], "B at " + p);
        }
    }

    @Test
    void cifar10TrainDecodesRecordsInFileOrder() throws IOException {
        writeCifar10(root);
        Dataset d = Cifar.load(root, 10, true, TRAIN_SHRINK);
        assertEquals(10, d.size());
        assertEquals(3, d.channels());
        assertEquals(32, d.height());
        assertEquals(10, d.numClasses());
        assertEquals("cifar10-train", d.name());
        assertArrayEquals(new int[] {1, 6, 2, 7, 3, 8, 4, 9, 5, 0}, d.labels());
        for (int b = 1; b <= 5; b++) {
            assertPlanes(d, 2 * (b - 1), 10 * b);
            assertPlanes(d, 2 * (b - 1) + 1, 10 * b + 1);
        }
        // (y, x) = (1, 3) of channel 2 is byte 2048 + 32 + 3 of the record
        assertEquals(((35 + 10) % 256) / 255f, d.image(0)[2 * 1024 + 1 * 32 + 3]);
    }

    @Test
    void cifar10Test() throws IOException {
        writeCifar10(root);
        Dataset d = Cifar.load(root, 10, false, TEST_SHRINK);
        assertEquals(1, d.size());
        assertEquals(9, d.label(0));
        assertPlanes(d, 0, 7);
    }

    @Test
    void cifar100UsesTheFineLabel() throws IOException {
        Path dir = root.resolve("cifar-100-binary");
        write(dir.resolve("train.bin"), record(0, 3, 42), record(5, 19, 99));
        write(dir.resolve("test.bin"), record(1, 0, 7));
        Dataset train = Cifar.load(root, 100, true, 25000);
        assertEquals(100, train.numClasses());
        assertArrayEquals(new int[] {42, 99}, train.labels());
        assertPlanes(train, 0, 0);
        assertPlanes(train, 1, 5);
        Dataset test = Cifar.load(root, 100, false, TEST_SHRINK);
        assertArrayEquals(new int[] {7}, test.labels());
        assertPlanes(test, 0, 1);
    }

    @Test
    void missingFolderNamesFolderFilesAndDownload() {
        var e = assertThrows(DatasetException.class, () -> Cifar.load(root, 10, true));
        String m = e.getMessage();
        assertTrue(m.contains("Missing folder") && m.contains("cifar-10-batches-bin"), m);
        assertTrue(m.contains("data_batch_1.bin") && m.contains("test_batch.bin"), m);
        assertTrue(m.contains("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"), m);
        e = assertThrows(DatasetException.class, () -> Cifar.load(root, 100, false));
        assertTrue(e.getMessage().contains("cifar-100-binary") && e.getMessage().contains("cifar-100-binary.tar.gz"));
    }

    @Test
    void missingFileIsNamed() throws IOException {
        writeCifar10(root);
        Files.delete(root.resolve("cifar-10-batches-bin/data_batch_3.bin"));
        var e = assertThrows(DatasetException.class, () -> Cifar.load(root, 10, true, TRAIN_SHRINK));
        assertTrue(e.getMessage().startsWith("Missing file") && e.getMessage().contains("data_batch_3.bin"), e.getMessage());
        Cifar.load(root, 10, false, TEST_SHRINK); // the test split does not need it
    }

    @Test
    void truncatedFileNamesFileAndSizes() throws IOException {
        writeCifar10(root);
        Path f = root.resolve("cifar-10-batches-bin/test_batch.bin");
        Files.write(f, new byte[3073 + 100]);
        var e = assertThrows(DatasetException.class, () -> Cifar.load(root, 10, false, TEST_SHRINK));
        String m = e.getMessage();
        assertTrue(m.contains("test_batch.bin") && m.contains("3173 bytes: 1 records and 100 bytes more")
                && m.contains("3073-byte record"), m);
    }

    @Test
    void labelOutOfRangeAndBadClassCount() throws IOException {
        write(root.resolve("cifar-10-batches-bin/test_batch.bin"), record(0, 12));
        var e = assertThrows(DatasetException.class, () -> Cifar.load(root, 10, false, TEST_SHRINK));
        assertTrue(e.getMessage().contains("test_batch.bin: record 0 has label 12, expected 0..9"), e.getMessage());
        write(root.resolve("cifar-100-binary/test.bin"), record(0, 3, 100));
        e = assertThrows(DatasetException.class, () -> Cifar.load(root, 100, false, TEST_SHRINK));
        assertTrue(e.getMessage().contains("test.bin: record 0 has label 100, expected 0..99"), e.getMessage());
        write(root.resolve("cifar-100-binary/test.bin"), record(0, 20, 5));
        e = assertThrows(DatasetException.class, () -> Cifar.load(root, 100, false, TEST_SHRINK));
        assertTrue(e.getMessage().contains("test.bin: record 0 has coarse label 20, expected 0..19"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Cifar.load(root, 20, false));
    }

    /** a full-size CIFAR-10 test_batch.bin: 10000 records, labels i % 10, pixel bytes i % 256 */
    static void writeFullCifar10Test(Path root) throws IOException {
        byte[] all = new byte[10_000 * 3073];
        for (int i = 0; i < 10_000; i++) {
            all[i * 3073] = (byte) (i % 10);
            java.util.Arrays.fill(all, i * 3073 + 1, (i + 1) * 3073, (byte) i);
        }
        Files.createDirectories(root.resolve("cifar-10-batches-bin"));
        Files.write(root.resolve("cifar-10-batches-bin/test_batch.bin"), all);
    }

    @Test
    void fullSizeFilesAndTruncation() throws IOException {
        writeFullCifar10Test(root);
        Dataset d = Cifar.load(root, 10, false);
        assertEquals(10_000, d.size());
        assertEquals(9, d.label(9999));
        assertEquals((9999 % 256) / 255f, d.image(9999)[3071]);
        // one record short, cut on a record boundary: refused naming the file, the records found and expected
        Path f = root.resolve("cifar-10-batches-bin/test_batch.bin");
        try (var raf = new java.io.RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(9_999L * 3073);
        }
        String m = assertThrows(DatasetException.class, () -> Cifar.load(root, 10, false)).getMessage();
        assertTrue(m.contains("test_batch.bin has 30726927 bytes: 9999 records of the 3073-byte record")
                && m.contains("expected exactly 10000 records"), m);
        // CIFAR-100's train.bin needs 50000 records of 3074 bytes (a sparse file: only the size is checked)
        Path train = root.resolve("cifar-100-binary/train.bin");
        Files.createDirectories(train.getParent());
        try (var raf = new java.io.RandomAccessFile(train.toFile(), "rw")) {
            raf.setLength(10_000L * 3074);
        }
        m = assertThrows(DatasetException.class, () -> Cifar.load(root, 100, true)).getMessage();
        assertTrue(m.contains("train.bin has 30740000 bytes: 10000 records") && m.contains("expected exactly 50000 records"), m);
    }
}
