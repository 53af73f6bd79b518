package pxprune.datasets;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The MNIST family in its IDX files ({@link Idx}): MNIST, Fashion-MNIST and Kuzushiji-MNIST share one
 * layout, 60,000 training and 10,000 test images of 1x28x28 unsigned bytes with labels 0..9, in four
 * files, each raw or gzip compressed (a raw file is used when both are there):
 * <pre>
 * FOLDER/train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]
 * FOLDER/t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]
 * </pre>
 * FOLDER is {@code dataRoot/mnist}, {@code dataRoot/fashion-mnist} or {@code dataRoot/kmnist}; for
 * Fashion-MNIST, when that folder does not hold the four files, also Debian's
 * {@value #DEBIAN_FASHION_MNIST} (package {@code dataset-fashion-mnist}). Pixels are divided by 255.
 * Headers are checked before anything is allocated for the data: images of rank 3 and 28x28, labels
 * of rank 1, the same count in both, and the variant's count for the split.
 */
public final class Mnist {

    public static final int SIDE = 28;
    public static final int CLASSES = 10;
    public static final int TRAIN_SIZE = 60_000;
    public static final int TEST_SIZE = 10_000;
    /** where Debian's package dataset-fashion-mnist installs the four Fashion-MNIST files */
    public static final String DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist";

    /** The three sets: registry name, folder under dataRoot, title, where to download, other folders searched. */
    public enum Variant {
        MNIST("mnist", "mnist", "MNIST", "http://yann.lecun.com/exdb/mnist/ (or a mirror of it)", List.of(), null),
        FASHION_MNIST("fashion_mnist", "fashion-mnist", "Fashion-MNIST",
                "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", List.of(DEBIAN_FASHION_MNIST),
                "apt-get install dataset-fashion-mnist"),
        KMNIST("kmnist", "kmnist", "Kuzushiji-MNIST", "http://codh.rois.ac.jp/kmnist/dataset/kmnist/", List.of(), null);

        private final String registryName, folder, title, download, install;
        private final List<String> systemFolders;

        Variant(String registryName, String folder, String title, String download, List<String> systemFolders, String install) {
            this.registryName = registryName;
            this.folder = folder;
            this.title = title;
            this.download = download;
            this.systemFolders = systemFolders;
            this.install = install;
        }

        /** the name in {@link DatasetRegistry} */
        public String registryName() {
            return registryName;
        }

        /** the folder under the data root */
        public String folder() {
            return folder;
        }

        /** the variant with registry name {@code name}, if any */
        public static Optional<Variant> of(String name) {
            return Arrays.stream(values()).filter(v -> v.registryName.equals(name)).findFirst();
        }
    }

    static final String TRAIN_IMAGES = "train-images-idx3-ubyte", TRAIN_LABELS = "train-labels-idx1-ubyte",
            TEST_IMAGES = "t10k-images-idx3-ubyte", TEST_LABELS = "t10k-labels-idx1-ubyte";
    private static final List<String> FILES = List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS);

    private Mnist() {
    }

    /** The folders searched for a variant, in order: {@code dataRoot/FOLDER}, then the system folders. */
    static List<Path> candidates(Path dataRoot, Variant v) {
        List<Path> c = new ArrayList<>();
        if (dataRoot != null) c.add(dataRoot.resolve(v.folder));
        for (String s : v.systemFolders) c.add(Path.of(s));
        return c;
    }

    /** The first of the folders that holds all four files (raw or gzip), if any. */
    public static Optional<Path> locate(Path dataRoot, Variant v) {
        return locate(candidates(dataRoot, v));
    }

    static Optional<Path> locate(List<Path> folders) {
        return folders.stream().filter(f -> FILES.stream().allMatch(n -> file(f, n).isPresent())).findFirst();
    }

    /** {@code folder/name} if it is a regular file, else {@code folder/name.gz} if that is one */
    private static Optional<Path> file(Path folder, String name) {
        for (Path p : List.of(folder.resolve(name), folder.resolve(name + ".gz")))
            if (Files.isRegularFile(p)) return Optional.of(p);
        return Optional.empty();
    }

    /** One sentence: how to get the variant's four files (the install command where a package has them). */
    public static String howToGet(Path dataRoot, Variant v) {
        String into = dataRoot == null ? "FOLDER/" + v.folder : dataRoot.resolve(v.folder).toString();
        String download = "download " + String.join(".gz, ", FILES) + ".gz from " + v.download + " into " + into + "/";
        return v.install == null ? "Fix: " + download + "." : "Fix: " + v.install + " (Debian), or " + download + ".";
    }

    /**
     * Loads the train (60,000) or test (10,000) split of variant {@code v}, from {@code dataRoot}'s folder
     * for it or a system folder ({@link #locate}).
     *
     * @throws DatasetException naming the file, the problem and the fix, if no folder holds the four
     *                          files, a file is not an IDX file of the expected rank, shape and count,
     *                          the images and labels disagree in count, a file is truncated or longer
     *                          than declared, or a label is outside 0..9
     */
    public static Dataset load(Path dataRoot, Variant v, boolean train) {
        return load(candidates(dataRoot, v), v, train, train ? TRAIN_SIZE : TEST_SIZE, howToGet(dataRoot, v));
    }

    /** As {@link #load(Path, Variant, boolean)} from the given folders, for small test files: the split must hold {@code count} images. */
    static Dataset load(List<Path> folders, Variant v, boolean train, int count, String fix) {
        Path folder = locate(folders).orElseThrow(() -> new DatasetException(v.title + " not found: " + missing(folders)
                + ". " + fix));
        Path imagesFile = file(folder, train ? TRAIN_IMAGES : TEST_IMAGES).orElseThrow();
        Path labelsFile = file(folder, train ? TRAIN_LABELS : TEST_LABELS).orElseThrow();
        String badFile = "Replace the file with a good copy (the " + v.title + " files are "
                + (train ? "60,000" : "10,000") + " images of 28x28 and as many labels). " + fix;
        Idx.Header images = Idx.header(imagesFile, 3, badFile);
        Idx.Header labels = Idx.header(labelsFile, 1, badFile);
        int[] d = images.dims();
        if (d[1] != SIDE || d[2] != SIDE) {
            throw new DatasetException(imagesFile + " holds images of " + d[1] + "x" + d[2] + " (" + images.shape() + "), expected "
                    + SIDE + "x" + SIDE + " for " + v.title + ". " + badFile);
        }
        if (d[0] != labels.dims()[0]) {
            throw new DatasetException(imagesFile + " holds " + d[0] + " images but " + labelsFile + " holds " + labels.dims()[0]
                    + " labels; the two files must hold one label per image (are they from different sets or splits?). "
                    + badFile);
        }
        if (d[0] != count) {
            throw new DatasetException(imagesFile + " and " + labelsFile + " hold " + d[0] + " images and labels, expected "
                    + count + " for the " + (train ? "train" : "test") + " split of " + v.title + ". " + badFile);
        }
        byte[] labelBytes = Idx.data(labels, badFile);
        int[] y = new int[count];
        for (int i = 0; i < count; i++) {
            y[i] = labelBytes[i] & 0xFF;
            if (y[i] >= CLASSES) {
                throw new DatasetException(labelsFile + ": label " + i + " is " + y[i] + ", expected 0.." + (CLASSES - 1)
                        + " (" + v.title + " has " + CLASSES + " classes). " + badFile);
            }
        }
        byte[] pixels = Idx.data(images, badFile);
        float[] x = new float[Dataset.checkedLength(count, 1, SIDE, SIDE)];
        for (int i = 0; i < x.length; i++) x[i] = (pixels[i] & 0xFF) / 255f;
        return Dataset.wrap(x, y, 1, SIDE, SIDE, CLASSES, v.registryName + (train ? "-train" : "-test"));
    }

    /** where each folder falls short, e.g. "data/mnist (no such folder); /x (missing t10k-labels-idx1-ubyte[.gz])" */
    private static String missing(List<Path> folders) {
        List<String> parts = new ArrayList<>();
        for (Path f : folders) {
            if (!Files.isDirectory(f)) {
                parts.add(f.toAbsolutePath() + " (no such folder)");
            } else {
                List<String> gone = FILES.stream().filter(n -> file(f, n).isEmpty()).map(n -> n + "[.gz]").toList();
                parts.add(f.toAbsolutePath() + " (missing " + String.join(", ", gone) + ")");
            }
        }
        return "looked in " + String.join("; ", parts);
    }
}
