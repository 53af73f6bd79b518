package pxprune.datasets;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The mini-batches of one epoch as index arrays. With shuffling, the order of epoch e is a function of
 * (seed, e) only, so a resumed run that starts again at epoch e (and batch b, via {@link #batch(int)})
 * sees exactly the batches of the original run. Without shuffling the order is 0..N-1.
 */
public final class BatchIterator implements Iterator<int[]> {

    private final ImageSet data;
    private final int[] order;
    private final int batchSize;
    private final int numBatches;
    private int next;

    /** Batches of one epoch, keeping a last, smaller batch. */
    public BatchIterator(ImageSet data, int batchSize, boolean shuffle, long seed, int epoch) {
        this(data, batchSize, shuffle, seed, epoch, false);
    }

    /**
     * Batches of one epoch; with {@code dropLast} a last batch smaller than batchSize is left out.
     *
     * @throws IllegalArgumentException if batchSize < 1 or epoch < 0
     */
    public BatchIterator(ImageSet data, int batchSize, boolean shuffle, long seed, int epoch, boolean dropLast) {
        if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        this.data = data;
        this.order = order(data.size(), shuffle, seed, epoch);
        this.batchSize = batchSize;
        this.numBatches = dropLast ? order.length / batchSize : (order.length + batchSize - 1) / batchSize;
    }

    /** The example order of one epoch: a permutation of 0..n-1 determined by (seed, epoch), or 0..n-1. */
    public static int[] order(int n, boolean shuffle, long seed, int epoch) {
        if (epoch < 0) throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        int[] order = new int[n];
        Arrays.setAll(order, i -> i);
        return shuffle ? Seeds.shuffle(order, Seeds.rng(seed, epoch)) : order;
    }

    /** Number of batches in the epoch. */
    public int numBatches() {
        return numBatches;
    }

    /** The indices of batch {@code b} (0-based) of this epoch. */
    public int[] batch(int b) {
        if (b < 0 || b >= numBatches) {
            throw new IndexOutOfBoundsException("batch " + b + " of an epoch with " + numBatches + " batches");
        }
        return Arrays.copyOfRange(order, b * batchSize, Math.min(order.length, (b + 1) * batchSize));
    }

    @Override
    public boolean hasNext() {
        return next < numBatches;
    }

    /** The indices of the next batch. */
    @Override
    public int[] next() {
        if (!hasNext()) throw new NoSuchElementException("all " + numBatches + " batches of this epoch were returned");
        return batch(next++);
    }

    /** The next batch's examples, copied out of the dataset. */
    public Batch nextBatch() {
        return data.batch(next());
    }
}
