package pxprune.datasets;

import java.util.SplittableRandom;

/**
 * A learnable synthetic image set: every class has a prototype image, a Gaussian bump at a
 * class-specific random position with a random per-channel sign and amplitude; every example is its
 * class prototype plus i.i.d. Gaussian pixel noise. Classes are balanced (sizes differ by at most one)
 * and examples shuffled. Everything is a function of the arguments only.
 */
public final class Synthetic {

    /** Standard deviation of the per-pixel noise. */
    public static final double NOISE_STD = 0.5;

    private Synthetic() {
    }

    /** Creates {@code n} examples of {@code channels x h x w} in {@code numClasses} classes, deterministically for a seed. */
    public static Dataset create(int n, int channels, int h, int w, int numClasses, long seed) {
        if (numClasses < 1) throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
        int d = channels * h * w;
        float[] images = new float[Dataset.checkedLength(n, channels, h, w)];
        SplittableRandom rng = Seeds.rng(seed);
        float[][] prototypes = new float[numClasses][d];
        double sigma = Math.max(1.0, Math.min(h, w) / 4.0);
        for (float[] proto : prototypes) {
            double cy = rng.nextDouble() * (h - 1);
            double cx = rng.nextDouble() * (w - 1);
            for (int c = 0; c < channels; c++) {
                double amp = (rng.nextBoolean() ? 1 : -1) * (0.5 + rng.nextDouble());
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        double r2 = (y - cy) * (y - cy) + (x - cx) * (x - cx);
                        proto[(c * h + y) * w + x] = (float) (amp * Math.exp(-r2 / (2 * sigma * sigma)));
                    }
                }
            }
        }
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = i % numClasses;
        Seeds.shuffle(labels, rng);
        for (int i = 0; i < n; i++) {
            float[] proto = prototypes[labels[i]];
            for (int p = 0; p < d; p++) {
                images[i * d + p] = (float) (proto[p] + NOISE_STD * rng.nextGaussian());
            }
        }
        return Dataset.wrap(images, labels, channels, h, w, numClasses, "synthetic");
    }
}
