package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TinyImageNetTest {

    static final int RED = 0xFF0000;
    static final int GREEN = 0x00FF00;
    static final int BLUE = 0x0000FF;

    @TempDir
    Path root;
    Path dir;

    /** Classes (wnids order) n02 = red images, n01 = blue images; val: blue, red, red. */
    @BeforeEach
    void writeTree() throws IOException {
        dir = root.resolve("tiny-imagenet-200");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("wnids.txt"), "n02\nn01\n");
        Path train = dir.resolve("train");
        TestImages.solid(train.resolve("n02/images/n02_1.JPEG"), 64, 64, RED, "jpeg");
        TestImages.solid(train.resolve("n02/images/n02_0.JPEG"), 64, 64, RED, "jpeg");
        TestImages.solid(train.resolve("n01/images/n01_0.JPEG"), 64, 64, BLUE, "jpeg");
        Files.writeString(train.resolve("n02/n02_boxes.txt"), "n02_0.JPEG\t0\t0\t63\t63\n");
        Path val = dir.resolve("val");
        TestImages.solid(val.resolve("images/val_0.JPEG"), 64, 64, BLUE, "jpeg");
        TestImages.solid(val.resolve("images/val_1.JPEG"), 64, 64, RED, "jpeg");
        TestImages.solid(val.resolve("images/val_2.JPEG"), 64, 64, RED, "jpeg");
        Files.writeString(val.resolve("val_annotations.txt"),
                "val_0.JPEG\tn01\t0\t32\t44\t62\nval_1.JPEG\tn02\t52\t55\t57\t59\nval_2.JPEG\tn02\t4\t0\t60\t55\n");
    }

    static void assertColor(Dataset d, int i, int rgb) {
        float[] img = d.image(i);
        int plane = 64 * 64;
        for (int c = 0; c < 3; c++) {
            float want = ((rgb >> (16 - 8 * c)) & 0xFF) / 255f;
            for (int p = 0; p < plane; p += 97) {
                assertEquals(want, img[c * plane + p], 0.03, "example " + i + " channel " + c);
            }
        }
    }

    @Test
    void trainFollowsWnidsOrderThenFileName() {
        Dataset d = TinyImageNet.load(root, true);
        assertEquals(List.of("n02", "n01"), TinyImageNet.classes(root));
        assertEquals(3, d.size());
        assertEquals(2, d.numClasses());
        assertEquals(3, d.channels());
        assertEquals(64, d.height());
        assertEquals(64, d.width());
        assertArrayEquals(new int[] {0, 0, 1}, d.labels());
        assertColor(d, 0, RED);
        assertColor(d, 1, RED);
        assertColor(d, 2, BLUE);
    }

    @Test
    void valIsLabelledByAnnotations() {
        Dataset d = TinyImageNet.load(root, false);
        assertArrayEquals(new int[] {1, 0, 0}, d.labels());
        assertColor(d, 0, BLUE);
        assertColor(d, 1, RED);
        assertColor(d, 2, RED);
    }

    @Test
    void missingRootExplainsLayoutAndDownload() {
        var e = assertThrows(DatasetException.class, () -> TinyImageNet.load(root.resolve("nowhere"), true));
        String m = e.getMessage();
        assertTrue(m.contains("Missing folder") && m.contains("tiny-imagenet-200"), m);
        assertTrue(m.contains("wnids.txt") && m.contains("val_annotations.txt") && m.contains("tiny-imagenet-200.zip"), m);
    }

    @Test
    void missingPiecesAreNamed() throws IOException {
        Files.delete(dir.resolve("val/val_annotations.txt"));
        var e = assertThrows(DatasetException.class, () -> TinyImageNet.load(root, false));
        assertTrue(e.getMessage().contains("Missing file") && e.getMessage().contains("val_annotations.txt"), e.getMessage());

        Files.writeString(dir.resolve("wnids.txt"), "n02\nn01\nn03\n");
        e = assertThrows(DatasetException.class, () -> TinyImageNet.load(root, true));
        assertTrue(e.getMessage().contains("Missing folder") && e.getMessage().contains("n03"), e.getMessage());

        Files.delete(dir.resolve("wnids.txt"));
        e = assertThrows(DatasetException.class, () -> TinyImageNet.load(root, true));
        assertTrue(e.getMessage().contains("Missing file") && e.getMessage().contains("wnids.txt"), e.getMessage());
    }

    @Test
    void badAnnotationsAndMissingValImage() throws IOException {
        Path ann = dir.resolve("val/val_annotations.txt");
        Files.writeString(ann, "val_0.JPEG\tn01\t0\t0\t1\t1\nval_1.JPEG\tn99\t0\t0\t1\t1\n");
        var e = assertThrows(DatasetException.class, () -> TinyImageNet.load(root, false));
        assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains("n99"), e.getMessage());

        Files.writeString(ann, "val_7.JPEG\tn01\t0\t0\t1\t1\n");
        e = assertThrows(DatasetException.class, () -> TinyImageNet.load(root, false));
        assertTrue(e.getMessage().contains("Missing file") && e.getMessage().contains("val_7.JPEG"), e.getMessage());
    }

    @Test
    void unreadableImageIsNamed() throws IOException {
        Files.writeString(dir.resolve("train/n01/images/n01_1.JPEG"), "not a jpeg");
        var e = assertThrows(DatasetException.class, () -> TinyImageNet.load(root, true));
        assertTrue(e.getMessage().contains("Cannot decode image") && e.getMessage().contains("n01_1.JPEG"), e.getMessage());
    }
}
