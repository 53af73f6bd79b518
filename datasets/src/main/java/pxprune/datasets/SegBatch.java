package pxprune.datasets;

import java.util.List;

/**
 * A segmentation mini-batch: {@code x} holds {@code n} images in NCHW row-major order, {@code y} their
 * labels in NHW order (class ids or {@link SegDataset#IGNORE}). Built by {@link #stack(List)} from
 * samples of one size (crop or pad them first with {@link SegAugment}).
 */
public record SegBatch(float[] x, int[] y, int n, int c, int h, int w) {

    public SegBatch {
        if (n < 0 || c < 1 || h < 1 || w < 1) {
            throw new IllegalArgumentException("SegBatch shape must have n >= 0 and c, h, w >= 1, got n=" + n
                    + " c=" + c + " h=" + h + " w=" + w);
        }
        if (x.length != (long) n * c * h * w) {
            throw new IllegalArgumentException("SegBatch x has " + x.length + " floats, expected n*c*h*w = "
                    + n + "*" + c + "*" + h + "*" + w + " = " + (long) n * c * h * w);
        }
        if (y.length != (long) n * h * w) {
            throw new IllegalArgumentException("SegBatch y has " + y.length + " labels, expected n*h*w = "
                    + n + "*" + h + "*" + w + " = " + (long) n * h * w);
        }
    }

    /**
     * Copies the samples, in order, into one batch.
     *
     * @throws IllegalArgumentException if the list is empty or the samples differ in shape (the message names
     *                                  the first one that differs)
     */
    public static SegBatch stack(List<SegSample> samples) {
        if (samples.isEmpty()) {
            throw new IllegalArgumentException("SegBatch.stack: no samples; pass at least one");
        }
        SegSample first = samples.get(0);
        int c = first.c(), h = first.h(), w = first.w();
        for (int i = 1; i < samples.size(); i++) {
            SegSample s = samples.get(i);
            if (s.c() != c || s.h() != h || s.w() != w) {
                throw new IllegalArgumentException("SegBatch.stack: sample " + i + " is " + s.c() + "x" + s.h() + "x" + s.w()
                        + " but sample 0 is " + c + "x" + h + "x" + w + "; crop or pad every sample to one size first "
                        + "(SegAugment.train for training, SegAugment.eval for evaluation)");
            }
        }
        long total = (long) samples.size() * c * h * w;
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("SegBatch.stack: " + samples.size() + " samples of " + c + "x" + h + "x" + w
                    + " do not fit one array; use a smaller batch");
        }
        int d = c * h * w, p = h * w;
        float[] x = new float[(int) total];
        int[] y = new int[samples.size() * p];
        for (int i = 0; i < samples.size(); i++) {
            System.arraycopy(samples.get(i).image(), 0, x, i * d, d);
            System.arraycopy(samples.get(i).label(), 0, y, i * p, p);
        }
        return new SegBatch(x, y, samples.size(), c, h, w);
    }

    /** Floats per image, c*h*w. */
    public int imageSize() {
        return c * h * w;
    }
}
