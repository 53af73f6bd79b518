package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The IDX reader and the MNIST-family loader on small files written here: valid ones, raw and gzip, and hostile ones. */
class MnistTest {

    private static final String FIX = "Fix: get good files.";
    private static final int TRAIN = 12, TEST = 5, PIXELS = Mnist.SIDE * Mnist.SIDE;

    @TempDir
    Path tmp;

    // ------------------------------------------------------------------ writing IDX files

    /** the bytes of an IDX file: magic 00 00 type rank, the dimensions, the data */
    static byte[] idx(int type, int[] dims, byte[] data) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(b)) {
            out.write(new byte[] {0, 0, (byte) type, (byte) dims.length});
            for (int d : dims) out.writeInt(d);
            out.write(data);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return b.toByteArray();
    }

    static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(b)) {
            out.write(bytes);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return b.toByteArray();
    }

    static Path write(Path file, byte[] bytes) {
        try {
            Files.createDirectories(file.getParent());
            return Files.write(file, bytes);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** pixel p of image i */
    static byte pixel(int i, int p) {
        return (byte) (i * 31 + p * 7);
    }

    static byte[] images(int n) {
        byte[] d = new byte[n * PIXELS];
        for (int i = 0; i < n; i++) for (int p = 0; p < PIXELS; p++) d[i * PIXELS + p] = pixel(i, p);
        return d;
    }

    static byte[] labels(int n) {
        byte[] d = new byte[n];
        for (int i = 0; i < n; i++) d[i] = (byte) ((i * 3) % Mnist.CLASSES);
        return d;
    }

    /** the four files of a set with n training and m test images in folder, gzip or raw */
    static void writeSet(Path folder, int n, int m, boolean gz) {
        String ext = gz ? ".gz" : "";
        write(folder.resolve(Mnist.TRAIN_IMAGES + ext), maybeGzip(idx(8, new int[] {n, 28, 28}, images(n)), gz));
        write(folder.resolve(Mnist.TRAIN_LABELS + ext), maybeGzip(idx(8, new int[] {n}, labels(n)), gz));
        write(folder.resolve(Mnist.TEST_IMAGES + ext), maybeGzip(idx(8, new int[] {m, 28, 28}, images(m)), gz));
        write(folder.resolve(Mnist.TEST_LABELS + ext), maybeGzip(idx(8, new int[] {m}, labels(m)), gz));
    }

    private static byte[] maybeGzip(byte[] b, boolean gz) {
        return gz ? gzip(b) : b;
    }

    private Dataset load(Path folder, boolean train) {
        return Mnist.load(List.of(folder), Mnist.Variant.FASHION_MNIST, train, train ? TRAIN : TEST, FIX);
    }

    private static void checkContent(Dataset d, int n) {
        assertEquals(n, d.size());
        assertEquals(1, d.channels());
        assertEquals(28, d.height());
        assertEquals(28, d.width());
        assertEquals(10, d.numClasses());
        float[] x = d.images();
        for (int i = 0; i < n; i++) {
            assertEquals((i * 3) % 10, d.label(i));
            for (int p = 0; p < PIXELS; p += 97) assertEquals((pixel(i, p) & 0xFF) / 255f, x[i * PIXELS + p]);
        }
    }

    /** the message names the file and carries the fix */
    private static String failure(Path file, Runnable r) {
        String msg = assertThrows(DatasetException.class, r::run).getMessage();
        assertTrue(msg.contains(file.toString()), msg);
        assertTrue(msg.contains(FIX), msg);
        return msg;
    }

    // ------------------------------------------------------------------ valid files

    @Test
    void gzipAndRawFilesLoadTheSameData() {
        writeSet(tmp.resolve("gz"), TRAIN, TEST, true);
        writeSet(tmp.resolve("raw"), TRAIN, TEST, false);
        for (String f : List.of("gz", "raw")) {
            Dataset train = load(tmp.resolve(f), true), test = load(tmp.resolve(f), false);
            checkContent(train, TRAIN);
            checkContent(test, TEST);
            assertEquals("fashion_mnist-train", train.name());
            assertEquals("fashion_mnist-test", test.name());
        }
        assertArrayEquals(load(tmp.resolve("gz"), true).images(), load(tmp.resolve("raw"), true).images());
    }

    @Test
    void gzipIsRecognisedByContentNotName() {
        Path f = write(tmp.resolve("labels-no-extension"), gzip(idx(8, new int[] {4}, new byte[] {1, 2, 3, 4})));
        Idx.Header h = Idx.header(f, 1, FIX);
        assertTrue(h.gzip());
        assertArrayEquals(new byte[] {1, 2, 3, 4}, Idx.data(h, FIX));
        Path raw = write(tmp.resolve("labels.gz"), idx(8, new int[] {2}, new byte[] {9, 8}));
        assertArrayEquals(new byte[] {9, 8}, Idx.data(Idx.header(raw, 1, FIX), FIX));
    }

    @Test
    void theFirstFolderHoldingAllFourFilesIsUsed() {
        Path root = tmp.resolve("root"), system = tmp.resolve("system");
        writeSet(system, TRAIN, TEST, true);
        write(root.resolve("fashion-mnist").resolve(Mnist.TRAIN_IMAGES), new byte[0]); // incomplete: skipped
        List<Path> folders = List.of(root.resolve("fashion-mnist"), system);
        assertEquals(Optional.of(system), Mnist.locate(folders));
        checkContent(Mnist.load(folders, Mnist.Variant.FASHION_MNIST, true, TRAIN, FIX), TRAIN);
        writeSet(root.resolve("fashion-mnist"), TRAIN, TEST, false);
        assertEquals(Optional.of(root.resolve("fashion-mnist")), Mnist.locate(folders));
        assertEquals(List.of(root.resolve("fashion-mnist"), Path.of(Mnist.DEBIAN_FASHION_MNIST)),
                Mnist.candidates(root, Mnist.Variant.FASHION_MNIST));
        assertEquals(List.of(root.resolve("kmnist")), Mnist.candidates(root, Mnist.Variant.KMNIST));
    }

    @Test
    void missingFilesAreNamedWithHowToGetThem() {
        Path root = tmp.resolve("root");
        write(root.resolve("mnist").resolve(Mnist.TRAIN_IMAGES + ".gz"), new byte[0]);
        String msg = assertThrows(DatasetException.class, () -> Mnist.load(root, Mnist.Variant.MNIST, true)).getMessage();
        assertTrue(msg.contains("MNIST not found") && msg.contains(root.resolve("mnist").toAbsolutePath().toString())
                && msg.contains("missing train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz]")
                && msg.contains("download") && msg.contains("yann.lecun.com"), msg);
        String fashion = Mnist.howToGet(root, Mnist.Variant.FASHION_MNIST);
        assertTrue(fashion.contains("apt-get install dataset-fashion-mnist")
                && fashion.contains(root.resolve("fashion-mnist").toString()), fashion);
        assertFalse(Mnist.howToGet(root, Mnist.Variant.KMNIST).contains("apt-get"));
    }

    @Test
    void theRegistryLoadsTheFullTestSplitAndSaysWhereEachSetIs() {
        Path root = tmp.resolve("data");
        write(root.resolve("mnist").resolve(Mnist.TEST_IMAGES), idx(8, new int[] {Mnist.TEST_SIZE, 28, 28}, images(Mnist.TEST_SIZE)));
        write(root.resolve("mnist").resolve(Mnist.TEST_LABELS), idx(8, new int[] {Mnist.TEST_SIZE}, labels(Mnist.TEST_SIZE)));
        write(root.resolve("mnist").resolve(Mnist.TRAIN_IMAGES), new byte[0]); // present but never read for the test split
        write(root.resolve("mnist").resolve(Mnist.TRAIN_LABELS), new byte[0]);
        Dataset d = DatasetRegistry.load("mnist", root, false, 0);
        checkContent(d, Mnist.TEST_SIZE);
        assertEquals("mnist-test", d.name());
        assertEquals(Optional.of(ChannelStats.MNIST), DatasetRegistry.stats("mnist"));
        assertEquals(Optional.of(ChannelStats.FASHION_MNIST), DatasetRegistry.stats("fashion_mnist"));
        assertEquals(Optional.of(ChannelStats.KMNIST), DatasetRegistry.stats("kmnist"));
        String msg = assertThrows(DatasetException.class, () -> DatasetRegistry.load("mnist", root, true, 0)).getMessage();
        assertTrue(msg.contains(Mnist.TRAIN_IMAGES) && msg.contains("fewer than the 4"), msg);

        var mnist = DatasetRegistry.availability("mnist", root).orElseThrow();
        assertTrue(mnist.present());
        assertEquals(root.resolve("mnist").toAbsolutePath().toString(), mnist.detail());
        var kmnist = DatasetRegistry.availability("kmnist", root).orElseThrow();
        assertFalse(kmnist.present());
        assertTrue(kmnist.detail().startsWith("Fix: download") && kmnist.detail().contains("codh.rois.ac.jp"), kmnist.detail());
        assertEquals(Optional.empty(), DatasetRegistry.availability("cifar10", root));
        assertThrows(IllegalArgumentException.class, () -> DatasetRegistry.availability("emnist", root));
    }

    // ------------------------------------------------------------------ hostile files

    @Test
    void badMagicNumbers() {
        Path text = write(tmp.resolve("text"), "hello world, not IDX".getBytes());
        assertTrue(failure(text, () -> Idx.header(text, 3, FIX)).contains("is not an IDX file: it starts with bytes 68 65 6c 6c"));
        Path floats = write(tmp.resolve("floats"), idx(0x0D, new int[] {1}, new byte[4]));
        assertTrue(failure(floats, () -> Idx.header(floats, 1, FIX)).contains("element type 0x0d (32-bit floats), expected 0x08"));
        Path empty = write(tmp.resolve("empty"), new byte[0]);
        assertTrue(failure(empty, () -> Idx.header(empty, 1, FIX)).contains("fewer than the 4"));
        Path emptyGz = write(tmp.resolve("empty.gz"), gzip(new byte[0]));
        assertTrue(failure(emptyGz, () -> Idx.header(emptyGz, 1, FIX)).contains("0 bytes after decompression"));
    }

    @Test
    void wrongRank() {
        Path labels = write(tmp.resolve("labels"), idx(8, new int[] {3}, new byte[3]));
        String msg = failure(labels, () -> Idx.header(labels, 3, FIX));
        assertTrue(msg.contains("rank 1") && msg.contains("expected rank 3") && msg.contains("labels file"), msg);
        // the loader: the images file swapped with the labels file
        Path folder = tmp.resolve("swapped");
        writeSet(folder, TRAIN, TEST, true);
        write(folder.resolve(Mnist.TEST_IMAGES + ".gz"), gzip(idx(8, new int[] {TEST}, labels(TEST))));
        assertTrue(failure(folder.resolve(Mnist.TEST_IMAGES + ".gz"), () -> load(folder, false)).contains("expected rank 3"));
    }

    @Test
    void dimensionsThatAreNotPositiveOrOverflow() {
        Path negative = write(tmp.resolve("negative"), idx(8, new int[] {-1, 28, 28}, new byte[0]));
        assertTrue(failure(negative, () -> Idx.header(negative, 3, FIX)).contains("dimension 1 as -1"));
        Path zero = write(tmp.resolve("zero"), idx(8, new int[] {5, 0, 28}, new byte[0]));
        assertTrue(failure(zero, () -> Idx.header(zero, 3, FIX)).contains("dimension 2 as 0"));
        int max = Integer.MAX_VALUE;
        Path overflow = write(tmp.resolve("overflow"), idx(8, new int[] {max, max, max}, new byte[16]));
        assertTrue(failure(overflow, () -> Idx.header(overflow, 3, FIX)).contains("more than 2^63"));
        Path huge = write(tmp.resolve("huge"), idx(8, new int[] {65536, 256, 256}, new byte[16]));
        assertTrue(failure(huge, () -> Idx.header(huge, 3, FIX)).contains("4294967296 elements, more than one array holds"));
    }

    @Test
    void dimensionsThatDoNotMatchTheFileSize() {
        byte[] full = idx(8, new int[] {TRAIN, 28, 28}, images(TRAIN));
        Path shorter = write(tmp.resolve("short"), Arrays.copyOf(full, full.length - PIXELS));
        assertTrue(failure(shorter, () -> Idx.header(shorter, 3, FIX)).contains("the file is truncated"));
        Path longer = write(tmp.resolve("long"), Arrays.copyOf(full, full.length + 3));
        assertTrue(failure(longer, () -> Idx.header(longer, 3, FIX)).contains("it has 3 bytes more than declared"));
        Path cutHeader = write(tmp.resolve("cut-header"), Arrays.copyOf(full, 10));
        assertTrue(failure(cutHeader, () -> Idx.header(cutHeader, 3, FIX)).contains("ends inside its header"));
        // gzip: a header declaring far more than the file can hold is refused before anything is read or allocated
        Path bomb = write(tmp.resolve("bomb.gz"), gzip(idx(8, new int[] {2_000_000, 28, 28}, new byte[PIXELS])));
        assertTrue(failure(bomb, () -> Idx.header(bomb, 3, FIX)).contains("more than gzip can hold"));
    }

    @Test
    void truncatedOrOverlongGzipData() {
        byte[] full = gzip(idx(8, new int[] {TRAIN, 28, 28}, images(TRAIN)));
        Path cut = write(tmp.resolve("cut.gz"), Arrays.copyOf(full, full.length / 2));
        Idx.Header h = Idx.header(cut, 3, FIX);
        assertTrue(failure(cut, () -> Idx.data(h, FIX)).contains("truncated"));
        Path fewer = write(tmp.resolve("fewer.gz"), gzip(Arrays.copyOf(idx(8, new int[] {TRAIN, 28, 28}, images(TRAIN)), 16 + PIXELS)));
        String msg = failure(fewer, () -> Idx.data(Idx.header(fewer, 3, FIX), FIX));
        assertTrue(msg.contains("declares 12x28x28 = 9408 bytes of data, but it holds 784: the file is truncated"), msg);
        Path more = write(tmp.resolve("more.gz"), gzip(idx(8, new int[] {3}, new byte[] {1, 2, 3, 4})));
        assertTrue(failure(more, () -> Idx.data(Idx.header(more, 1, FIX), FIX)).contains("more data after decompression"));
        Path garbage = write(tmp.resolve("garbage.gz"), new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5});
        failure(garbage, () -> Idx.header(garbage, 1, FIX));
    }

    @Test
    void imagesAndLabelsMustAgreeInCount() {
        Path folder = tmp.resolve("mismatch");
        writeSet(folder, TRAIN, TEST, false);
        write(folder.resolve(Mnist.TRAIN_LABELS), idx(8, new int[] {TRAIN - 1}, labels(TRAIN - 1)));
        String msg = failure(folder.resolve(Mnist.TRAIN_IMAGES), () -> load(folder, true));
        assertTrue(msg.contains("holds 12 images but " + folder.resolve(Mnist.TRAIN_LABELS) + " holds 11 labels"), msg);
    }

    @Test
    void theSplitMustHoldItsCountOf28x28Images() {
        Path folder = tmp.resolve("count");
        writeSet(folder, TRAIN, TEST + 1, false);
        assertTrue(failure(folder.resolve(Mnist.TEST_IMAGES), () -> load(folder, false)).contains("hold 6 images and labels, expected 5"));
        write(folder.resolve(Mnist.TEST_IMAGES), idx(8, new int[] {TEST, 32, 32}, new byte[TEST * 32 * 32]));
        assertTrue(failure(folder.resolve(Mnist.TEST_IMAGES), () -> load(folder, false)).contains("images of 32x32"));
    }

    @Test
    void labelsOutOfRange() {
        Path folder = tmp.resolve("labels");
        writeSet(folder, TRAIN, TEST, true);
        byte[] bad = labels(TEST);
        bad[3] = 10;
        write(folder.resolve(Mnist.TEST_LABELS + ".gz"), gzip(idx(8, new int[] {TEST}, bad)));
        String msg = failure(folder.resolve(Mnist.TEST_LABELS + ".gz"), () -> load(folder, false));
        assertTrue(msg.contains("label 3 is 10, expected 0..9"), msg);
    }
}
