package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
        assertEquals(List.of("digits", "cifar10", "cifar100", "tiny-imagenet", "imagenet", "synthetic"),
                DatasetRegistry.names());
    }

    @Test
    void unknownNameListsValidOnes() {
        var e = assertThrows(IllegalArgumentException.class, () -> DatasetRegistry.load("mnist", root, true, 0));
        assertTrue(e.getMessage().contains("Unknown dataset 'mnist'") && e.getMessage().contains(
                "digits, cifar10, cifar100, tiny-imagenet, imagenet, synthetic"), e.getMessage());
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
}
