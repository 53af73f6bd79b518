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

class ImageNetTest {

    static final String A = ImageNetFiles.A, B = ImageNetFiles.B;

    @TempDir
    Path root;
    Path dir;

    @BeforeEach
    void writeTree() {
        dir = ImageNetFiles.write(root, 2, 20, 16);
    }

    static String message(Runnable r) {
        return assertThrows(DatasetException.class, r::run).getMessage();
    }

    @Test
    void trainIsIndexedByClassFolderThenFileName() {
        ImageFiles train = ImageNet.open(root, true);
        assertEquals(List.of(A, B), train.classes());
        assertEquals(4, train.size());
        assertEquals("imagenet-train", train.name());
        assertEquals(dir.resolve("train/" + A + "/" + A + "_100.JPEG"), train.file(0));
        assertEquals(dir.resolve("train/" + B + "/" + B + "_201.JPEG"), train.file(3));
        assertArrayEquals(new int[] {0, 0, 1, 1}, new int[] {train.label(0), train.label(1), train.label(2), train.label(3)});
        assertArrayEquals(new int[][] {{0, 1}, {2, 3}}, train.indicesByClass());
        assertEquals(224, train.height());
        assertEquals(3, train.channels());
    }

    @Test
    void flatValidationTakesItsLabelsFromTheSolutionFile() {
        ImageFiles val = ImageNet.open(root, false);
        assertEquals(3, val.size());
        assertEquals(List.of(A, B), val.classes());
        assertEquals(dir.resolve("val/ILSVRC2012_val_00000001.JPEG"), val.file(0));
        assertArrayEquals(new int[] {1, 0, 0}, new int[] {val.label(0), val.label(1), val.label(2)});
    }

    @Test
    void validationInClassFolders() throws IOException {
        for (String id : List.of("00000001", "00000002", "00000003")) Files.delete(dir.resolve("val/ILSVRC2012_val_" + id + ".JPEG"));
        TestImages.solid(dir.resolve("val/" + B + "/x.JPEG"), 8, 8, 0, "jpeg");
        TestImages.solid(dir.resolve("val/" + B + "/y.JPEG"), 8, 8, 0, "jpeg");
        ImageFiles val = ImageNet.open(root, false);
        assertEquals(2, val.size());
        assertEquals(1, val.label(0));
        assertEquals(dir.resolve("val/" + B + "/y.JPEG"), val.file(1));
    }

    @Test
    void missingGroundTruthSaysWhereItGoesAndWhyTheDevkitFileIsNotRead() throws IOException {
        Files.delete(dir.resolve("LOC_val_solution.csv"));
        Files.writeString(dir.resolve("ILSVRC2012_validation_ground_truth.txt"), "490\n361\n171\n");
        String m = message(() -> ImageNet.open(root, false));
        assertTrue(m.contains("Missing file") && m.contains("LOC_val_solution.csv") && m.contains("meta.mat"), m);
        assertEquals(4, ImageNet.open(root, true).size(), "the train split does not need the ground truth");
    }

    @Test
    void unknownWnidInTheGroundTruthIsNamedWithItsLine() {
        ImageNetFiles.solution(dir, "ImageId,PredictionString\nILSVRC2012_val_00000001,n09999999 0 0 1 1\n");
        String m = message(() -> ImageNet.open(root, false));
        assertTrue(m.contains("line 2") && m.contains("n09999999") && m.contains("train/"), m);
    }

    @Test
    void malformedGroundTruthRowsAreRefused() {
        for (String bad : new String[] {
                "ImageId,Label\n",
                "ImageId,PredictionString\n",
                "ImageId,PredictionString\nILSVRC2012_val_00000001\n",
                "ImageId,PredictionString\n../x," + A + " 0 0 1 1\n",
                "ImageId,PredictionString\nILSVRC2012_val_00000001," + A + " 0 0 1\n",
                "ImageId,PredictionString\nILSVRC2012_val_00000001," + A + " 0 0 1 1 " + B + " 0 0 1 1\n",
                "ImageId,PredictionString\nILSVRC2012_val_00000001," + A + " 0 0 1 1\nILSVRC2012_val_00000001," + A + " 0 0 1 1\n"}) {
            ImageNetFiles.solution(dir, bad);
            String m = message(() -> ImageNet.open(root, false));
            assertTrue(m.contains("LOC_val_solution.csv"), m);
        }
    }

