package pxprune.datasets;

import java.util.SplittableRandom;

/**
 * The ImageNet crops: where to cut a box out of a decoded image, and the resampling of that box to
 * the network's input size with normalisation.
 * <ul>
 * <li>training, {@link #random}: torchvision's {@code RandomResizedCrop(size, scale=(0.08, 1),
 *     ratio=(3/4, 4/3))} box (up to 10 draws of an area fraction and a log-uniform aspect ratio, the
 *     first box that fits the image wins, else a centre crop clamped to the ratio range), followed by a
 *     horizontal flip with probability 1/2;</li>
 * <li>evaluation, {@link #center}: torchvision's {@code Resize(resize)} (shorter side to
 *     {@code resize}, longer side truncated) then {@code CenterCrop(size)}, as a box in the original
 *     image.</li>
 * </ul>
 * {@link #resample} maps a box to {@code size x size} with a triangle (bilinear) filter widened by the
 * downscaling factor, as PIL's {@code resize(..., BILINEAR, box)} does (antialiased), but in floating
 * point without rounding to 8 bits between the two passes.
 */
public final class ResizedCrop {

    /** torchvision's RandomResizedCrop defaults */
    public static final double SCALE_MIN = 0.08, SCALE_MAX = 1.0, RATIO_MIN = 3.0 / 4.0, RATIO_MAX = 4.0 / 3.0;
    /** draws before the fallback centre crop */
    public static final int ATTEMPTS = 10;

    private ResizedCrop() {
    }

    /**
     * A box in an image's pixel coordinates: left x, top y, width, height. {@code cut}: the box is cut out
     * before resizing (the filter reads no pixel outside it; torchvision's crop-then-resize), else the whole
     * image is resized and the box is a crop of the result (resize-then-crop).
     */
    public record Box(double x, double y, double w, double h, boolean cut) {
    }

    /** The random draws of one training crop, in the order they are made. */
    public interface Draws {
        /** uniform in [0, 1) */
        double uniform();

        /** uniform integer in [0, bound) */
        int below(int bound);
    }

    /** Draws from a SplittableRandom: uniform() = nextDouble(), below(n) = nextInt(n). */
    public static Draws draws(SplittableRandom rng) {
        return new Draws() {
            @Override public double uniform() { return rng.nextDouble(); }
            @Override public int below(int bound) { return rng.nextInt(bound); }
        };
    }

