package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class VocSegmentationTest {

    static final String A = "2007_000032", B = "2007_000039", C = "2008_000001", D = "2011_003276";

    @TempDir
    Path root;
    Path voc;

    @BeforeEach
    void writeTree() {
        voc = VocFiles.tree(root);
    }

    static int[] present(int[] label) {
        TreeSet<Integer> s = new TreeSet<>();
        for (int v : label) if (v != 255) s.add(v);
        return s.stream().mapToInt(Integer::intValue).toArray();
    }

    static void assertImage(SegSample s, int k) {
        assertEquals(3, s.c());
        assertEquals(VocFiles.H, s.h());
        assertEquals(VocFiles.W, s.w());
        int plane = s.h() * s.w();
        for (int y = 0; y < s.h(); y++) {
            for (int x = 0; x < s.w(); x++) {
                int rgb = VocFiles.colour(k, x, y);
                for (int c = 0; c < 3; c++) {
                    float want = ((rgb >> (16 - 8 * c)) & 0xFF) / 255f;
                    assertEquals(want, s.image()[c * plane + y * s.w() + x], 0.04, "image " + k + " channel " + c + " at " + x + "," + y);
                }
            }
        }
    }

    static String message(Executable e) {
        return assertThrows(DatasetException.class, e).getMessage();
    }

    static void assertHas(String msg, String... parts) {
        for (String p : parts) assertTrue(msg.contains(p), "expected '" + p + "' in: " + msg);
    }

    @Test
    void readsExactClassIndicesIgnoreAndPixels() {
        VocSegmentation train = VocSegmentation.open(root, VocSegmentation.Split.TRAIN);
        assertEquals("voc2012-train", train.name());
        assertEquals(List.of(A, B), train.ids());
        assertEquals(2, train.size());
        assertEquals(21, train.numClasses());
        assertEquals(3, train.channels());
        assertEquals(21, train.classNames().size());
        assertEquals("background", train.classNames().get(0));
        assertEquals("tvmonitor", train.classNames().get(20));
        assertEquals(voc.toAbsolutePath().normalize(), train.root());
        for (int k = 0; k < 2; k++) {
            SegSample s = train.get(k);
            int[] want = VocFiles.label(k, VocFiles.W, VocFiles.H);
            assertArrayEquals(want, s.label(), "palette index = class id, 255 kept");
            assertTrue(Arrays.stream(s.label()).anyMatch(v -> v == SegDataset.IGNORE));
            assertImage(s, k);
            assertArrayEquals(present(want), train.presentClasses(k));
            assertArrayEquals(present(want), s.presentClasses());
        }
        // a fresh sample every call
        train.get(0).label()[0] = 7;
        assertEquals(0, train.get(0).label()[0]);
        VocSegmentation val = VocSegmentation.open(root, VocSegmentation.Split.VAL);
        assertEquals(List.of(C), val.ids());
        assertImage(val.get(0), 2);
        assertArrayEquals(VocFiles.label(2, VocFiles.W, VocFiles.H), val.get(0).label());
        assertThrows(IndexOutOfBoundsException.class, () -> val.get(1));
    }

    @Test
    void presentClassesBeforeAnyGetAndFromManyThreads() {
        VocSegmentation train = VocSegmentation.open(root, VocSegmentation.Split.TRAIN);
        int[][] par = IntStream.range(0, 64).parallel().mapToObj(i -> train.presentClasses(i % 2)).toArray(int[][]::new);
        for (int i = 0; i < 64; i++) assertArrayEquals(present(VocFiles.label(i % 2, VocFiles.W, VocFiles.H)), par[i]);
        train.presentClasses(0)[0] = 99; // a copy
        assertEquals(0, train.presentClasses(0)[0]);
    }

    @Test
    void locatesTheThreeLayouts() throws IOException {
        Path alone = root.resolve("VOCdevkit/VOC2012");
        assertEquals(alone.toAbsolutePath().normalize(), VocSegmentation.locate(root));
        assertEquals(alone.toAbsolutePath().normalize(), VocSegmentation.locate(root.resolve("VOCdevkit")));
        assertEquals(alone.toAbsolutePath().normalize(), VocSegmentation.locate(alone));
        assertEquals(2, VocSegmentation.open(alone, VocSegmentation.Split.TRAIN).size());
        assertEquals(2, VocSegmentation.open(root.resolve("VOCdevkit"), VocSegmentation.Split.TRAIN).size());
    }

    @Test
    void augSplitReadsGrayscaleAndPaletteLabelsAndDeepLabLines() {
        VocSegmentation aug = VocSegmentation.open(root, VocSegmentation.Split.TRAIN_AUG);
        assertEquals("voc2012_aug-train", aug.name());
        assertEquals(List.of(A, B, D), aug.ids());
        int[] ks = {0, 1, 3};
        for (int i = 0; i < 3; i++) {
            SegSample s = aug.get(i);
            assertArrayEquals(VocFiles.label(ks[i], VocFiles.W, VocFiles.H), s.label(), "example " + i);
            assertImage(s, ks[i]);
        }
        assertEquals(voc.resolve("SegmentationClassAug/" + D + ".png").toAbsolutePath().normalize(), aug.labelFile(2));
    }

    @Test
    void trainAugInImageSetsIsPreferred() {
        VocFiles.writeList(voc.resolve("ImageSets/Segmentation/train_aug.txt"), List.of(D));
        assertEquals(List.of(D), VocSegmentation.open(root, VocSegmentation.Split.TRAIN_AUG).ids());
    }

    @Test
    void grayscaleLabelsOnlyInTheAugFolder() {
        VocFiles.grayPng(voc.resolve("SegmentationClass/" + A + ".png"), VocFiles.W, VocFiles.H, VocFiles.label(0, VocFiles.W, VocFiles.H));
        VocSegmentation train = VocSegmentation.open(root, VocSegmentation.Split.TRAIN);
        assertHas(message(() -> train.get(0)), A + ".png", "8-bit grayscale", "palette");
        assertHas(message(() -> train.presentClasses(0)), A + ".png", "palette");
    }

    @Test
    void refusesMissingFolders() throws IOException {
        Path empty = Files.createDirectories(root.resolve("empty"));
        assertHas(message(() -> VocSegmentation.open(empty, VocSegmentation.Split.TRAIN)), "JPEGImages",
                empty.resolve("VOCdevkit/VOC2012/JPEGImages").toString(), "Expected Pascal VOC 2012's layout");
        deleteTree(voc.resolve("SegmentationClass"));
        assertHas(message(() -> VocSegmentation.open(root, VocSegmentation.Split.TRAIN)), "Missing folder",
                voc.resolve("SegmentationClass").toString(), "Expected");
        deleteTree(voc.resolve("SegmentationClassAug"));
        assertHas(message(() -> VocSegmentation.open(root, VocSegmentation.Split.TRAIN_AUG)), "Missing folder",
                "SegmentationClassAug", "voc2012_aug");
    }

    @Test
    void refusesMissingListFiles() throws IOException {
        Files.delete(voc.resolve("ImageSets/Segmentation/val.txt"));
        assertHas(message(() -> VocSegmentation.open(root, VocSegmentation.Split.VAL)), "Missing file", "val.txt", "Expected");
        Files.delete(root.resolve("train_aug.txt"));
        assertHas(message(() -> VocSegmentation.open(root, VocSegmentation.Split.TRAIN_AUG)), "Missing file train_aug.txt",
                root.resolve("train_aug.txt").toAbsolutePath().toString());
    }

    @Test
    void refusesListedIdsWithoutFiles() throws IOException {
        VocFiles.writeList(voc.resolve("ImageSets/Segmentation/train.txt"), List.of(A, "2009_000001", B, "2009_000002"));
        Files.delete(voc.resolve("SegmentationClass/" + B + ".png"));
        String msg = message(() -> VocSegmentation.open(root, VocSegmentation.Split.TRAIN));
        assertHas(msg, "5 files", "2009_000001.jpg", "2009_000001.png", B + ".png", "2009_000002.jpg", "train.txt");
    }

    @Test
    void refusesBadIdsDuplicatesAndEmptyLists() throws IOException {
        Path list = voc.resolve("ImageSets/Segmentation/train.txt");
        for (String bad : new String[] {"../../secret", "sub/" + A, "..", "a b", ".hidden"}) {
            VocFiles.writeList(list, List.of(A, bad));
            assertHas(message(() -> VocSegmentation.open(root, VocSegmentation.Split.TRAIN)), "line 2", "'" + bad + "'",
                    "VOC image id");
        }
        VocFiles.writeList(list, List.of(A, B, A));
        assertHas(message(() -> VocSegmentation.open(root, VocSegmentation.Split.TRAIN)), "line 3", "again", "line 1");
        VocFiles.writeList(list, List.of("", "  "));
        assertHas(message(() -> VocSegmentation.open(root, VocSegmentation.Split.TRAIN)), "lists no image ids", "train.txt");
        VocFiles.writeList(root.resolve("train_aug.txt"), List.of("/JPEGImages/" + A + ".jpg /SegmentationClassAug/" + B + ".png"));
        assertHas(message(() -> VocSegmentation.open(root, VocSegmentation.Split.TRAIN_AUG)), "line 1", "same id");
    }

    @Test
    void refusesLinksOutsideTheDataFolder() throws IOException {
        Path secret = VocFiles.jpeg(root.resolve("outside/secret.jpg"), VocFiles.W, VocFiles.H, (x, y) -> 0);
        Path jpg = voc.resolve("JPEGImages/" + A + ".jpg");
        Files.delete(jpg);
        Files.createSymbolicLink(jpg, secret);
        assertHas(message(() -> VocSegmentation.open(root, VocSegmentation.Split.TRAIN)), A + ".jpg",
                "leads outside the data folder");
        // a link that stays inside is fine
        Files.delete(jpg);
        Files.createSymbolicLink(jpg, voc.resolve("JPEGImages/" + B + ".jpg"));
        assertEquals(2, VocSegmentation.open(root, VocSegmentation.Split.TRAIN).size());
        // a linked label folder leading out
        Path outLabels = Files.createDirectories(root.resolve("outside/labels"));
        deleteTree(voc.resolve("SegmentationClass"));
        Files.createSymbolicLink(voc.resolve("SegmentationClass"), outLabels);
        assertHas(message(() -> VocSegmentation.open(root, VocSegmentation.Split.TRAIN)), "SegmentationClass",
                "leads outside the data folder");
    }

    @Test
    void refusesRgbLabelsAndOutOfRangeIndices() {
        int[] lab = VocFiles.label(0, VocFiles.W, VocFiles.H);
        VocFiles.rgbPng(voc.resolve("SegmentationClass/" + A + ".png"), VocFiles.W, VocFiles.H, lab);
        VocSegmentation train = VocSegmentation.open(root, VocSegmentation.Split.TRAIN);
        assertHas(message(() -> train.get(0)), A + ".png", "not a palette (indexed) PNG", "VOC labels are palette PNGs");
        lab[5 * VocFiles.W + 3] = 21;
        VocFiles.palettePng(voc.resolve("SegmentationClass/" + A + ".png"), VocFiles.W, VocFiles.H, lab);
        assertHas(message(() -> train.get(0)), A + ".png", "class index 21", "x=3, y=5", "0..20 and 255");
        lab[5 * VocFiles.W + 3] = 254;
        VocFiles.grayPng(voc.resolve("SegmentationClassAug/" + A + ".png"), VocFiles.W, VocFiles.H, lab);
        VocSegmentation aug = VocSegmentation.open(root, VocSegmentation.Split.TRAIN_AUG);
        assertHas(message(() -> aug.get(0)), A + ".png", "class index 254");
        assertHas(message(() -> aug.presentClasses(0)), "class index 254");
    }

    @Test
    void refusesSizeMismatchNamingBothFiles() {
        VocFiles.palettePng(voc.resolve("SegmentationClass/" + B + ".png"), VocFiles.W + 1, VocFiles.H,
                new int[(VocFiles.W + 1) * VocFiles.H]);
        VocSegmentation train = VocSegmentation.open(root, VocSegmentation.Split.TRAIN);
        assertHas(message(() -> train.get(1)), B + ".jpg", B + ".png", "16 x 12", "17 x 12", "same size");
        train.get(0);
    }

    @Test
    void refusesTruncatedAndCorruptJpegs() throws IOException {
        Path jpg = voc.resolve("JPEGImages/" + A + ".jpg");
        VocFiles.jpeg(jpg, 64, 48, (x, y) -> VocFiles.colour(0, x / 4, y / 4));
        byte[] full = Files.readAllBytes(jpg);
        Files.write(jpg, Arrays.copyOf(full, full.length / 2));
        VocSegmentation train = VocSegmentation.open(root, VocSegmentation.Split.TRAIN);
        assertHas(message(() -> train.get(0)), "Cannot decode image", A + ".jpg");
        Files.write(jpg, "not a jpeg at all".getBytes());
        assertHas(message(() -> train.get(0)), "Cannot decode image", A + ".jpg");
        byte[] broken = full.clone();
        for (int i = broken.length / 3; i < broken.length - 2; i++) broken[i] = (byte) 0xFF;
        Files.write(jpg, broken);
        assertHas(message(() -> train.get(0)), "Cannot decode image", A + ".jpg");
    }

    @Test
    void grayscaleAndCmykJpegsBecomeRgb() {
        java.awt.image.BufferedImage gray = new java.awt.image.BufferedImage(VocFiles.W, VocFiles.H,
                java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < VocFiles.H; y++) for (int x = 0; x < VocFiles.W; x++) gray.getRaster().setSample(x, y, 0, 100 + 5 * x);
        VocFiles.writeJpeg(voc.resolve("JPEGImages/" + A + ".jpg"), new javax.imageio.IIOImage(gray, null, null));
        int[] inks = {200, 50, 0, 20};
        VocFiles.cmykJpeg(voc.resolve("JPEGImages/" + B + ".jpg"), VocFiles.W, VocFiles.H, inks, false);
        VocFiles.example(voc, C, 2, "SegmentationClass");
        VocFiles.cmykJpeg(voc.resolve("JPEGImages/" + C + ".jpg"), VocFiles.W, VocFiles.H, inks, true);
        VocFiles.writeList(voc.resolve("ImageSets/Segmentation/train.txt"), List.of(A, B, C));
        VocSegmentation train = VocSegmentation.open(root, VocSegmentation.Split.TRAIN);
        SegSample g = train.get(0);
        int plane = VocFiles.W * VocFiles.H;
        for (int c = 0; c < 3; c++) {
            for (int x = 0; x < VocFiles.W; x++) {
                assertEquals((100 + 5 * x) / 255f, g.image()[c * plane + 2 * VocFiles.W + x], 0.03, "gray replicated, channel " + c);
            }
        }
        // (1-C)(1-K), (1-M)(1-K), (1-Y)(1-K) with C=200, M=50, Y=0, K=20 (of 255), plain and Adobe-inverted files
        float[] want = {55f * 235 / 255 / 255, 205f * 235 / 255 / 255, 235f / 255};
        for (int i = 1; i <= 2; i++) {
            SegSample k = train.get(i);
            for (int c = 0; c < 3; c++) assertEquals(want[c], k.image()[c * plane + 37], 0.03, "CMYK file " + i + " channel " + c);
        }
    }

    @Test
    void paletteIsVocs() {
        int[] p = VocSegmentation.palette();
        assertEquals(0x000000, p[0]);
        assertEquals(0x800000, p[1]);
        assertEquals(0x008000, p[2]);
        assertEquals(0x808000, p[3]);
        assertEquals(0x000080, p[4]);
        assertEquals(0xC08080, p[15]); // person
        assertEquals(0x004080, p[20]); // tvmonitor
        assertEquals(0xE0E0C0, p[255]);
    }

    static void deleteTree(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) Files.delete(p);
        }
    }
}
