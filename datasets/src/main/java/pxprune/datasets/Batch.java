package pxprune.datasets;

/**
 * A mini-batch: {@code x} holds {@code n} images in NCHW row-major order, {@code y} their labels.
 * The arrays are owned by the batch (fresh copies from {@link Dataset#batch(int[])}), so in-place
 * augmentation ({@link Augment#cifarInPlace}) never touches the dataset.
 */
public record Batch(float[] x, int[] y, int n, int c, int h, int w) {

    public Batch {
        if (n < 0 || c < 1 || h < 1 || w < 1) {
            throw new IllegalArgumentException("Batch shape must have n >= 0 and c, h, w >= 1, got n=" + n
                    + " c=" + c + " h=" + h + " w=" + w);
        }
        if (x.length != (long) n * c * h * w) {
            throw new IllegalArgumentException("Batch x has " + x.length + " floats, expected n*c*h*w = "
                    + n + "*" + c + "*" + h + "*" + w + " = " + (long) n * c * h * w);
        }
        if (y.length != n) {
            throw new IllegalArgumentException("Batch y has " + y.length + " labels, expected n = " + n);
        }
    }

    /** Floats per image, c*h*w. */
    public int imageSize() {
        return c * h * w;
    }
}
