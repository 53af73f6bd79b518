package pxprune.datasets;

/**
 * A labelled image set as training reads it: in memory ({@link Dataset}) or decoded from files when a
 * batch is asked for ({@link ImageFiles}, ImageNet). Every image has the shape channels x height x width.
 * Implementations are immutable and safe to call from several threads.
 */
public interface ImageSet {

    String name();

    /** Number of examples N. */
    int size();

    int numClasses();

    int channels();

    int height();

    int width();

    /** Label of example {@code i}. */
    int label(int i);

    /** For each class id, the indices of its examples in ascending order. */
    int[][] indicesByClass();

    /** The examples at {@code indices} (in that order, repeats allowed) as a new Batch, not augmented. */
    Batch batch(int[] indices);

    /** The same set with every pixel of channel c mapped to {@code (x - mean[c]) / std[c]}. */
    ImageSet normalized(ChannelStats stats);
}
