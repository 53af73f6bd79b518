package pxprune.datasets;

import java.util.List;

/**
 * A semantic segmentation set: every example is an RGB (or C-channel) image with one class id per
 * pixel. {@link #get(int)} returns a fresh {@link SegSample} each call (pixels in [0, 1], CHW; label HW
 * with values in [0, numClasses) or {@link #IGNORE}), so callers may change it freely. Images of one set
 * may differ in size (Pascal VOC's do); crop or pad them with {@link SegAugment} before
 * {@link SegBatch#stack}. Implementations are immutable and safe to call from several threads.
 * Obtain one from {@link DatasetRegistry#loadSegmentation}; see docs/datasets-segmentation.md.
 */
public interface SegDataset {

    /** The label of pixels that belong to no class (VOC's object boundaries, augmentation padding). */
    int IGNORE = 255;

    /** The set's name, e.g. {@code voc2012-train}. */
    String name();

    /** Number of examples. */
    int size();

    /** Number of classes (background included, IGNORE not counted). */
    int numClasses();

    /** Image channels (3 for the sets here). */
    int channels();

    /** The class names, indexed by class id ({@code numClasses()} entries). */
    List<String> classNames();

    /**
     * A fresh copy of example {@code i}.
     *
     * @throws IndexOutOfBoundsException if i is not in [0, size())
     * @throws DatasetException          if the example's files cannot be read or are malformed
     */
    SegSample get(int i);

    /**
     * The sorted class ids present in example {@code i}'s label ({@link #IGNORE} excluded), a fresh
     * array. May read the label on first use and cache the answer; safe to call from several threads.
     */
    int[] presentClasses(int i);

    /**
     * A view of the examples at {@code indices} (in that order, repeats allowed) with the same name and
     * classes; nothing is copied or read.
     *
     * @throws IndexOutOfBoundsException if an index is not in [0, size())
     */
    default SegDataset subset(int[] indices) {
        return new SegSubset(this, indices);
    }
}
