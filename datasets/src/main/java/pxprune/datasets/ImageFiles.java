package pxprune.datasets;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A labelled set of image files decoded when a batch is asked for, so that memory does not grow with the
 * number of images: the index keeps one folder per class (or one for a flat folder) and each example's
 * file name and label, about 70 bytes per image; pixels exist only for the batches in flight
 * ({@link BatchStream}). Images come out as 3 x size x size floats: {@link #batch} and evaluation
 * through {@link #stream} use the evaluation crop ({@link ResizedCrop#center}, resize
 * {@link ResizedCrop#evalResize}(size) then centre crop size), training through {@link #stream} with a
 * seed the random resized crop with flips ({@link ResizedCrop#random}); both normalised with the set's
 * channel statistics when it has them ({@link #normalized}), else pixels in [0, 1].
 */
public final class ImageFiles implements ImageSet {

    private final String name;
    private final List<String> classes;
    private final Path[] folders;
    private final int[] folderOf;
    private final String[] files;
    private final int[] labels;
    private final int size;
    private final ChannelStats stats;

    /**
     * @param folders  the folders the files are in
     * @param folderOf per example, its folder's index in folders
     * @param files    per example, its file name inside that folder
     * @param labels   per example, its class id in [0, classes.size())
     * @param size     the side of the square images handed out
     */
    ImageFiles(String name, List<String> classes, Path[] folders, int[] folderOf, String[] files, int[] labels, int size,
               ChannelStats stats) {
        if (folderOf.length != files.length || labels.length != files.length)
            throw new IllegalArgumentException("folderOf, files and labels must have one entry per example");
        if (size < 1) throw new IllegalArgumentException("Image size must be >= 1, got " + size);
        this.name = Objects.requireNonNull(name, "name");
        this.classes = List.copyOf(classes);
        this.folders = folders;
        this.folderOf = folderOf;
        this.files = files;
        this.labels = labels;
        this.size = size;
        this.stats = stats;
    }

    /** The same files handed out as size x size images (training crop and evaluation centre crop). */
    public ImageFiles withSize(int newSize) {
        return new ImageFiles(name, classes, folders, folderOf, files, labels, newSize, stats);
    }

    @Override
    public ImageFiles normalized(ChannelStats newStats) {
        return new ImageFiles(name, classes, folders, folderOf, files, labels, size, Objects.requireNonNull(newStats, "stats"));
    }

    @Override public String name() { return name; }
    @Override public int size() { return files.length; }
    @Override public int numClasses() { return classes.size(); }
    @Override public int channels() { return Images.CHANNELS; }
    @Override public int height() { return size; }
    @Override public int width() { return size; }

    /** The class names (WordNet ids for ImageNet), indexed by class id. */
    public List<String> classes() { return classes; }

    @Override
    public int label(int i) {
        return labels[Objects.checkIndex(i, labels.length)];
    }

    /** The file of example {@code i}. */
    public Path file(int i) {
        Objects.checkIndex(i, files.length);
        return folders[folderOf[i]].resolve(files[i]);
    }

    @Override
    public int[][] indicesByClass() {
        int[] counts = new int[classes.size()];
        for (int l : labels) counts[l]++;
        int[][] byClass = new int[classes.size()][];
        for (int c = 0; c < byClass.length; c++) byClass[c] = new int[counts[c]];
        int[] fill = new int[byClass.length];
        for (int i = 0; i < labels.length; i++) byClass[labels[i]][fill[labels[i]]++] = i;
        return byClass;
    }

    /** The examples at indices with the evaluation crop, decoded on {@link BatchStream#defaultWorkers()} threads. */
    @Override
    public Batch batch(int[] indices) {
        try (BatchStream s = stream(List.of(indices), null, BatchStream.defaultWorkers(), 1)) {
            return s.next();
        }
    }

    /**
     * The batches {@code batches} (each an array of example indices), in order, decoded ahead on worker threads.
     *
     * @param augmentSeed null: the evaluation crop; else the training crop and flip of the example at position k of
     *                    batch b drawn from {@code Seeds.rng(augmentSeed, b, k)}, so the batches do not depend on the
     *                    number of workers or their timing
     * @param workers     decoding threads
     * @param ahead       batches decoded ahead of the one handed out (the bound of the queue)
     */
    public BatchStream stream(List<int[]> batches, Long augmentSeed, int workers, int ahead) {
        return new BatchStream(this, batches, augmentSeed, workers, ahead);
    }

    /** Decodes example i into dst[off..] as 3 x size x size floats: the training crop when rng is non-null, else the evaluation crop. */
    void decode(int i, ResizedCrop.Draws rng, float[] dst, int off) {
        Path f = file(i);
        Images.Pixels p = Images.readPixels(f);
        ResizedCrop.Box box = rng == null ? ResizedCrop.center(p.width(), p.height(), ResizedCrop.evalResize(size), size)
                : ResizedCrop.random(p.width(), p.height(), rng);
        boolean flip = rng != null && rng.uniform() < 0.5;
        float[] mean = stats == null ? new float[3] : stats.mean();
        float[] std = stats == null ? new float[] {1, 1, 1} : stats.std();
        ResizedCrop.resample(p.rgb(), p.width(), p.height(), box, size, flip, mean, std, dst, off);
    }

    /** Every image with the evaluation crop, in memory (pixels as this set gives them). */
    public Dataset load() {
        int[] all = new int[size()];
        java.util.Arrays.setAll(all, i -> i);
        Dataset.checkedLength(all.length, channels(), size, size);
        Batch b = batch(all);
        return Dataset.wrap(b.x(), b.y(), channels(), size, size, numClasses(), name);
    }

    @Override
    public String toString() {
        return "ImageFiles[" + name + ": " + size() + " files, " + classes.size() + " classes, " + size + "x" + size + "]";
    }
}
