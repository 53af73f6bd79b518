package pxprune.datasets;

import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable in-memory labelled image set. Images are stored as one float array in NCHW
 * row-major order ({@code images[((i*C + c)*H + y)*W + x]}); labels are class ids in
 * {@code [0, numClasses)}. The public constructor copies its arrays and every accessor returns a
 * copy, so no caller can change a Dataset after it is built.
 */
public final class Dataset implements ImageSet {

    private final float[] images;
    private final int[] labels;
    private final int channels;
    private final int height;
    private final int width;
    private final int numClasses;
    private final String name;

    /**
     * Builds a dataset from copies of {@code images} (N*C*H*W floats, NCHW) and {@code labels}
     * (N class ids in [0, numClasses)).
     *
     * @throws IllegalArgumentException if the lengths disagree or a label is out of range
     */
    public Dataset(float[] images, int[] labels, int channels, int height, int width, int numClasses,
                   String name) {
        this(images.clone(), labels.clone(), channels, height, width, numClasses, name, true);
    }

    /** Takes ownership of the arrays (no copy); for loaders that build fresh arrays. */
    private Dataset(float[] images, int[] labels, int channels, int height, int width, int numClasses,
                    String name, boolean validate) {
        this.name = Objects.requireNonNull(name, "name");
        if (numClasses < 1) {
            throw new IllegalArgumentException("Dataset '" + name + "': numClasses must be >= 1, got " + numClasses);
        }
        long expected = checkedLength(labels.length, channels, height, width);
        if (images.length != expected) {
            throw new IllegalArgumentException("Dataset '" + name + "': images has " + images.length
                    + " floats but N*C*H*W = " + labels.length + "*" + channels + "*" + height + "*" + width
                    + " = " + expected + " (N = labels.length). Images must be NCHW row-major, one label per image.");
        }
        if (validate) {
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] < 0 || labels[i] >= numClasses) {
                    throw new IllegalArgumentException("Dataset '" + name + "': label " + labels[i] + " of example " + i
                            + " is outside [0, " + numClasses + "); labels must be class ids 0.." + (numClasses - 1));
                }
            }
        }
        this.images = images;
        this.labels = labels;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.numClasses = numClasses;
    }

    /** Wraps freshly built arrays without copying them (validated). Callers must not keep them. */
    static Dataset wrap(float[] images, int[] labels, int channels, int height, int width, int numClasses,
                        String name) {
        return new Dataset(images, labels, channels, height, width, numClasses, name, true);
    }

    /**
     * Returns n*c*h*w after checking that the shape is valid and fits one Java array.
     *
     * @throws IllegalArgumentException for a non-positive dimension or more than 2^31-1 floats
     */
    static int checkedLength(long n, int c, int h, int w) {
        if (n < 0 || c < 1 || h < 1 || w < 1) {
            throw new IllegalArgumentException("Image shape must have N >= 0 and C, H, W >= 1, got N=" + n
                    + " C=" + c + " H=" + h + " W=" + w);
        }
        long len = n * c * h * w;
        if (len > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(n + " images of " + c + "x" + h + "x" + w + " = " + len
                    + " floats do not fit one in-memory Dataset (at most " + (Integer.MAX_VALUE - 8)
                    + "); load fewer images (e.g. a subset of the classes) or a smaller image size.");
        }
        return (int) len;
    }

    @Override
    public String name() { return name; }
    @Override
    public int channels() { return channels; }
    @Override
    public int height() { return height; }
    @Override
    public int width() { return width; }
    @Override
    public int numClasses() { return numClasses; }

    /** Number of examples N. */
    @Override
    public int size() { return labels.length; }

    /** Floats per image, C*H*W. */
    public int imageSize() { return channels * height * width; }

    /** Label of example {@code i}. */
    @Override
    public int label(int i) {
        Objects.checkIndex(i, labels.length);
        return labels[i];
    }

    /** A copy of all N labels. */
    public int[] labels() { return labels.clone(); }

    /** A copy of all N*C*H*W pixels (NCHW). For large sets prefer {@link #batch(int[])}. */
    public float[] images() { return images.clone(); }

    /** A copy of image {@code i} as C*H*W floats (CHW row-major). */
    public float[] image(int i) {
        Objects.checkIndex(i, labels.length);
        int d = imageSize();
        return Arrays.copyOfRange(images, i * d, (i + 1) * d);
    }

    /** Copies the examples at {@code indices} (in that order, repeats allowed) into a new Batch. */
    @Override
    public Batch batch(int[] indices) {
        int d = imageSize();
        float[] x = new float[checkedLength(indices.length, channels, height, width)];
        int[] y = new int[indices.length];
        for (int k = 0; k < indices.length; k++) {
            int i = Objects.checkIndex(indices[k], labels.length);
            System.arraycopy(images, i * d, x, k * d, d);
            y[k] = labels[i];
        }
        return new Batch(x, y, indices.length, channels, height, width);
    }

    /** A new Dataset of the examples at {@code indices} (in that order), with the same name and classes. */
    public Dataset subset(int[] indices) {
        Batch b = batch(indices);
        return new Dataset(b.x(), b.y(), channels, height, width, numClasses, name, false);
    }

    /** {@link Transforms#normalize(Dataset, ChannelStats)} of this set. */
    @Override
    public Dataset normalized(ChannelStats stats) {
        return Transforms.normalize(this, stats);
    }

    /** The same data under another name (arrays are shared; both are immutable). */
    public Dataset withName(String newName) {
        return new Dataset(images, labels, channels, height, width, numClasses, newName, false);
    }

    /** A new Dataset with the same labels and shape whose pixels are {@code newImages} (taken, not copied). */
    Dataset withImages(float[] newImages) {
        return new Dataset(newImages, labels, channels, height, width, numClasses, name, false);
    }

    /** Number of examples of each class, indexed by class id. */
    public int[] classCounts() {
        int[] counts = new int[numClasses];
        for (int l : labels) counts[l]++;
        return counts;
    }

    /** For each class id, the indices of its examples in ascending order. */
    @Override
    public int[][] indicesByClass() {
        int[] counts = classCounts();
        int[][] byClass = new int[numClasses][];
        for (int c = 0; c < numClasses; c++) byClass[c] = new int[counts[c]];
        int[] fill = new int[numClasses];
        for (int i = 0; i < labels.length; i++) byClass[labels[i]][fill[labels[i]]++] = i;
        return byClass;
    }

    @Override
    public String toString() {
        return "Dataset[" + name + ": " + size() + " x " + channels + "x" + height + "x" + width
                + ", " + numClasses + " classes]";
    }
}
