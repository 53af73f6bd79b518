package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SegAugmentTest {

    /** c x h x w with image value 10000*c + 100*y + x (distinct everywhere for h, w <= 100) and label (y * w + x) % 5. */
    static SegSample ramp(int c, int h, int w) {
        float[] img = new float[c * h * w];
        int[] lab = new int[h * w];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img[(ch * h + y) * w + x] = 10000 * ch + 100 * y + x;
        }
        for (int p = 0; p < h * w; p++) lab[p] = p % 5;
        return new SegSample(img, lab, c, h, w);
    }

    static Set<Integer> values(int[] a) {
        Set<Integer> s = new HashSet<>();
        for (int v : a) s.add(v);
        return s;
    }

    @Test
    void scaleOneWithCropOfTheImageSizeIsTheIdentity() {
        SegSample s = ramp(3, 9, 9);
        for (int seed = 0; seed < 5; seed++) {
            SegSample t = SegAugment.train(s, 9, 1.0, 1.0, false, new SplittableRandom(seed));
            assertArrayEquals(s.image(), t.image());
            assertArrayEquals(s.label(), t.label());
        }
        SegSample r = SegAugment.resize(s, 9, 9);
        assertArrayEquals(s.image(), r.image());
        assertArrayEquals(s.label(), r.label());
    }

    @Test
    void flipIsTheMirror() {
        SegSample s = new SegSample(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, new int[] {0, 1, 2, 3, 4, 255}, 2, 2, 3);
        SegSample f = SegAugment.hflip(s);
        assertArrayEquals(new float[] {3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10}, f.image());
        assertArrayEquals(new int[] {2, 1, 0, 255, 4, 3}, f.label());
        // train with scale 1 and crop = size gives the image or its mirror, about half of the time each
        SegSample sq = ramp(3, 6, 6);
        SegSample mirror = SegAugment.hflip(sq);
        int flipped = 0;
        for (int seed = 0; seed < 200; seed++) {
            SegSample t = SegAugment.train(sq, 6, 1.0, 1.0, true, new SplittableRandom(seed));
            boolean isMirror = Arrays.equals(t.image(), mirror.image()) && Arrays.equals(t.label(), mirror.label());
            assertTrue(isMirror || (Arrays.equals(t.image(), sq.image()) && Arrays.equals(t.label(), sq.label())));
            if (isMirror) flipped++;
        }
        assertTrue(flipped > 70 && flipped < 130, "flipped " + flipped + " of 200");
    }

    @Test
    void bilinearAndNearestMatchPyTorch() {
        // F.interpolate(arange(4.).view(1,1,1,4), size=(1,8), mode='bilinear', align_corners=False) and 'nearest-exact'
        SegSample s = new SegSample(new float[] {0, 1, 2, 3}, new int[] {0, 1, 2, 3}, 1, 1, 4);
        SegSample up = SegAugment.resize(s, 1, 8);
        assertArrayEquals(new float[] {0f, 0.25f, 0.75f, 1.25f, 1.75f, 2.25f, 2.75f, 3f}, up.image(), 1e-6f);
        assertArrayEquals(new int[] {0, 0, 1, 1, 2, 2, 3, 3}, up.label());
        SegSample eight = new SegSample(new float[] {0, 1, 2, 3, 4, 5, 6, 7}, new int[] {0, 1, 2, 3, 4, 5, 6, 7}, 1, 1, 8);
        SegSample down = SegAugment.resize(eight, 1, 3);
        assertArrayEquals(new float[] {0.8333333f, 3.5f, 6.1666667f}, down.image(), 1e-6f);
        assertArrayEquals(new int[] {1, 4, 6}, down.label());
        SegSample five = new SegSample(new float[] {0, 1, 2, 3, 4}, new int[] {0, 1, 2, 3, 4}, 1, 1, 5);
        SegSample seven = SegAugment.resize(five, 1, 7);
        assertArrayEquals(new float[] {0f, 0.5714286f, 1.2857144f, 2f, 2.7142859f, 3.4285715f, 4f}, seven.image(), 1e-6f);
        assertArrayEquals(new int[] {0, 1, 1, 2, 3, 3, 4}, seven.label());
        // rows behave as columns
        SegSample col = SegAugment.resize(new SegSample(new float[] {0, 1, 2, 3}, new int[] {0, 1, 2, 3}, 1, 4, 1), 8, 1);
        assertArrayEquals(up.image(), col.image(), 1e-6f);
        assertArrayEquals(up.label(), col.label());
    }

    @Test
    void shapesNearestLabelsAndIgnorePadding() {
        SegSample s = ramp(3, 10, 14);
        Set<Integer> allowed = values(s.label());
        allowed.add(SegDataset.IGNORE);
        SplittableRandom rng = new SplittableRandom(7);
        for (int i = 0; i < 50; i++) {
            SegSample t = SegAugment.train(s, 12, 0.5, 2.0, true, rng);
            assertEquals(3, t.c());
            assertEquals(12, t.h());
            assertEquals(12, t.w());
            assertTrue(allowed.containsAll(values(t.label())), "nearest: no new label values");
            for (int p = 0; p < 144; p++) {
                if (t.label()[p] == SegDataset.IGNORE) {
                    for (int c = 0; c < 3; c++) assertEquals(0f, t.image()[c * 144 + p], "padding is 0 where ignored");
                }
            }
        }
        // a 4x4 image padded to a 10x10 crop: the image at the top left, the rest ignored and 0
        SegSample small = ramp(2, 4, 4);
        SegSample t = SegAugment.train(small, 10, 1.0, 1.0, false, new SplittableRandom(1));
        for (int y = 0; y < 10; y++) {
            for (int x = 0; x < 10; x++) {
                boolean in = y < 4 && x < 4;
                assertEquals(in ? small.label()[y * 4 + x] : SegDataset.IGNORE, t.label()[y * 10 + x]);
                for (int c = 0; c < 2; c++) {
                    assertEquals(in ? small.image()[(c * 4 + y) * 4 + x] : 0f, t.image()[(c * 10 + y) * 10 + x]);
                }
            }
        }
        assertEquals(84, Arrays.stream(t.label()).filter(v -> v == SegDataset.IGNORE).count());
    }

    @Test
    void scaledSizesAndCropWindows() {
        SegSample s = ramp(1, 10, 20);
        SegSample half = SegAugment.scale(s, 0.5);
        assertEquals(5, half.h());
        assertEquals(10, half.w());
        SegSample twice = SegAugment.scale(s, 2);
        assertEquals(20, twice.h());
        assertEquals(40, twice.w());
        assertEquals(1, SegAugment.scale(s, 0.01).h());
        // every crop of a scale-1 train is a window of the original
        for (int seed = 0; seed < 20; seed++) {
            SegSample t = SegAugment.train(s, 8, 1.0, 1.0, false, new SplittableRandom(seed));
            float v = t.image()[0];
            int top = (int) v / 100, left = (int) v % 100;
            assertArrayEquals(SegAugment.crop(s, top, left, 8, 8).image(), t.image());
        }
        SegSample e = SegAugment.eval(s, 16);
        assertEquals(16, e.h());
        assertEquals(16, e.w());
        assertArrayEquals(SegAugment.crop(s, 0, 0, 10, 16).label(), Arrays.copyOf(e.label(), 160));
        assertTrue(Arrays.stream(e.label(), 160, 256).allMatch(v -> v == SegDataset.IGNORE));
    }

    @Test
    void deterministicForTheRngState() {
        SegSample s = ramp(3, 11, 13);
        SegSample a = SegAugment.train(s, 9, 0.5, 2.0, true, new SplittableRandom(42));
        SegSample b = SegAugment.train(s, 9, 0.5, 2.0, true, new SplittableRandom(42));
        assertArrayEquals(a.image(), b.image());
        assertArrayEquals(a.label(), b.label());
        boolean differs = false;
        for (int seed = 43; seed < 48 && !differs; seed++) {
            differs = !Arrays.equals(a.image(), SegAugment.train(s, 9, 0.5, 2.0, true, new SplittableRandom(seed)).image());
        }
        assertTrue(differs);
        // the argument is not changed
        assertArrayEquals(ramp(3, 11, 13).image(), s.image());
    }

    @Test
    void normalizeAndBadArguments() {
        SegSample s = new SegSample(new float[] {0.5f, 1f, 0f, 0.25f}, new int[] {1, 255}, 2, 1, 2);
        SegSample n = SegAugment.normalize(s, new float[] {0.5f, 0f}, new float[] {0.5f, 0.25f});
        assertArrayEquals(new float[] {0f, 1f, 0f, 1f}, n.image());
        assertArrayEquals(s.label(), n.label());
        SegSample rgb = ramp(3, 2, 2);
        SegSample im = SegAugment.normalize(rgb, ChannelStats.IMAGENET);
        assertEquals((rgb.image()[4] - 0.456f) / 0.224f, im.image()[4], 1e-6f);
        assertThrows(IllegalArgumentException.class, () -> SegAugment.normalize(s, ChannelStats.IMAGENET));
        assertThrows(IllegalArgumentException.class, () -> SegAugment.normalize(s, new float[] {0, 0}, new float[] {1, 0}));
        var rng = new SplittableRandom(0);
        assertThrows(IllegalArgumentException.class, () -> SegAugment.train(s, 0, 1, 1, false, rng));
        assertThrows(IllegalArgumentException.class, () -> SegAugment.train(s, 4, 2, 1, false, rng));
        assertThrows(IllegalArgumentException.class, () -> SegAugment.train(s, 4, 0, 1, false, rng));
        var e = assertThrows(IllegalArgumentException.class, () -> SegAugment.crop(s, 0, 1, 1, 2));
        assertTrue(e.getMessage().contains("pad it first"), e.getMessage());
        assertFalse(Arrays.equals(s.image(), n.image()));
    }
}
