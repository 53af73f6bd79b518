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

    private String refusal(boolean train) {
        return assertThrows(DatasetException.class, () -> TinyImageNet.load(root, train)).getMessage();
    }

    /** root/outside/secret.JPEG, outside tiny-imagenet-200/, created or deleted */
    private Path outside(boolean exists) throws IOException {
        Path secret = root.resolve("outside/secret.JPEG");
        if (exists) TestImages.solid(secret, 64, 64, RED, "jpeg");
        else Files.deleteIfExists(secret);
        return secret;
    }

    @Test
    void namesLeadingOutsideAreRefusedAlikeWhetherOrNotTheTargetExists() throws IOException {
        Path ann = dir.resolve("val/val_annotations.txt");
        for (String name : List.of("../../../outside/secret.JPEG", root.resolve("outside/secret.JPEG").toString())) {
            Files.writeString(ann, "val_0.JPEG\tn01\t0\t0\t1\t1\n" + name + "\tn02\t0\t0\t1\t1\n");
            outside(true);
            String present = refusal(false);
            outside(false);
            String absent = refusal(false);
            assertEquals(present, absent);
            assertTrue(present.contains("val_annotations.txt line 2 names '" + name + "', which leads outside the data folder"),
                    present);
        }
        Files.writeString(dir.resolve("wnids.txt"), "n02\n../../outside\n");
        Files.createDirectories(root.resolve("outside/images"));
        String present = refusal(true);
        Files.delete(root.resolve("outside/images"));
        Files.delete(root.resolve("outside"));
        assertEquals(present, refusal(true));
        assertTrue(present.contains("wnids.txt line 2 names '../../outside'"), present);
    }

    @Test
    void symbolicLinksLeadingOutsideAreRefusedAlike() throws IOException {
        Path secret = outside(true);
        // a validation image that links out, to a file that exists and (then) to none
        Path link = Files.createSymbolicLink(dir.resolve("val/images/val_1.JPEG.link"), secret);
        Files.writeString(dir.resolve("val/val_annotations.txt"), "val_1.JPEG.link\tn02\t0\t0\t1\t1\n");
        String present = refusal(false);
        outside(false);
        assertEquals(present, refusal(false));
        assertTrue(present.contains("names 'val_1.JPEG.link', which leads outside"), present);
        // a train image found in a class folder, and a class's images folder, that link out
        outside(true);
        Files.delete(link);
        Path trainLink = Files.createSymbolicLink(dir.resolve("train/n01/images/n01_9.JPEG"), secret);
        assertTrue(refusal(true).contains("folder " + dir.resolve("train/n01/images") + " names 'n01_9.JPEG', which leads outside"));
        Files.delete(trainLink);
        Path images = dir.resolve("train/n01/images");
        for (Path f : Images.list(dir, images, n -> true, p -> true)) Files.delete(f);
        Files.delete(images);
        Files.createSymbolicLink(images, root.resolve("outside"));
        assertTrue(refusal(true).contains("class n01 names 'images', which leads outside"));
        // a link that stays inside is fine
        Files.delete(images);
        Files.createDirectories(dir.resolve("train/n01/real"));
        TestImages.solid(dir.resolve("train/n01/real/a.JPEG"), 64, 64, BLUE, "jpeg");
        Files.createSymbolicLink(images, dir.resolve("train/n01/real"));
        assertEquals(3, TinyImageNet.load(root, true).size());
    }
}
