package pxprune.datasets;

import java.util.SplittableRandom;

/**
 * The standard CIFAR training augmentation: a random {@code h x w} crop of the image zero-padded by
 * {@code pad} pixels on every side, then a horizontal flip with probability 0.5. Per image the
 * generator draws, in order: the row offset, the column offset (each uniform in [0, 2*pad]), the flip.
 */
public final class Augment {

    private Augment() {
    }

    /** Returns an augmented copy of one CHW image; {@code chwImage} is not changed. */
    public static float[] cifar(float[] chwImage, int c, int h, int w, int pad, SplittableRandom rng) {
        if (chwImage.length != (long) c * h * w) {
            throw new IllegalArgumentException("Image has " + chwImage.length + " floats, expected c*h*w = "
                    + c + "*" + h + "*" + w + " = " + (long) c * h * w);
        }
        float[] out = new float[chwImage.length];
        cropFlip(chwImage, 0, out, 0, c, h, w, pad, rng);
        return out;
    }

    /** Augments every image of {@code batch} in place (in batch order); labels are unchanged. */
    public static void cifarInPlace(Batch batch, int pad, SplittableRandom rng) {
        int d = batch.imageSize();
        float[] src = new float[d];
        for (int i = 0; i < batch.n(); i++) {
            System.arraycopy(batch.x(), i * d, src, 0, d);
            cropFlip(src, 0, batch.x(), i * d, batch.c(), batch.h(), batch.w(), pad, rng);
        }
    }

    private static void cropFlip(float[] src, int srcOff, float[] dst, int dstOff, int c, int h, int w, int pad,
                                 SplittableRandom rng) {
        if (pad < 0) throw new IllegalArgumentException("pad must be >= 0, got " + pad);
        int dy = rng.nextInt(2 * pad + 1) - pad;
        int dx = rng.nextInt(2 * pad + 1) - pad;
        boolean flip = rng.nextBoolean();
        for (int ch = 0; ch < c; ch++) {
            int plane = ch * h * w;
            for (int y = 0; y < h; y++) {
                int sy = y + dy;
                for (int x = 0; x < w; x++) {
                    int sx = (flip ? w - 1 - x : x) + dx;
                    dst[dstOff + plane + y * w + x] = sy >= 0 && sy < h && sx >= 0 && sx < w ? src[srcOff + plane + sy * w + sx] : 0f;
                }
            }
        }
    }
}
