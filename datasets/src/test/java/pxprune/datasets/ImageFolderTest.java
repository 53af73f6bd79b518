package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {

    @TempDir
    Path root;

    @Test
    void classesSortedByNameAndAllExtensions() {
        TestImages.solid(root.resolve("zebra/a.png"), 10, 10, 0x00FF00, "png");
        TestImages.solid(root.resolve("ant/b.JPEG"), 12, 9, 0xFF0000, "jpeg");
        TestImages.solid(root.resolve("ant/a.jpg"), 9, 12, 0x0000FF, "jpeg");
        TestImages.solid(root.resolve(".hidden/c.png"), 10, 10, 0, "png");
        Dataset d = ImageFolder.load(root, 6);
        assertEquals(List.of("ant", "zebra"), ImageFolder.classes(root));
        assertEquals(3, d.size());
        assertEquals(2, d.numClasses());
        assertEquals(6, d.height());
        assertEquals(6, d.width());
        assertArrayEquals(new int[] {0, 0, 1}, d.labels());
        assertEquals(1f, d.image(0)[36 * 2], 0.03);   // a.jpg: blue
        assertEquals(1f, d.image(1)[0], 0.03);        // b.JPEG: red
        assertArrayEquals(new float[] {0, 1, 0}, new float[] {d.image(2)[0], d.image(2)[36], d.image(2)[72]});
    }

    @Test
    void resizesShorterSideThenCropsTheCentre() {
        // 40x20, left half red, right half blue: shorter side -> round(8*256/224) = 9, so 18x9, crop 8x8 at x = 5
        TestImages.write(root.resolve("c/x.png"), 40, 20, (x, y) -> x < 20 ? 0xFF0000 : 0x0000FF, "png");
        Dataset d = ImageFolder.load(root, 8);
        float[] img = d.image(0);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                assertEquals(x < 4 ? 1f : 0f, img[y * 8 + x], "R at " + y + "," + x);
                assertEquals(0f, img[64 + y * 8 + x]);
                assertEquals(x < 4 ? 0f : 1f, img[128 + y * 8 + x], "B at " + y + "," + x);
            }
        }
    }

    @Test
    void resizeToTheSameSizeIsAnExactCopy() {
        BufferedImage img = new BufferedImage(5, 5, BufferedImage.TYPE_INT_RGB);
        for (int p = 0; p < 25; p++) img.setRGB(p % 5, p / 5, (p * 10) << 16 | (p * 3) << 8 | (250 - p));
        float[] out = new float[75];
        Images.resizeCenterCrop(img, 5, 5, out, 0);
        for (int p = 0; p < 25; p++) {
            assertEquals(p * 10 / 255f, out[p]);
            assertEquals(p * 3 / 255f, out[25 + p]);
            assertEquals((250 - p) / 255f, out[50 + p]);
        }
    }

    @Test
    void grayscaleIsReplicatedWithoutColourConversion() {
        BufferedImage gray = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) gray.getRaster().setSample(x, y, 0, 100);
        TestImages.write(root.resolve("g/gray.png"), gray, "png");
        float[] img = ImageFolder.load(root, 7).image(0);
        for (float v : img) assertEquals(100 / 255f, v, 1e-6);
    }

    @Test
    void clearErrors() throws IOException {
        var e = assertThrows(DatasetException.class, () -> ImageFolder.load(root.resolve("missing"), 8));
        assertTrue(e.getMessage().contains("Missing folder") && e.getMessage().contains("<class>"), e.getMessage());

        e = assertThrows(DatasetException.class, () -> ImageFolder.load(root, 8));
        assertTrue(e.getMessage().contains("no class sub-folders"), e.getMessage());

        Files.createDirectories(root.resolve("empty"));
        Files.writeString(root.resolve("empty/readme.txt"), "x");
        e = assertThrows(DatasetException.class, () -> ImageFolder.load(root, 8));
        assertTrue(e.getMessage().contains("empty") && e.getMessage().contains("no .JPEG, .jpg or .png"), e.getMessage());

        Files.writeString(root.resolve("empty/broken.png"), "not a png");
        e = assertThrows(DatasetException.class, () -> ImageFolder.load(root, 8));
        assertTrue(e.getMessage().contains("Cannot decode image") && e.getMessage().contains("broken.png"), e.getMessage());
    }

    @Test
    void linksLeadingOutsideTheRootAreRefused() throws IOException {
        Path data = root.resolve("data");
        TestImages.solid(data.resolve("ant/a.png"), 10, 10, 0xFF0000, "png");
        Path away = TestImages.solid(root.resolve("away/b.png"), 10, 10, 0x00FF00, "png");
        Files.createSymbolicLink(data.resolve("ant/b.png"), away);
        String m = assertThrows(DatasetException.class, () -> ImageFolder.load(data, 4)).getMessage();
        assertTrue(m.contains("names 'b.png', which leads outside the data folder " + data), m);
        Files.delete(data.resolve("ant/b.png"));
        Files.createSymbolicLink(data.resolve("bee"), away.getParent());
        m = assertThrows(DatasetException.class, () -> ImageFolder.classes(data)).getMessage();
        assertTrue(m.contains("names 'bee', which leads outside"), m);
    }

    /** a PNG whose header declares width x height pixels, with no image data after it */
    static byte[] pngHeader(int width, int height) {
        java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(17).put("IHDR".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .putInt(width).putInt(height).put(new byte[] {8, 2, 0, 0, 0}); // 8-bit RGB
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(ihdr.array());
        return java.nio.ByteBuffer.allocate(8 + 4 + 17 + 4).put(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10})
                .putInt(13).put(ihdr.array()).putInt((int) crc.getValue()).array();
    }

    @Test
    void hugeDeclaredImageSizeIsRefusedBeforeDecoding() throws IOException {
        Path f = root.resolve("c/huge.png");
        Files.createDirectories(f.getParent());
        Files.write(f, pngHeader(100_000, 100_000));
        String m = assertThrows(DatasetException.class, () -> ImageFolder.load(root, 4)).getMessage();
        assertTrue(m.contains("huge.png declares 100000 x 100000 pixels") && m.contains("expected 1 to 67108864 pixels"), m);
    }
}
