package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TransformsTest {

    /** 2 channels of 3x4, value = 10*c + y*4 + x (+ 100 for the second example). */
    static float[] image(int offset) {
        float[] x = new float[24];
        for (int p = 0; p < 24; p++) x[p] = offset + 10 * (p / 12) + p % 12;
        return x;
    }

    @Test
    void normalizePerChannel() {
        float[] x = new float[48];
        System.arraycopy(image(0), 0, x, 0, 24);
        System.arraycopy(image(100), 0, x, 24, 24);
        Dataset d = new Dataset(x, new int[] {0, 1}, 2, 3, 4, 2, "t");
        Dataset n = Transforms.normalize(d, new float[] {1, 2}, new float[] {2, 4});
        assertEquals((0 - 1) / 2f, n.image(0)[0]);
        assertEquals((10 + 11 - 2) / 4f, n.image(0)[23]);
        assertEquals((100 + 5 - 1) / 2f, n.image(1)[5]);
        assertEquals((100 + 10 - 2) / 4f, n.image(1)[12]);
        assertEquals(0f, d.image(0)[0]); // the input is unchanged
        assertArrayEquals(d.labels(), n.labels());
        var e = assertThrows(IllegalArgumentException.class, () -> Transforms.normalize(d, new float[3], new float[3]));
        assertTrue(e.getMessage().contains("per channel (2)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Transforms.normalize(d, new float[2], new float[] {1, 0}));
    }

    @Test
    void statsAreConstant() {
        float[] m = ChannelStats.CIFAR10.mean();
        assertEquals(3, m.length);
        m[0] = 99;
        assertEquals(0.491f, ChannelStats.CIFAR10.mean()[0]);
        assertEquals(0.267f, ChannelStats.CIFAR100.std()[0]);
    }

    @Test
    void padZeroOnlyFlips() {
        float[] x = image(0);
        SplittableRandom rng = new SplittableRandom(3);
        int flips = 0;
        for (int t = 0; t < 50; t++) {
            float[] y = Augment.cifar(x, 2, 3, 4, 0, rng);
            boolean flipped = y[0] != x[0];
            if (flipped) flips++;
            for (int c = 0; c < 2; c++) for (int r = 0; r < 3; r++) for (int col = 0; col < 4; col++) {
                int src = c * 12 + r * 4 + (flipped ? 3 - col : col);
                assertEquals(x[src], y[c * 12 + r * 4 + col]);
            }
        }
        assertTrue(flips > 10 && flips < 40, flips + " flips in 50");
        assertArrayEquals(image(0), x);
    }

    @Test
    void paddedCropMatchesItsDefinition() {
        int c = 1, h = 5, w = 6, pad = 2;
        float[] x = new float[c * h * w];
        for (int p = 0; p < x.length; p++) x[p] = p + 1;
        int zeros = 0;
        for (long seed = 0; seed < 30; seed++) {
            SplittableRandom draw = new SplittableRandom(seed);
            int dy = draw.nextInt(2 * pad + 1) - pad, dx = draw.nextInt(2 * pad + 1) - pad;
            boolean flip = draw.nextBoolean();
            float[] y = Augment.cifar(x, c, h, w, pad, new SplittableRandom(seed));
            for (int r = 0; r < h; r++) for (int col = 0; col < w; col++) {
                int sr = r + dy, sc = (flip ? w - 1 - col : col) + dx;
                float want = sr >= 0 && sr < h && sc >= 0 && sc < w ? x[sr * w + sc] : 0;
                assertEquals(want, y[r * w + col], "seed " + seed + " at " + r + "," + col);
                if (y[r * w + col] == 0) zeros++;
            }
        }
        assertTrue(zeros > 0, "some crops reach into the zero padding");
    }

    @Test
    void batchVersionAugmentsInPlaceLikeTheSingleImageOne() {
        float[] xs = new float[48];
        System.arraycopy(image(0), 0, xs, 0, 24);
        System.arraycopy(image(100), 0, xs, 24, 24);
        Batch b = new Batch(xs.clone(), new int[] {0, 1}, 2, 2, 3, 4);
        Augment.cifarInPlace(b, 1, new SplittableRandom(42));
        SplittableRandom rng = new SplittableRandom(42);
        float[] first = Augment.cifar(image(0), 2, 3, 4, 1, rng);
        float[] second = Augment.cifar(image(100), 2, 3, 4, 1, rng);
        float[] want = new float[48];
        System.arraycopy(first, 0, want, 0, 24);
        System.arraycopy(second, 0, want, 24, 24);
        assertArrayEquals(want, b.x());
        assertFalse(Arrays.equals(xs, b.x()));
        assertThrows(IllegalArgumentException.class, () -> Augment.cifar(new float[5], 2, 3, 4, 1, rng));
    }
}
