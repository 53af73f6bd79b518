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
        Dataset d = Cifar.load(root, 10, true);
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
        Dataset d = Cifar.load(root, 10, false);
        assertEquals(1, d.size());
        assertEquals(9, d.label(0));
        assertPlanes(d, 0, 7);
    }

    @Test
    void cifar100UsesTheFineLabel() throws IOException {
        Path dir = root.resolve("cifar-100-binary");
        write(dir.resolve("train.bin"), record(0, 3, 42), record(5, 19, 99));
        write(dir.resolve("test.bin"), record(1, 0, 7));
        Dataset train = Cifar.load(root, 100, true);
        assertEquals(100, train.numClasses());
        assertArrayEquals(new int[] {42, 99}, train.labels());
        assertPlanes(train, 0, 0);
        assertPlanes(train, 1, 5);
        Dataset test = Cifar.load(root, 100, false);
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
        var e = assertThrows(DatasetException.class, () -> Cifar.load(root, 10, true));
        assertTrue(e.getMessage().startsWith("Missing file") && e.getMessage().contains("data_batch_3.bin"), e.getMessage());
        Cifar.load(root, 10, false); // the test split does not need it
    }

    @Test
    void truncatedFileNamesFileAndSizes() throws IOException {
        writeCifar10(root);
        Path f = root.resolve("cifar-10-batches-bin/test_batch.bin");
        Files.write(f, new byte[3073 + 100]);
        var e = assertThrows(DatasetException.class, () -> Cifar.load(root, 10, false));
        String m = e.getMessage();
        assertTrue(m.contains("test_batch.bin") && m.contains("3173 bytes") && m.contains("3073-byte record"), m);
    }

    @Test
    void labelOutOfRangeAndBadClassCount() throws IOException {
        write(root.resolve("cifar-10-batches-bin/test_batch.bin"), record(0, 12));
        var e = assertThrows(DatasetException.class, () -> Cifar.load(root, 10, false));
        assertTrue(e.getMessage().contains("label 12"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Cifar.load(root, 20, false));
    }
}
