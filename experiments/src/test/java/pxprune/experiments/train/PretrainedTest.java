package pxprune.experiments.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.datasets.Dataset;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.nn.StateDicts;
import pxprune.px.Masks;
import pxprune.px.Pruner;
import pxprune.px.methods.ScorerRegistry;
import pxprune.px.ScoringData;
import pxprune.experiments.cli.MainTest;

/**
 * The config keys {@code pretrained} (whole model) and {@code pretrained_backbone} (a classifier's
 * layers but fc, or a segmentation model's backbone): the weights land where they should, every
 * scorer prunes the pre-trained network, and bad files are refused before any work.
 */
class PretrainedTest {
    /** a checkpoint of model name (seed 7, other classes allowed) written under PyTorch names */
    static Path checkpoint(Path dir, String name, int classes) throws Exception {
        Path f = dir.resolve(name + "_" + classes + ".safetensors");
        try (Module m = ModelRegistry.create(name, 1, classes, 32, 7)) { StateDicts.save(m, f); }
        return f;
    }

    static double[] values(Module m, String key) { return m.stateDict().get(key).toDoubleArray(); }

    @Test void wholeModelAndClassifierBackbone(@TempDir Path tmp) throws Exception {
        Dataset train = ClassificationTask.data(Recipes.digits())[0];
        Path same = checkpoint(tmp, "resnet20", 10), other = checkpoint(tmp, "resnet20", 7);
        try (Module ref = ModelRegistry.create("resnet20", 1, 10, 8, 7);
             Module whole = ClassificationTask.model(Recipes.digits().with("pretrained", same.toString()), train);
             Module back = ClassificationTask.model(Recipes.digits().with("pretrained_backbone", other.toString()), train);
             Module fresh = ClassificationTask.model(Recipes.digits(), train)) {
            for (String k : ref.stateDict().keySet()) assertArrayEquals(values(ref, k), values(whole, k), 0, k);
            // all but fc from the 7-class file; fc is the seed's initialisation
            assertArrayEquals(values(ref, "blocks.8.conv2.weight"), values(back, "blocks.8.conv2.weight"), 0);
            assertArrayEquals(values(fresh, "fc.weight"), values(back, "fc.weight"), 0);
            assertNotEquals(values(ref, "conv.weight")[0], values(fresh, "conv.weight")[0]);
        }
    }

    @Test void segmentationBackboneFromAClassifier(@TempDir Path tmp) throws Exception {
        Path r20;
        try (Module m = ModelRegistry.create("resnet20", 3, 10, 32, 7)) { r20 = tmp.resolve("r20.safetensors"); StateDicts.save(m, r20); }
        RunConfig cfg = Recipes.segDemo().with("pretrained_backbone", r20.toString());
        var data = SegmentationTask.load(cfg);
        try (Module src = ModelRegistry.create("resnet20", 3, 10, 32, 7); Module seg = data.model()) {
            for (String k : src.stateDict().keySet())
                if (!k.startsWith("fc.")) assertArrayEquals(values(src, k), values(seg, "backbone." + k), 0, k);
        }
    }

    @Test void everyScorerPrunesAPretrainedNetwork(@TempDir Path tmp) throws Exception {
        Path f = checkpoint(tmp, "resnet20", 10);
        RunConfig cfg = Recipes.digits().with("pretrained", f.toString());
        Dataset train = ClassificationTask.data(cfg)[0];
        var b = train.batch(java.util.stream.IntStream.range(0, 40).toArray());
        for (String method : ScorerRegistry.names()) {
            try (Module m = ClassificationTask.model(cfg, train); MemoryScope s = MemoryScope.open()) {
                Map<String, Tensor> before = StateDicts.entries(m).entrySet().stream().collect(java.util.stream.Collectors.toMap(
                        Map.Entry::getKey, e -> Tensor.of(e.getValue().toDoubles(), e.getValue().intShape())));
                ScoringData d = new ScoringData(Tensor.of(b.x(), b.n(), b.c(), b.h(), b.w()), b.y(), 10, 1, 40);
                Map<String, Tensor> scores = ScorerRegistry.create(method).score(m, Masks.ones(m), d);
                for (Tensor t : scores.values())
                    for (double v : t.toDoubleArray()) assertTrue(Double.isFinite(v), method + " gave a non-finite score");
                for (var e : before.entrySet()) // the scorer left the pre-trained weights as they were
                    assertArrayEquals(e.getValue().toDoubleArray(), values(m, e.getKey()), 0, method + " " + e.getKey());
                Masks masks = Pruner.run(m, ScorerRegistry.create(method), d, new Pruner.Config(0.1, 2), null, null).masks();
                assertEquals(0.1, masks.density(), 1e-3, method);
            }
        }
    }

    @Test void badFilesAreRefusedBeforeAnyWork(@TempDir Path tmp) throws Exception {
        Path runs = tmp.resolve("runs");
        MainTest.Result r = MainTest.run("run", "digits", "--set", "pretrained=" + tmp.resolve("missing.safetensors"), "--runs", runs.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("config key 'pretrained':") && r.err().contains("does not exist"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(runs) && Files.list(runs).findAny().isPresent(), "a refused run leaves no folder");

        Path vgg = checkpoint(tmp, "vgg11_bn", 10);
        RunConfig cfg = Recipes.digits().with("pretrained", vgg.toString());
        Dataset train = ClassificationTask.data(cfg)[0];
        ConfigException e = assertThrows(ConfigException.class, () -> ClassificationTask.model(cfg, train));
        assertTrue(e.getMessage().startsWith("config key 'pretrained': " + vgg + " cannot be loaded into resnet20"), e.getMessage());
        assertTrue(e.getMessage().contains("use model vgg11_bn"), e.getMessage());

        ConfigException both = assertThrows(ConfigException.class,
                () -> Recipes.digits().with(Map.of("pretrained", "a", "pretrained_backbone", "b")));
        assertTrue(both.getMessage().contains("are both set; give one"), both.getMessage());
    }

    @Test void defaultsKeepTheHash() {
        assertEquals(Recipes.digits().hash(), Recipes.digits().with("pretrained", "").hash());
        assertNotEquals(Recipes.digits().hash(), Recipes.digits().with("pretrained", "w.safetensors").hash());
    }
}