    /**
     * torchvision's {@code RandomResizedCrop.get_params} for a width x height image with the default scale and
     * ratio ranges. Per attempt: {@code area = width*height*(SCALE_MIN + (SCALE_MAX-SCALE_MIN)*uniform())},
     * {@code ratio = exp(log(RATIO_MIN) + (log(RATIO_MAX)-log(RATIO_MIN))*uniform())}, {@code w = round(sqrt(area*ratio))},
     * {@code h = round(sqrt(area/ratio))} (round half to even, like Python); if {@code 0 < w <= width} and
     * {@code 0 < h <= height}: {@code top = below(height-h+1)}, {@code left = below(width-w+1)}. After
     * {@value #ATTEMPTS} misses: the whole image clamped to the ratio range, centred.
     */
    public static Box random(int width, int height, Draws d) {
        double area = (double) width * height;
        double logMin = Math.log(RATIO_MIN), logMax = Math.log(RATIO_MAX);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double target = area * (SCALE_MIN + (SCALE_MAX - SCALE_MIN) * d.uniform());
            double ratio = Math.exp(logMin + (logMax - logMin) * d.uniform());
            int w = (int) Math.rint(Math.sqrt(target * ratio));
            int h = (int) Math.rint(Math.sqrt(target / ratio));
            if (w > 0 && w <= width && h > 0 && h <= height) {
                int top = d.below(height - h + 1);
                int left = d.below(width - w + 1);
                return new Box(left, top, w, h, true);
            }
        }
        double inRatio = (double) width / height;
        int w, h;
        if (inRatio < RATIO_MIN) {
            w = width;
            h = (int) Math.rint(w / RATIO_MIN);
        } else if (inRatio > RATIO_MAX) {
            h = height;
            w = (int) Math.rint(h * RATIO_MAX);
        } else {
            w = width;
            h = height;
        }
        return new Box((width - w) / 2, (height - h) / 2, w, h, true);
    }

    /**
     * The box of {@code Resize(resize)} then {@code CenterCrop(size)} in the original width x height image:
     * the shorter side scales to resize, the longer to {@code floor(resize*long/short)}; the crop starts at
     * {@code round((resized - size)/2)} (half to even) in resized pixels.
     */
    public static Box center(int width, int height, int resize, int size) {
        if (size < 1 || resize < size) throw new IllegalArgumentException("Need 1 <= size <= resize, got size=" + size + " resize=" + resize);
        int rw = width <= height ? resize : (int) ((long) resize * width / height);
        int rh = width <= height ? (int) ((long) resize * height / width) : resize;
        double sx = (double) width / rw, sy = (double) height / rh;
        double left = Math.rint((rw - size) / 2.0), top = Math.rint((rh - size) / 2.0);
        return new Box(left * sx, top * sy, size * sx, size * sy, false);
    }

    /** The resize of the evaluation crop for a crop side: {@code round(size*256/224)} (256 for 224). */
    public static int evalResize(int size) {
        return (int) Math.round(size * 256.0 / 224.0);
    }

    /** Per output pixel along one axis: the first input pixel and the normalised filter weights. */
    private record Taps(int[] start, int[] count, float[] weights, int stride) {
    }

    /**
     * PIL's precompute_coeffs for the bilinear (triangle) filter, box [in0, in1) of an axis whose pixels
     * [first, end) may be read
     */
    private static Taps taps(int first, int end, double in0, double in1, int out) {
        double scale = (in1 - in0) / out;
        double filterScale = Math.max(scale, 1.0);
        double support = filterScale; // the triangle's support is 1, widened when downscaling
        int stride = (int) Math.ceil(support) * 2 + 1;
        int[] start = new int[out], count = new int[out];
        float[] weights = new float[out * stride];
        double[] w = new double[stride];
        for (int i = 0; i < out; i++) {
            double centre = in0 + (i + 0.5) * scale;
            int lo = Math.max((int) Math.floor(centre - support + 0.5), first);
            int hi = Math.min((int) Math.floor(centre + support + 0.5), end);
            int n = Math.max(0, Math.min(hi - lo, stride));
            double total = 0;
            for (int k = 0; k < n; k++) {
                double t = Math.abs((k + lo - centre + 0.5) / filterScale);
                w[k] = t < 1 ? 1 - t : 0;
                total += w[k];
            }
            if (total == 0) { // a box of less than a pixel at the edge: the nearest pixel
                lo = Math.min(Math.max((int) Math.floor(centre), first), end - 1);
                n = 1;
                w[0] = total = 1;
            }
            start[i] = lo;
            count[i] = n;
            for (int k = 0; k < n; k++) weights[i * stride + k] = (float) (w[k] / total);
        }
        return new Taps(start, count, weights, stride);
    }

    /**
     * Resamples {@code box} of an interleaved-RGB image to {@code size x size}, mirrored left-right when
     * {@code flip}, and writes {@code (v/255 - mean[c]) / std[c]} as 3 x size x size floats (CHW) at
     * {@code dst[off..]}. mean 0 and std 1 give pixels in [0, 1].
     */
    public static void resample(byte[] rgb, int width, int height, Box box, int size, boolean flip, float[] mean, float[] std,
                                float[] dst, int off) {
        if (rgb.length != 3L * width * height) throw new IllegalArgumentException("rgb has " + rgb.length + " bytes, expected 3*"
                + width + "*" + height);
        Taps tx = box.cut() ? taps((int) box.x(), (int) (box.x() + box.w()), box.x(), box.x() + box.w(), size)
                : taps(0, width, box.x(), box.x() + box.w(), size);
        Taps ty = box.cut() ? taps((int) box.y(), (int) (box.y() + box.h()), box.y(), box.y() + box.h(), size)
                : taps(0, height, box.y(), box.y() + box.h(), size);
        int row0 = ty.start()[0], row1 = row0;
        for (int i = 0; i < size; i++) row1 = Math.max(row1, ty.start()[i] + ty.count()[i]);
        // horizontal pass over the rows the vertical pass reads: tmp[(row - row0)][x][c]
        float[] tmp = new float[(row1 - row0) * size * 3];
        for (int r = row0; r < row1; r++) {
            int base = r * width * 3, to = (r - row0) * size * 3;
            for (int x = 0; x < size; x++) {
                float a = 0, b = 0, c = 0;
                int s = tx.start()[x], wo = x * tx.stride();
                for (int k = 0; k < tx.count()[x]; k++) {
                    float wk = tx.weights()[wo + k];
                    int p = base + 3 * (s + k);
                    a += wk * (rgb[p] & 0xFF);
                    b += wk * (rgb[p + 1] & 0xFF);
                    c += wk * (rgb[p + 2] & 0xFF);
                }
                tmp[to + 3 * x] = a;
                tmp[to + 3 * x + 1] = b;
                tmp[to + 3 * x + 2] = c;
            }
        }
        int plane = size * size;
        float[] scale = new float[3], shift = new float[3];
        for (int ch = 0; ch < 3; ch++) {
            scale[ch] = (float) (1.0 / (255.0 * std[ch]));
            shift[ch] = (float) (mean[ch] / std[ch]);
        }
        for (int y = 0; y < size; y++) {
            int s = ty.start()[y], wo = y * ty.stride(), n = ty.count()[y];
            for (int x = 0; x < size; x++) {
                float a = 0, b = 0, c = 0;
                for (int k = 0; k < n; k++) {
                    float wk = ty.weights()[wo + k];
                    int p = ((s + k - row0) * size + x) * 3;
                    a += wk * tmp[p];
                    b += wk * tmp[p + 1];
                    c += wk * tmp[p + 2];
                }
                int o = off + y * size + (flip ? size - 1 - x : x);
                dst[o] = a * scale[0] - shift[0];
                dst[o + plane] = b * scale[1] - shift[1];
                dst[o + 2 * plane] = c * scale[2] - shift[2];
            }
        }
    }
}