    @Test
    void imagesAndRowsMustMatchOneToOne() throws IOException {
        TestImages.solid(dir.resolve("val/ILSVRC2012_val_00000004.JPEG"), 8, 8, 0, "jpeg");
        String m = message(() -> ImageNet.open(root, false));
        assertTrue(m.contains("ILSVRC2012_val_00000004.JPEG") && m.contains("has no row"), m);
        Files.delete(dir.resolve("val/ILSVRC2012_val_00000004.JPEG"));
        Files.delete(dir.resolve("val/ILSVRC2012_val_00000002.JPEG"));
        m = message(() -> ImageNet.open(root, false));
        assertTrue(m.contains("ILSVRC2012_val_00000002") && m.contains("is missing"), m);
    }

    @Test
    void emptyOrUnknownClassFoldersAreNamed() throws IOException {
        Files.createDirectories(dir.resolve("train/n02000000"));
        String m = message(() -> ImageNet.open(root, true));
        assertTrue(m.contains("n02000000") && m.contains("no .JPEG"), m);
        TestImages.solid(dir.resolve("train/n02000000/z.JPEG"), 8, 8, 0, "jpeg");
        for (String id : List.of("00000001", "00000002", "00000003")) Files.delete(dir.resolve("val/ILSVRC2012_val_" + id + ".JPEG"));
        TestImages.solid(dir.resolve("val/n03000000/v.JPEG"), 8, 8, 0, "jpeg");
        m = message(() -> ImageNet.open(root, false));
        assertTrue(m.contains("n03000000") && m.contains("not a class folder"), m);
    }

    @Test
    void missingFoldersNameTheLayout() throws IOException {
        String m = message(() -> ImageNet.open(root.resolve("elsewhere"), true));
        assertTrue(m.contains("Missing folder") && m.contains("LOC_val_solution.csv"), m);
        Files.createDirectories(root.resolve("other/imagenet/train"));
        m = message(() -> ImageNet.open(root.resolve("other"), true));
        assertTrue(m.contains("no class sub-folders"), m);
    }

    @Test
    void aCorruptJpegFailsItsBatchNamingTheFile() throws IOException {
        Path f = dir.resolve("train/" + B + "/" + B + "_200.JPEG");
        byte[] bytes = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        ImageFiles train = ImageNet.open(root, true);
        try (BatchStream s = train.stream(List.of(new int[] {0, 1}, new int[] {3, 2}), 7L, 2, 1)) {
            assertEquals(2, s.next().n());
            String m = message(s::next);
            assertTrue(m.contains(f.toString()) && m.contains("Cannot decode image"), m);
        }
        Files.writeString(f, "not an image");
        String m = message(() -> train.batch(new int[] {2}));
        assertTrue(m.contains(f.toString()), m);
    }

    @Test
    void theRegistryStreamsImagenetAndLoadsItForSmallFolders() {
        assertTrue(DatasetRegistry.isStreamed("imagenet"));
        assertTrue(!DatasetRegistry.isStreamed("digits"));
        assertTrue(DatasetRegistry.open("imagenet", root, true, 0) instanceof ImageFiles);
        Dataset val = DatasetRegistry.load("imagenet", root, false, 0);
        assertEquals(3, val.size());
        assertEquals(224, val.height());
        // a solid blue image stays blue through the evaluation crop (pixels in [0, 1])
        float[] img = val.image(0);
        assertEquals(1.0, img[2 * 224 * 224 + 224 * 112 + 112], 0.05);
        assertEquals(0.0, img[224 * 112 + 112], 0.05);
    }
}
