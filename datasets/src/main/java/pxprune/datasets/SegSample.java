package pxprune.datasets;

import java.util.Arrays;

/**
 * One segmentation example: {@code image} holds {@code c x h x w} floats (CHW row-major), {@code label}
 * one class id per pixel ({@code h x w}, row-major) in [0, 255), or {@link SegDataset#IGNORE} for a pixel
 * that is not scored. The arrays are the sample's own (datasets hand out fresh ones), not copied again.
 *
 * @param image CHW pixels, {@code image[(ch*h + y)*w + x]}
 * @param label HW class ids, {@code label[y*w + x]}
 */
public record SegSample(float[] image, int[] label, int c, int h, int w) {

    /**
     * @throws IllegalArgumentException if a dimension is < 1, the array lengths disagree with it, or a label
     *                                  value is outside [0, 255]
     */
    public SegSample {
        if (c < 1 || h < 1 || w < 1) {
            throw new IllegalArgumentException("SegSample shape must have c, h, w >= 1, got c=" + c + " h=" + h + " w=" + w);
        }
        if (image == null || image.length != (long) c * h * w) {
            throw new IllegalArgumentException("SegSample image has " + (image == null ? "no" : image.length)
                    + " floats, expected c*h*w = " + c + "*" + h + "*" + w + " = " + (long) c * h * w);
        }
        if (label == null || label.length != (long) h * w) {
            throw new IllegalArgumentException("SegSample label has " + (label == null ? "no" : label.length)
                    + " values, expected h*w = " + h + "*" + w + " = " + (long) h * w);
        }
        for (int p = 0; p < label.length; p++) {
            if (label[p] < 0 || label[p] > SegDataset.IGNORE) {
                throw new IllegalArgumentException("SegSample label " + label[p] + " at (y=" + p / w + ", x=" + p % w
                        + ") is outside [0, 255]; labels are class ids or " + SegDataset.IGNORE + " (ignore)");
            }
        }
    }

    /** The sorted class ids present in the label ({@link SegDataset#IGNORE} excluded). */
    public int[] presentClasses() {
        boolean[] seen = new boolean[SegDataset.IGNORE];
        for (int v : label) if (v != SegDataset.IGNORE) seen[v] = true;
        int n = 0;
        int[] out = new int[SegDataset.IGNORE];
        for (int k = 0; k < seen.length; k++) if (seen[k]) out[n++] = k;
        return Arrays.copyOf(out, n);
    }

    /**
     * Throws unless every label value is a class id below {@code numClasses} or IGNORE.
     *
     * @param what names the sample in the message (e.g. the label file)
     * @return this sample
     */
    public SegSample checkClasses(int numClasses, String what) {
        for (int p = 0; p < label.length; p++) {
            if (label[p] >= numClasses && label[p] != SegDataset.IGNORE) {
                throw new IllegalArgumentException(what + ": label " + label[p] + " at (y=" + p / w + ", x=" + p % w
                        + ") is not a class id in [0, " + numClasses + ") nor " + SegDataset.IGNORE + " (ignore)");
            }
        }
        return this;
    }

    @Override
    public String toString() {
        return "SegSample[" + c + "x" + h + "x" + w + "]";
    }
}
