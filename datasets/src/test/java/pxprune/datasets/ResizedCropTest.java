package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The crop boxes against torchvision's algorithm, worked out by hand for fixed draws, and the resampling filter. */
class ResizedCropTest {

    /** hands out the given uniforms and integers in order, recording the bounds asked for */
    static final class Fixed implements ResizedCrop.Draws {
        final ArrayDeque<Double> u = new ArrayDeque<>();
        final ArrayDeque<Integer> k = new ArrayDeque<>();
        final List<Integer> bounds = new ArrayList<>();

        Fixed(double[] uniforms, int... ints) {
            for (double d : uniforms) u.add(d);
            for (int i : ints) k.add(i);
        }

        @Override public double uniform() { return u.remove(); }

        @Override public int below(int bound) {
            bounds.add(bound);
            return k.remove();
        }
    }

    static void assertBox(double x, double y, double w, double h, ResizedCrop.Box b) {
        assertEquals(x, b.x(), 1e-12, "x");
        assertEquals(y, b.y(), 1e-12, "y");
        assertEquals(w, b.w(), 1e-12, "w");
        assertEquals(h, b.h(), 1e-12, "h");
    }

    @Test
    void aBoxThatFitsOnTheFirstDraw() {
        // 500 x 375: area fraction 0.08 + 0.92*0.5 = 0.54 -> 101250 px; log-ratio midway -> ratio 1;
        // w = h = round(sqrt(101250)) = round(318.198) = 318; top in [0, 375-318], left in [0, 500-318]
        Fixed d = new Fixed(new double[] {0.5, 0.5}, 10, 100);
        ResizedCrop.Box b = ResizedCrop.random(500, 375, d);
        assertBox(100, 10, 318, 318, b);
        assertEquals(List.of(58, 183), d.bounds, "torch.randint(0, height - h + 1), then (0, width - w + 1)");
        assertEquals(true, b.cut());
    }

    @Test
    void aMissIsDrawnAgain() {
        // first draw: the whole area at ratio 3/4 -> w = round(sqrt(187500*0.75)) = 375, h = round(sqrt(187500/0.75)) = 500 > 375: miss;
        // second: fraction 0.08 + 0.92*0 = 0.08 -> 15000 px at ratio 4/3 -> w = round(141.42) = 141, h = round(106.07) = 106
        Fixed d = new Fixed(new double[] {1.0, 0.0, 0.0, 1.0}, 0, 359);
        assertBox(359, 0, 141, 106, ResizedCrop.random(500, 375, d));
        assertEquals(List.of(270, 360), d.bounds);
    }

    @Test
    void tenMissesFallBackToTheCentreClampedToTheRatioRange() {
        double[] misses = new double[20];
        java.util.Arrays.fill(misses, 1.0); // the whole area at ratio 4/3: w = round(sqrt(area*4/3)) is wider than a tall image
        // 100 x 400 (ratio 1/4 < 3/4): w = 100, h = round(100 / (3/4)) = round(133.33) = 133, top = (400 - 133) // 2 = 133
        Fixed tall = new Fixed(misses);
        assertBox(0, 133, 100, 133, ResizedCrop.random(100, 400, tall));
        assertEquals(0, tall.u.size(), "all 10 attempts drew");
        assertEquals(List.of(), tall.bounds);
        // 400 x 100 at ratio 3/4 misses in height: h = 100, w = round(100 * 4/3) = 133, left = (400 - 133) // 2 = 133
        double[] wide = new double[20];
        for (int i = 0; i < 20; i += 2) wide[i] = 1.0;
        assertBox(133, 0, 133, 100, ResizedCrop.random(400, 100, new Fixed(wide)));
        // 100 x 100 (ratio 1, in range): the whole image
        assertBox(0, 0, 100, 100, ResizedCrop.random(100, 100, new Fixed(misses)));
    }

    @Test
    void theEvaluationBoxIsResizeThenCentreCrop() {
        // 500 x 375 -> Resize(256): 341 x 256 (int(256*500/375)); CenterCrop(224): left = round(58.5) = 58 (half to even), top = 16
        ResizedCrop.Box b = ResizedCrop.center(500, 375, 256, 224);
        assertBox(58 * 500.0 / 341, 16 * 375.0 / 256, 224 * 500.0 / 341, 224 * 375.0 / 256, b);
        assertEquals(false, b.cut());
        // a tall image: 300 x 600 -> 256 x 512, left 16, top 144
        assertBox(16 * 300.0 / 256, 144 * 600.0 / 512, 224 * 300.0 / 256, 224 * 600.0 / 512, ResizedCrop.center(300, 600, 256, 224));
        assertEquals(256, ResizedCrop.evalResize(224));
        assertEquals(37, ResizedCrop.evalResize(32));
        assertThrows(IllegalArgumentException.class, () -> ResizedCrop.center(10, 10, 8, 9));
    }

