package pxprune.datasets;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * CIFAR-10 and CIFAR-100 in the official binary layouts. Each record holds the label byte(s) and
 * then 3072 pixel bytes: the 32x32 red plane, then green, then blue, each row-major, which is
 * already CHW order. Pixels are divided by 255.
 * <pre>
 * dataRoot/cifar-10-batches-bin/data_batch_1.bin .. data_batch_5.bin, test_batch.bin  (label, 3072 pixels)
 * dataRoot/cifar-100-binary/train.bin, test.bin                   (coarse label, fine label, 3072 pixels)
 * </pre>
 * CIFAR-100 uses the fine label (100 classes).
 */
public final class Cifar {

    public static final int SIDE = 32;
    public static final int CHANNELS = 3;
    public static final int PIXELS = CHANNELS * SIDE * SIDE;

    private Cifar() {
    }

    /** Folder, file names, record header size, label position and records per file for one variant. */
    private record Layout(String folder, List<String> trainFiles, List<String> testFiles, int labelBytes,
                          int labelOffset, String archive, int trainRecords, int testRecords) {
        int recordSize() {
            return labelBytes + PIXELS;
        }

        String help(Path dataRoot) {
            return "Expected " + dataRoot.resolve(folder) + "/ with " + String.join(", ", trainFiles) + " (train) and "
                    + String.join(", ", testFiles) + " (test), with " + trainRecords + " and " + testRecords + " records of "
                    + recordSize() + " bytes per file. "
                    + "Fix: download " + archive + " and extract it into " + dataRoot
                    + " (tar xzf " + archive.substring(archive.lastIndexOf('/') + 1) + " -C " + dataRoot + ").";
        }
    }

    private static final Layout CIFAR10 = new Layout("cifar-10-batches-bin",
            List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"),
            List.of("test_batch.bin"), 1, 0, "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", 10_000, 10_000);
    private static final Layout CIFAR100 = new Layout("cifar-100-binary",
            List.of("train.bin"), List.of("test.bin"), 2, 1, "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
            50_000, 10_000);
    /** CIFAR-100's records also hold a coarse label (20 super-classes) before the fine one */
    private static final int COARSE_CLASSES = 20;

    /**
     * Loads the train (50000) or test (10000) split of CIFAR-10 ({@code numClasses == 10}) or CIFAR-100
     * ({@code numClasses == 100}) from {@code dataRoot}.
     *
     * @throws DatasetException if a folder or file is missing, a file does not hold exactly the format's
     *                          number of records (10000 per file, 50000 in CIFAR-100's train.bin), or a
     *                          label is out of range
     */
    public static Dataset load(Path dataRoot, int numClasses, boolean train) {
        return load(dataRoot, numClasses, train, 1);
    }

    /** As {@link #load(Path, int, boolean)}, for small test files: each file holds its official record count / shrink. */
    static Dataset load(Path dataRoot, int numClasses, boolean train, int shrink) {
        Layout layout = switch (numClasses) {
            case 10 -> CIFAR10;
            case 100 -> CIFAR100;
            default -> throw new IllegalArgumentException("CIFAR numClasses must be 10 or 100, got " + numClasses);
        };
        Path dir = DatasetException.requireDir(dataRoot.resolve(layout.folder()), layout.help(dataRoot));
        List<Path> files = new ArrayList<>();
        long records = 0;
        for (String f : train ? layout.trainFiles() : layout.testFiles()) {
            Path file = DatasetException.requireFile(dir.resolve(f), layout.help(dataRoot));
            records += recordCount(file, layout, (train ? layout.trainRecords() : layout.testRecords()) / shrink, dataRoot);
            files.add(file);
        }
        float[] images = new float[Dataset.checkedLength(records, CHANNELS, SIDE, SIDE)];
        int[] labels = new int[(int) records];
        int n = 0;
        for (Path file : files) {
            byte[] bytes = readAll(file);
            for (int off = 0; off < bytes.length; off += layout.recordSize(), n++) {
                int label = bytes[off + layout.labelOffset()] & 0xFF;
                if (layout.labelBytes() == 2 && (bytes[off] & 0xFF) >= COARSE_CLASSES) {
                    throw new DatasetException(file + ": record " + off / layout.recordSize() + " has coarse label "
                            + (bytes[off] & 0xFF) + ", expected 0.." + (COARSE_CLASSES - 1) + ". The file is not a CIFAR-100"
                            + " binary file or is corrupt; " + layout.help(dataRoot));
                }
                if (label >= numClasses) {
                    throw new DatasetException(file + ": record " + off / layout.recordSize() + " has label " + label
                            + ", expected 0.." + (numClasses - 1) + ". The file is not a CIFAR-" + numClasses
                            + " binary file or is corrupt; " + layout.help(dataRoot));
                }
                labels[n] = label;
                int base = off + layout.labelBytes();
                for (int p = 0; p < PIXELS; p++) {
                    images[n * PIXELS + p] = (bytes[base + p] & 0xFF) / 255f;
                }
            }
        }
        return Dataset.wrap(images, labels, CHANNELS, SIDE, SIDE, numClasses,
                "cifar" + numClasses + (train ? "-train" : "-test"));
    }

    private static long recordCount(Path file, Layout layout, int expected, Path dataRoot) {
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw new DatasetException("Cannot read the size of " + file + ": " + e.getMessage(), e);
        }
        int rs = layout.recordSize();
        if (size != (long) expected * rs) {
            throw new DatasetException(file + " has " + size + " bytes: " + size / rs + " records"
                    + (size % rs == 0 ? "" : " and " + size % rs + " bytes more") + " of the " + rs + "-byte record ("
                    + layout.labelBytes() + " label byte(s) + " + PIXELS + " pixel bytes), expected exactly " + expected
                    + " records (" + (long) expected * rs + " bytes); the file is truncated or of another format. "
                    + layout.help(dataRoot));
        }
        return expected;
    }

    private static byte[] readAll(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new DatasetException("Cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
