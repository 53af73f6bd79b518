package pxprune.datasets;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Augmentation and resizing for {@link SegSample}s, with the image and its label moved together: the
 * image is resampled bilinearly (pixel centres aligned, edges clamped, like PyTorch's
 * {@code interpolate(..., mode="bilinear", align_corners=False)} without antialiasing), the label by
 * nearest neighbour (PyTorch's {@code mode="nearest-exact"}), so no new label values appear. Padding puts
 * 0 in the image and {@link SegDataset#IGNORE} in the label, on the bottom and right.
 * <p>
 * {@link #train} is the DeepLab recipe for Pascal VOC (torchvision's segmentation reference: random scale
 * 0.5-2.0, pad, random crop 513, horizontal flip); it expects a normalized sample
 * ({@link #normalize}), so that the image padding 0 is the mean colour. Every method returns a new
 * sample and leaves its argument unchanged.
 */
public final class SegAugment {

    private SegAugment() {
    }

    /**
     * Random scale, pad, random crop and random flip. From {@code rng} it draws, in order: the scale
     * {@code minScale + (maxScale - minScale) * nextDouble()}, the crop's top row and left column (each
     * uniform over the valid offsets, rows first), then the flip ({@code nextBoolean()}, p = 0.5, only
     * if {@code hflip}). The scaled size is {@code max(1, round(h * scale))} by {@code max(1, round(w * scale))};
     * it is then padded to at least {@code crop x crop}. Deterministic for the rng's state.
     *
     * @throws IllegalArgumentException if crop < 1 or not 0 < minScale <= maxScale (finite)
     */
    public static SegSample train(SegSample s, int crop, double minScale, double maxScale, boolean hflip,
                                  SplittableRandom rng) {
        if (crop < 1) throw new IllegalArgumentException("crop must be >= 1, got " + crop);
        if (!(minScale > 0 && minScale <= maxScale && Double.isFinite(maxScale))) {
            throw new IllegalArgumentException("need 0 < minScale <= maxScale (finite), got minScale=" + minScale
                    + " maxScale=" + maxScale + "; the VOC recipe uses 0.5 and 2.0");
        }
        double scale = minScale + (maxScale - minScale) * rng.nextDouble();
        SegSample scaled = scale(s, scale);
        SegSample padded = pad(scaled, crop, crop);
        int top = rng.nextInt(padded.h() - crop + 1);
        int left = rng.nextInt(padded.w() - crop + 1);
        SegSample cropped = crop(padded, top, left, crop, crop);
        return hflip && rng.nextBoolean() ? hflip(cropped) : cropped;
    }

    /**
     * Evaluation: pads to at least {@code size x size} (bottom and right), then takes the top-left
     * {@code size x size} crop, so images up to that size are kept whole and padded pixels are ignored
     * in the score (DeepLab's VOC evaluation pads to 513 x 513).
     */
    public static SegSample eval(SegSample s, int size) {
        if (size < 1) throw new IllegalArgumentException("size must be >= 1, got " + size);
        return crop(pad(s, size, size), 0, 0, size, size);
    }

    /** Resizes by {@code factor} to {@code max(1, round(h*factor)) x max(1, round(w*factor))}; see {@link #resize}. */
    public static SegSample scale(SegSample s, double factor) {
        if (!(factor > 0) || !Double.isFinite(factor)) {
            throw new IllegalArgumentException("scale factor must be finite and > 0, got " + factor);
        }
        long nh = Math.max(1, Math.round(s.h() * factor));
        long nw = Math.max(1, Math.round(s.w() * factor));
        if (nh * nw * s.c() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("scaling a " + s.h() + "x" + s.w() + " sample by " + factor
                    + " gives " + nh + "x" + nw + " pixels, too many for one array");
        }
        return resize(s, (int) nh, (int) nw);
    }

    /**
     * Resizes to {@code h x w}: image bilinear (source coordinate {@code (y + 0.5) * H/h - 0.5}, clamped),
     * label nearest (source row {@code floor((y + 0.5) * H/h)}). The same size returns an exact copy.
     */
    public static SegSample resize(SegSample s, int h, int w) {
        if (h < 1 || w < 1) throw new IllegalArgumentException("resize target must be >= 1 x 1, got " + h + "x" + w);
        int sh = s.h(), sw = s.w(), c = s.c();
        float[] src = s.image();
        float[] img = new float[c * h * w];
        int[] lab = new int[h * w];
        double ry = (double) sh / h, rx = (double) sw / w;
        int[] x0 = new int[w], x1 = new int[w], nx = new int[w];
        double[] wx = new double[w];
        for (int x = 0; x < w; x++) {
            double fx = Math.max(0, Math.min((x + 0.5) * rx - 0.5, sw - 1));
            x0[x] = (int) fx;
            x1[x] = Math.min(x0[x] + 1, sw - 1);
            wx[x] = fx - x0[x];
            nx[x] = Math.min((int) ((x + 0.5) * rx), sw - 1);
        }
        for (int y = 0; y < h; y++) {
            double fy = Math.max(0, Math.min((y + 0.5) * ry - 0.5, sh - 1));
            int y0 = (int) fy;
            int y1 = Math.min(y0 + 1, sh - 1);
            double wy = fy - y0;
            int ny = Math.min((int) ((y + 0.5) * ry), sh - 1);
            for (int x = 0; x < w; x++) lab[y * w + x] = s.label()[ny * sw + nx[x]];
            for (int ch = 0; ch < c; ch++) {
                int plane = ch * sh * sw;
                int r0 = plane + y0 * sw, r1 = plane + y1 * sw;
                int dst = (ch * h + y) * w;
                for (int x = 0; x < w; x++) {
                    double top = (1 - wx[x]) * src[r0 + x0[x]] + wx[x] * src[r0 + x1[x]];
                    double bot = (1 - wx[x]) * src[r1 + x0[x]] + wx[x] * src[r1 + x1[x]];
                    img[dst + x] = (float) ((1 - wy) * top + wy * bot);
                }
            }
        }
        return new SegSample(img, lab, c, h, w);
    }

    /**
     * Pads on the bottom and right to at least {@code minH x minW}: image 0, label {@link SegDataset#IGNORE}.
     * A sample already that large is returned as a copy.
     */
    public static SegSample pad(SegSample s, int minH, int minW) {
        int h = Math.max(s.h(), minH), w = Math.max(s.w(), minW), c = s.c();
        float[] img = new float[c * h * w];
        int[] lab = new int[h * w];
        Arrays.fill(lab, SegDataset.IGNORE);
        for (int y = 0; y < s.h(); y++) {
            System.arraycopy(s.label(), y * s.w(), lab, y * w, s.w());
            for (int ch = 0; ch < c; ch++) {
                System.arraycopy(s.image(), (ch * s.h() + y) * s.w(), img, (ch * h + y) * w, s.w());
            }
        }
        return new SegSample(img, lab, c, h, w);
    }

    /**
     * The {@code h x w} window whose top-left pixel is ({@code top}, {@code left}).
     *
     * @throws IllegalArgumentException if the window does not lie inside the sample
     */
    public static SegSample crop(SegSample s, int top, int left, int h, int w) {
        if (h < 1 || w < 1 || top < 0 || left < 0 || top + h > s.h() || left + w > s.w()) {
            throw new IllegalArgumentException("crop " + h + "x" + w + " at (top=" + top + ", left=" + left
                    + ") does not fit a " + s.h() + "x" + s.w() + " sample; pad it first (SegAugment.pad)");
        }
        int c = s.c();
        float[] img = new float[c * h * w];
        int[] lab = new int[h * w];
        for (int y = 0; y < h; y++) {
            System.arraycopy(s.label(), (top + y) * s.w() + left, lab, y * w, w);
            for (int ch = 0; ch < c; ch++) {
                System.arraycopy(s.image(), (ch * s.h() + top + y) * s.w() + left, img, (ch * h + y) * w, w);
            }
        }
        return new SegSample(img, lab, c, h, w);
    }

    /** The mirror image (left and right swapped), image and label alike. */
    public static SegSample hflip(SegSample s) {
        int c = s.c(), h = s.h(), w = s.w();
        float[] img = new float[c * h * w];
        int[] lab = new int[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                lab[y * w + x] = s.label()[y * w + w - 1 - x];
                for (int ch = 0; ch < c; ch++) img[(ch * h + y) * w + x] = s.image()[(ch * h + y) * w + w - 1 - x];
            }
        }
        return new SegSample(img, lab, c, h, w);
    }

    /**
     * A copy with every pixel of channel k replaced by {@code (x - mean[k]) / std[k]}; the label is copied
     * unchanged.
     *
     * @throws IllegalArgumentException if there is not one mean and std per channel or a std is not > 0
     */
    public static SegSample normalize(SegSample s, float[] mean, float[] std) {
        int c = s.c();
        if (mean.length != c || std.length != c) {
            throw new IllegalArgumentException("normalize " + s + ": need one mean and one std per channel (" + c
                    + "), got " + mean.length + " means and " + std.length + " stds");
        }
        for (int k = 0; k < c; k++) {
            if (!(std[k] > 0)) throw new IllegalArgumentException("normalize " + s + ": std[" + k + "] = " + std[k] + ", must be > 0");
        }
        int plane = s.h() * s.w();
        float[] img = new float[s.image().length];
        for (int k = 0; k < c; k++) {
            for (int p = k * plane; p < (k + 1) * plane; p++) img[p] = (s.image()[p] - mean[k]) / std[k];
        }
        return new SegSample(img, s.label().clone(), c, s.h(), s.w());
    }

    /** {@link #normalize(SegSample, float[], float[])} with a standard set's statistics (e.g. ImageNet's for VOC). */
    public static SegSample normalize(SegSample s, ChannelStats stats) {
        return normalize(s, stats.mean(), stats.std());
    }
}