    static final float[] ZERO = {0, 0, 0}, ONE = {1, 1, 1};

    /** an interleaved RGB image whose samples are f(x, y, c) */
    static byte[] image(int w, int h, java.util.function.IntBinaryOperator red) {
        byte[] rgb = new byte[3 * w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int v = red.applyAsInt(x, y);
                rgb[3 * (y * w + x)] = (byte) v;
                rgb[3 * (y * w + x) + 1] = (byte) (255 - v);
                rgb[3 * (y * w + x) + 2] = (byte) 7;
            }
        }
        return rgb;
    }

    @Test
    void theWholeImageAtItsOwnSizeIsCopiedAndFlipsMirror() {
        byte[] rgb = image(4, 4, (x, y) -> 16 * x + 50 * y);
        float[] out = new float[48], flipped = new float[48];
        ResizedCrop.Box whole = new ResizedCrop.Box(0, 0, 4, 4, true);
        ResizedCrop.resample(rgb, 4, 4, whole, 4, false, ZERO, ONE, out, 0);
        ResizedCrop.resample(rgb, 4, 4, whole, 4, true, ZERO, ONE, flipped, 0);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                float r = (16 * x + 50 * y) / 255f;
                assertEquals(r, out[y * 4 + x], 1e-6);
                assertEquals(1 - r, out[16 + y * 4 + x], 1e-6);
                assertEquals(7 / 255f, out[32 + y * 4 + x], 1e-6);
                assertEquals(r, flipped[y * 4 + 3 - x], 1e-6);
            }
        }
    }

    @Test
    void downscalingWidensTheTriangleFilterAsPilDoes() {
        // 4 -> 2: scale 2, support 2; output 0 (centre 1) reads x = 0, 1, 2 with triangle weights 0.75, 0.75, 0.25 (/1.75),
        // output 1 (centre 3) reads x = 1, 2, 3 with 0.25, 0.75, 0.75: red 0, 70, 140, 210 -> 50 and 160
        byte[] rgb = image(4, 4, (x, y) -> 70 * x);
        float[] out = new float[12];
        ResizedCrop.resample(rgb, 4, 4, new ResizedCrop.Box(0, 0, 4, 4, true), 2, false, ZERO, ONE, out, 0);
        assertArrayEquals(new float[] {50 / 255f, 160 / 255f, 50 / 255f, 160 / 255f}, java.util.Arrays.copyOf(out, 4), 1e-5f);
    }

    @Test
    void aCutBoxReadsNoPixelOutsideIt() {
        // columns 0-1 are 0, columns 2-3 are 200; the cut box [2, 4) x [0, 4) sees only 200, a resized-then-cropped one blends
        byte[] rgb = image(4, 4, (x, y) -> x < 2 ? 0 : 200);
        float[] cut = new float[12], blend = new float[12];
        ResizedCrop.resample(rgb, 4, 4, new ResizedCrop.Box(2, 0, 2, 4, true), 2, false, ZERO, ONE, cut, 0);
        assertEquals(200 / 255f, cut[0], 1e-6);
        ResizedCrop.resample(rgb, 4, 4, new ResizedCrop.Box(1.5, 0, 2, 4, false), 2, false, ZERO, ONE, blend, 0);
        assertEquals(100 / 255f, blend[0], 1e-6); // centre 2: x = 1 and 2, weights 1/2 each
    }

    @Test
    void pixelsAreNormalisedPerChannel() {
        byte[] rgb = image(2, 2, (x, y) -> 51);
        float[] out = new float[12];
        float[] mean = {0.485f, 0.456f, 0.406f}, std = {0.229f, 0.224f, 0.225f};
        ResizedCrop.resample(rgb, 2, 2, new ResizedCrop.Box(0, 0, 2, 2, true), 2, false, mean, std, out, 0);
        assertEquals((0.2f - 0.485f) / 0.229f, out[0], 1e-5);
        assertEquals((0.8f - 0.456f) / 0.224f, out[4], 1e-5);
        assertEquals((7 / 255f - 0.406f) / 0.225f, out[8], 1e-5);
    }
}
