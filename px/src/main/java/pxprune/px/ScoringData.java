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
 *
 * <p>Segmentation ({@link #dense}): {@code pixelLabels} holds one label per pixel, [n, H, W] flat
 * for x [n, C, H, W], each in 0..numClasses-1 or {@link #IGNORE}; SNIP and GraSP then differentiate
 * the per-pixel cross-entropy of the model's [n, classes, H, W] output, averaged over the pixels
 * that are not ignored ({@code Ops.crossEntropy2d}). {@code labels} is then each image's most
 * frequent labelled class (ties: the smaller class), for consumers that want one label per image.
 * PX and SynFlow use no labels. {@code pixelLabels} is null for classification data.
 */
public record ScoringData(Tensor x, int[] labels, int numClasses, long seed, int batchSize, Trace trace, int[] pixelLabels) {
    /** the label of pixels that no loss counts (VOC's object boundaries; the same as the datasets' SegDataset.IGNORE) */
    public static final int IGNORE = 255;

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
        if (pixelLabels != null) {
            checkPixelLabels(x, pixelLabels, numClasses);
            pixelLabels = pixelLabels.clone();
        }
    }

    /** classification data (one label per example) */
    public ScoringData(Tensor x, int[] labels, int numClasses, long seed, int batchSize, Trace trace) {
        this(x, labels, numClasses, seed, batchSize, trace, null);
    }

    public ScoringData(Tensor x, int[] labels, int numClasses, long seed, int batchSize) {
        this(x, labels, numClasses, seed, batchSize, Trace.NONE);
    }

    /**
     * Segmentation data: x [n, C, H, W] with pixelLabels [n, H, W] (flat, row-major), each label in
     * 0..numClasses-1 or {@link #IGNORE}; at least one pixel must be labelled.
     */
    public static ScoringData dense(Tensor x, int[] pixelLabels, int numClasses, long seed, int batchSize) {
        if (x == null || x.dim() != 4)
            throw new IllegalArgumentException("ScoringData.dense: x must be images [n, C, H, W], got "
                    + (x == null ? "null" : Arrays.toString(x.shape())));
        checkPixelLabels(x, pixelLabels, numClasses);
        return new ScoringData(x, majority(pixelLabels, x.size(0), numClasses), numClasses, seed, batchSize, Trace.NONE, pixelLabels);
    }

    /** whether the data has a label per pixel (segmentation) */
    public boolean isDense() { return pixelLabels != null; }

    /** the same data, reporting to the given trace */
    public ScoringData withTrace(Trace t) { return new ScoringData(x, labels, numClasses, seed, batchSize, t, pixelLabels); }

    private static void checkPixelLabels(Tensor x, int[] pix, int numClasses) {
        if (x.dim() != 4)
            throw new IllegalArgumentException("ScoringData: per-pixel labels need images x [n, C, H, W], got " + Arrays.toString(x.shape()));
        if (numClasses < 1 || numClasses > IGNORE)
            throw new IllegalArgumentException("ScoringData: numClasses must be in 1.." + IGNORE + " for per-pixel labels (" + IGNORE
                    + " is the ignore label), got " + numClasses);
        int n = x.size(0), h = x.size(2), w = x.size(3);
        long want = (long) n * h * w;
        if (pix == null || pix.length != want)
            throw new IllegalArgumentException("ScoringData: images " + Arrays.toString(x.shape()) + " need " + want + " pixel labels ["
                    + n + ", " + h + ", " + w + "], got " + (pix == null ? "none" : pix.length));
        boolean any = false;
        for (int i = 0; i < pix.length; i++) {
            int l = pix[i];
            if (l == IGNORE) continue;
            if (l < 0 || l >= numClasses)
                throw new IllegalArgumentException("ScoringData: pixel label " + l + " (image " + i / (h * w) + ", pixel " + i % (h * w)
                        + ") outside 0.." + (numClasses - 1) + " and not the ignore label " + IGNORE);
            any = true;
        }
        if (!any)
            throw new IllegalArgumentException("ScoringData: every pixel label is the ignore label " + IGNORE
                    + "; the pruning images need labelled pixels");
    }

    /** per image, its most frequent labelled class (0 for an image whose every pixel is ignored) */
    private static int[] majority(int[] pix, int n, int numClasses) {
        int per = pix.length / n;
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int[] count = new int[numClasses];
            for (int j = i * per; j < (i + 1) * per; j++) if (pix[j] != IGNORE) count[pix[j]]++;
            int best = 0;
            for (int c = 1; c < numClasses; c++) if (count[c] > count[best]) best = c;
            out[i] = best;
        }
        return out;
    }

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
