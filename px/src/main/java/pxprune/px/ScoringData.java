package pxprune.px;

import java.util.Arrays;
import pxprune.core.Tensor;
import pxprune.kernels.DType;

/**
 * What a scorer may look at: the pruning batch {@code x} (float32, [n, ...], e.g. NCHW) with its
 * {@code labels}, the number of classes, a seed (for the random scorer), and the chunk size in
 * which the data-only passes of {@code px} walk the batch (memory only: the result does not depend
 * on it; SNIP and GraSP always use the whole batch, because their batch statistics would change).
 * The caller owns {@code x}. {@code trace} is where the scorer reports its passes ({@link Trace#NONE}:
 * nowhere); it never changes a result. Refused on construction: an empty batch, non-finite inputs,
 * labels outside 0..numClasses-1.
 */
public record ScoringData(Tensor x, int[] labels, int numClasses, long seed, int batchSize, Trace trace) {
    public ScoringData {
        if (trace == null) throw new IllegalArgumentException("ScoringData: trace is null; give Trace.NONE for no tracing");
        if (x == null || x.dim() < 2)
            throw new IllegalArgumentException("ScoringData: x must be a batch [n, ...], got " + (x == null ? "null" : Arrays.toString(x.shape())));
        if (x.size(0) == 0) throw new IllegalArgumentException("ScoringData: the batch is empty; give at least one example");
        if (x.dtype() != DType.F32)
            throw new IllegalArgumentException("ScoringData: x must be float32 (the model's type), got " + x.dtype());
        if (labels == null || labels.length != x.size(0))
            throw new IllegalArgumentException("ScoringData: " + x.size(0) + " inputs but "
                    + (labels == null ? "no" : labels.length) + " labels");
        if (numClasses < 1) throw new IllegalArgumentException("ScoringData: numClasses must be >= 1, got " + numClasses);
        for (int l : labels)
            if (l < 0 || l >= numClasses)
                throw new IllegalArgumentException("ScoringData: label " + l + " outside 0.." + (numClasses - 1));
        float[] v = x.toFloatArray();
        int perSample = v.length / x.size(0);
        for (int i = 0; i < v.length; i++)
            if (!Float.isFinite(v[i]))
                throw new IllegalArgumentException("ScoringData: input x holds " + v[i] + " (example " + i / perSample + ", flat index "
                        + i + "); scoring needs finite inputs");
        if (batchSize < 1) throw new IllegalArgumentException("ScoringData: batchSize must be >= 1, got " + batchSize);
        labels = labels.clone();
    }

    public ScoringData(Tensor x, int[] labels, int numClasses, long seed, int batchSize) {
        this(x, labels, numClasses, seed, batchSize, Trace.NONE);
    }

    /** the same data, reporting to the given trace */
    public ScoringData withTrace(Trace t) { return new ScoringData(x, labels, numClasses, seed, batchSize, t); }

    /** the whole batch as one chunk */
    public ScoringData(Tensor x, int[] labels, int numClasses, long seed) { this(x, labels, numClasses, seed, Math.max(1, x.size(0))); }

    public int size() { return x.size(0); }

    /** the shape of one input, with a leading 1: [1, C, H, W] */
    public int[] sampleShape() {
        int[] s = x.shape();
        s[0] = 1;
        return s;
    }
}
