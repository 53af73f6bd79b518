package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetRegistryTest {

    @TempDir
    Path root;

    @Test
    void names() {
        assertEquals(List.of("digits", "cifar10", "cifar100", "tiny-imagenet", "imagenet", "mnist", "fashion_mnist", "kmnist",
                "synthetic", "seg_demo", "voc2012", "voc2012_aug"), DatasetRegistry.names());
    }

    @Test
    void unknownNameListsValidOnes() {
        var e = assertThrows(IllegalArgumentException.class, () -> DatasetRegistry.load("emnist", root, true, 0));
        assertTrue(e.getMessage().contains("Unknown dataset 'emnist'") && e.getMessage().contains(
                "digits, cifar10, cifar100, tiny-imagenet, imagenet, mnist, fashion_mnist, kmnist, synthetic"), e.getMessage());
    }

    @Test
    void digitsTrainAndTestAreTheStratifiedSplit() {
        Dataset train = DatasetRegistry.load("digits", null, true, 3);
        Dataset test = DatasetRegistry.load("digits", null, false, 3);
        Splits.Split s = Splits.stratifiedSplit(Digits.load(), 0.2, 3);
        assertEquals("digits-train", train.name());
        assertEquals("digits-test", test.name());
        assertArrayEquals(s.train().images(), train.images());
        assertArrayEquals(s.test().labels(), test.labels());
        assertEquals(1797, train.size() + test.size());
    }

    @Test
    void diskSetsComeFromDataRoot() throws IOException {
        CifarTest.writeFullCifar10Test(root);
        Dataset d = DatasetRegistry.load("cifar10", root, false, 0);
        assertEquals(10_000, d.size());
        assertEquals(Optional.of(ChannelStats.CIFAR10), DatasetRegistry.stats("cifar10"));
        assertEquals(Optional.empty(), DatasetRegistry.stats("digits"));
        var e = assertThrows(DatasetException.class, () -> DatasetRegistry.load("imagenet", root, true, 0));
        assertTrue(e.getMessage().contains("imagenet") && e.getMessage().contains("train"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DatasetRegistry.load("cifar100", null, true, 0));
    }

    @Test
    void syntheticIsFixedDataSplitBySeed() {
        Dataset a = DatasetRegistry.load("synthetic", null, true, 1);
        Dataset b = DatasetRegistry.load("synthetic", null, false, 1);
        assertEquals(DatasetRegistry.SYNTHETIC_SIZE, a.size() + b.size());
        assertEquals(3, a.channels());
        assertEquals(32, a.height());
        assertEquals(10, a.numClasses());
    }

    @Test
    void segmentationSetsAreLoadedWithLoadSegmentation() {
        assertTrue(DatasetRegistry.isSegmentation("seg_demo"));
        assertTrue(DatasetRegistry.isSegmentation("voc2012_aug"));
        assertFalse(DatasetRegistry.isSegmentation("cifar10"));
        assertThrows(IllegalArgumentException.class, () -> DatasetRegistry.isSegmentation("coco"));
        var e = assertThrows(IllegalArgumentException.class, () -> DatasetRegistry.load("voc2012", root, true, 0));
        assertTrue(e.getMessage().contains("segmentation set") && e.getMessage().contains("loadSegmentation"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DatasetRegistry.loadSegmentation("digits", null, true, 0));
        assertTrue(e.getMessage().contains("classification set") && e.getMessage().contains("DatasetRegistry.load"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DatasetRegistry.loadSegmentation("coco", null, true, 0));
        assertTrue(e.getMessage().contains("Unknown dataset 'coco'") && e.getMessage().contains("voc2012_aug"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DatasetRegistry.loadSegmentation("voc2012", null, true, 0));
    }

    @Test
    void segDemoIsAFixedSplit() {
        SegDataset train = DatasetRegistry.loadSegmentation("seg_demo", null, true, 1);
        SegDataset test = DatasetRegistry.loadSegmentation("seg_demo", null, false, 2);
        assertEquals("seg_demo-train", train.name());
        assertEquals("seg_demo-test", test.name());
        assertEquals(256, train.size());
        assertEquals(64, test.size());
        assertEquals(List.of("background", "square", "disc", "triangle"), train.classNames());
        assertArrayEquals(SegDemo.generate(0, 0).image(), train.get(0).image());
        assertArrayEquals(SegDemo.generate(0, 256).label(), test.get(0).label());
        assertArrayEquals(train.get(5).image(), DatasetRegistry.loadSegmentation("seg_demo", null, true, 7).get(5).image());
        assertEquals(Optional.of(ChannelStats.SEG_DEMO), DatasetRegistry.stats("seg_demo"));
    }

    @Test
    void vocSetsFromDataRoot() {
        VocFiles.tree(root);
        SegDataset train = DatasetRegistry.loadSegmentation("voc2012", root, true, 0);
        SegDataset val = DatasetRegistry.loadSegmentation("voc2012", root, false, 0);
        SegDataset aug = DatasetRegistry.loadSegmentation("voc2012_aug", root, true, 0);
        SegDataset augVal = DatasetRegistry.loadSegmentation("voc2012_aug", root, false, 0);
        assertEquals("voc2012-train", train.name());
        assertEquals(2, train.size());
        assertEquals(1, val.size());
        assertEquals(3, aug.size());
        assertEquals(1, augVal.size());
        assertArrayEquals(val.get(0).label(), augVal.get(0).label());
        assertEquals(21, aug.numClasses());
        assertEquals(Optional.of(ChannelStats.IMAGENET), DatasetRegistry.stats("voc2012"));
        assertEquals(Optional.of(ChannelStats.IMAGENET), DatasetRegistry.stats("voc2012_aug"));
    }
}
