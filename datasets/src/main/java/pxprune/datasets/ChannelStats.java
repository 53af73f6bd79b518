package pxprune.datasets;

/**
 * Per-channel mean and standard deviation of the standard image sets (pixels in [0, 1]), the values
 * used by Synaptic-Flow's data loaders (ImageNet's are also the usual ones for Pascal VOC; MNIST's are
 * its loader's too), and those of the embedded {@code seg_demo} training set ({@link SegDemo},
 * computed over its 256 images). Fashion-MNIST's are computed over its 60,000 training images
 * (0.28604 and 0.35302); Kuzushiji-MNIST's are the values in common use for it. Accessors return
 * copies, so the constants cannot be changed.
 */
public enum ChannelStats {
    CIFAR10(new float[] {0.491f, 0.482f, 0.447f}, new float[] {0.247f, 0.243f, 0.262f}),
    CIFAR100(new float[] {0.507f, 0.487f, 0.441f}, new float[] {0.267f, 0.256f, 0.276f}),
    TINY_IMAGENET(new float[] {0.480f, 0.448f, 0.397f}, new float[] {0.276f, 0.269f, 0.282f}),
    IMAGENET(new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f}),
    SEG_DEMO(new float[] {0.485f, 0.494f, 0.498f}, new float[] {0.242f, 0.242f, 0.239f}),
    MNIST(new float[] {0.1307f}, new float[] {0.3081f}),
    FASHION_MNIST(new float[] {0.2860f}, new float[] {0.3530f}),
    KMNIST(new float[] {0.1918f}, new float[] {0.3483f});

    private final float[] mean;
    private final float[] std;

    ChannelStats(float[] mean, float[] std) {
        this.mean = mean;
        this.std = std;
    }

    /** A copy of the per-channel means. */
    public float[] mean() {
        return mean.clone();
    }

    /** A copy of the per-channel standard deviations. */
    public float[] std() {
        return std.clone();
    }
}
