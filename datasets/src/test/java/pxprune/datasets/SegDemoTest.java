package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SegDemoTest {

    @Test
    void sameSeedSameBytesAndRangesAgree() {
        SegDemo a = SegDemo.create(40, 5), b = SegDemo.create(40, 5), c = SegDemo.create(40, 6);
        SegDemo tail = SegDemo.create(5, 30, 10, "tail");
        for (int i = 0; i < 40; i++) {
            assertArrayEquals(a.get(i).image(), b.get(i).image());
            assertArrayEquals(a.get(i).label(), b.get(i).label());
        }
        for (int k = 0; k < 10; k++) {
            assertArrayEquals(a.get(30 + k).image(), tail.get(k).image());
            assertArrayEquals(a.get(30 + k).label(), SegDemo.generate(5, 30 + k).label());
        }
        assertFalse(Arrays.equals(a.get(0).image(), c.get(0).image()));
        assertFalse(Arrays.equals(a.get(0).image(), a.get(1).image()));
        assertEquals("tail", tail.name());
    }

    @Test
    void shapesAndValues() {
        SegDemo d = SegDemo.create(64, 0);
        assertEquals(4, d.numClasses());
        assertEquals(3, d.channels());
        for (int i = 0; i < d.size(); i++) {
            SegSample s = d.get(i);
            assertEquals(3, s.c());
            assertEquals(32, s.h());
            assertEquals(32, s.w());
            for (float v : s.image()) assertTrue(v >= 0 && v <= 1);
            for (int v : s.label()) assertTrue(v >= 0 && v < 4, "no ignore pixels, classes 0..3");
            assertArrayEquals(s.presentClasses(), d.presentClasses(i));
            assertTrue(d.presentClasses(i).length >= 2, "every image has background and a shape");
        }
    }

    @Test
    void everyClassInManyImagesAndColourDoesNotGiveTheClassAway() {
        SegDataset train = DatasetRegistry.loadSegmentation("seg_demo", null, true, 0);
        int[] images = new int[4];
        long[] pixels = new long[4];
        double[][] colour = new double[4][3];
        double[] s = new double[3], s2 = new double[3];
        for (int i = 0; i < train.size(); i++) {
            SegSample x = train.get(i);
            for (int c : train.presentClasses(i)) images[c]++;
            for (int p = 0; p < 1024; p++) {
                int k = x.label()[p];
                pixels[k]++;
                for (int c = 0; c < 3; c++) {
                    double v = x.image()[c * 1024 + p];
                    colour[k][c] += v;
                    s[c] += v;
                    s2[c] += v * v;
                }
            }
        }
        assertEquals(256, images[0]);
        for (int k = 1; k < 4; k++) {
            assertTrue(images[k] > 100 && images[k] < 180, "class " + k + " in " + images[k] + " of 256 images");
            assertTrue(pixels[k] > 10_000, "class " + k + " has " + pixels[k] + " pixels");
        }
        // mean colour of each shape class is close to the others' (colours are drawn independently of the class)
        for (int k = 2; k < 4; k++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(colour[1][c] / pixels[1], colour[k][c] / pixels[k], 0.1, "class " + k + " channel " + c);
            }
        }
        // and shapes of a class come in about the same area whatever their class
        assertEquals(1.0, (double) pixels[2] / pixels[1], 0.25);
        assertEquals(1.0, (double) pixels[3] / pixels[1], 0.25);
        // ChannelStats.SEG_DEMO is the training set's own
        long n = 256L * 1024;
        for (int c = 0; c < 3; c++) {
            double mean = s[c] / n;
            assertEquals(mean, ChannelStats.SEG_DEMO.mean()[c], 1e-3);
            assertEquals(Math.sqrt(s2[c] / n - mean * mean), ChannelStats.SEG_DEMO.std()[c], 1e-3);
        }
    }
}
