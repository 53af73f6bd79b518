package pxprune.datasets;

/** Dataset-wide pixel transforms. */
public final class Transforms {

    private Transforms() {
    }

    /**
     * A new Dataset with every pixel of channel c replaced by {@code (x - mean[c]) / std[c]}.
     *
     * @throws IllegalArgumentException if mean/std do not have one entry per channel or a std is not > 0
     */
    public static Dataset normalize(Dataset data, float[] mean, float[] std) {
        int c = data.channels();
        if (mean.length != c || std.length != c) {
            throw new IllegalArgumentException("normalize " + data + ": need one mean and one std per channel ("
                    + c + "), got " + mean.length + " means and " + std.length + " stds");
        }
        for (int k = 0; k < c; k++) {
            if (!(std[k] > 0)) {
                throw new IllegalArgumentException("normalize " + data + ": std[" + k + "] = " + std[k] + ", must be > 0");
            }
        }
        float[] x = data.images();
        int plane = data.height() * data.width();
        for (int i = 0; i < x.length; i++) {
            int k = (i / plane) % c;
            x[i] = (x[i] - mean[k]) / std[k];
        }
        return data.withImages(x);
    }

    /** {@link #normalize(Dataset, float[], float[])} with a standard set's statistics. */
    public static Dataset normalize(Dataset data, ChannelStats stats) {
        return normalize(data, stats.mean(), stats.std());
    }
}
