package pxprune.experiments.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import pxprune.experiments.cli.MainTest;

/**
 * The segmentation keys (crop, scale_min, scale_max, flip, backbone_lr): existing configs keep
 * their hash, the seg recipes round-trip, bad values are refused naming the key, and the command
 * line turns them into one line and exit code 2.
 */
class SegConfigTest {
    @Test
    void configsWithoutTheNewKeysKeepTheirHash() {
        // the hashes before the segmentation keys existed (computed with the previous RunConfig)
        assertEquals("629f8885271f", Recipes.digits().hash());
        assertEquals("82170418ceef", Recipes.digits().with("method", "synflow").hash());
        assertEquals("8307d8138aa4", Recipes.get("cifar10_resnet20").hash());
        assertEquals("6614b46fc428", Recipes.get("imagenet_resnet50").hash());
        String json = Recipes.digits().canonicalJson();
        for (String k : List.of("crop", "scale_min", "scale_max", "flip", "backbone_lr")) {
            assertFalse(json.contains("\"" + k + "\""), json);
            assertFalse(Recipes.digits().prettyJson().contains("\"" + k + "\""));
        }
        // a default value given explicitly is the same config
        RunConfig seg = Recipes.segDemo();
        assertEquals(seg.with("backbone_lr", 0.0).hash(), seg.hash());
        assertFalse(seg.with(Map.of("crop", 0L, "augment", false)).canonicalJson().contains("\"crop\""));
    }

    @Test
    void segmentationRecipesRoundTripWithTheirKeys() {
        for (String name : List.of("seg_demo", "voc_deeplabv3_resnet50", "voc_deeplabv3plus_resnet50")) {
            RunConfig c = Recipes.get(name);
            assertTrue(c.segmentation(), name);
            assertEquals(c, RunConfig.parse(c.prettyJson()), name);
            assertEquals(c.hash(), RunConfig.parse(c.prettyJson()).hash());
            assertTrue(c.canonicalJson().contains("\"crop\""), c.canonicalJson());
        }
        RunConfig voc = Recipes.get("voc_deeplabv3plus_resnet50");
        assertEquals("voc2012_aug", voc.dataset());
        assertEquals(0.018, voc.density());
        assertEquals(100, voc.rounds());
        assertEquals(4, voc.batchSize());
        assertEquals(80, voc.epochs());
        assertEquals(List.of(50, 60), voc.milestones());
        assertEquals(513, voc.crop());
        assertEquals(0.5, voc.scaleMin());
        assertEquals(2.0, voc.scaleMax());
        assertTrue(voc.flip() && voc.augment());
        assertEquals(0.01, voc.lrAt(0));
        assertEquals(0.001, voc.backboneLrAt(0));
        assertEquals(0.001 * 0.1, voc.backboneLrAt(50), 1e-18);
        assertEquals(0.01 * 0.01, voc.lrAt(60), 1e-18);
        assertEquals(voc.lrAt(55), Recipes.segDemo().with("lr", 0.01).with("milestones", List.of(50L, 60L)).backboneLrAt(55));
        RunConfig px = RunConfig.parse("{\"recipe\": \"seg_demo\", \"method\": \"px\"}");
        assertEquals(Recipes.segDemo(), px);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "{\"recipe\": \"seg_demo\", \"crop\": -1}|'crop'|[0, 8192]",
            "{\"recipe\": \"seg_demo\", \"crop\": 9000}|'crop'|9000",
            "{\"recipe\": \"seg_demo\", \"crop\": 1.5}|'crop'|1.5",
            "{\"recipe\": \"seg_demo\", \"scale_min\": 0}|'scale_min'|(0, 16.0]",
            "{\"recipe\": \"seg_demo\", \"scale_min\": 1.5, \"scale_max\": 1.0}|'scale_max'|scale_min=1.5",
            "{\"recipe\": \"seg_demo\", \"scale_max\": 100}|'scale_max'|100",
            "{\"recipe\": \"seg_demo\", \"flip\": \"yes\"}|'flip'|a boolean",
            "{\"recipe\": \"seg_demo\", \"backbone_lr\": -0.1}|'backbone_lr'|>= 0",
            "{\"recipe\": \"seg_demo\", \"crop\": 0}|'crop'|augment=true",
            "{\"recipe\": \"digits\", \"crop\": 32}|'crop'|classification",
            "{\"recipe\": \"digits\", \"flip\": true}|'flip'|classification",
            "{\"recipe\": \"digits\", \"scale_max\": 2}|'scale_max'|classification",
            "{\"recipe\": \"digits\", \"backbone_lr\": 0.01}|'backbone_lr'|classifier",
            "{\"recipe\": \"digits\", \"model\": \"deeplabv3_resnet20\"}|'model'|segmentation model",
            "{\"recipe\": \"seg_demo\", \"model\": \"resnet20\"}|'model'|deeplabv3_resnet20",
    })
    void badSegmentationValuesAreRefusedNamingTheKey(String json, String key, String hint) {
        String m = assertThrows(ConfigException.class, () -> RunConfig.parse(json)).getMessage();
        assertTrue(m.contains(key) && m.contains(hint), m);
    }

    @Test
    void theCommandLineRefusesThemWithOneLineAndExitCode2(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("bad.json");
        Files.writeString(f, "{\"recipe\": \"seg_demo\", \"scale_min\": 3, \"scale_max\": 2}");
        MainTest.Result r = MainTest.run("run", f.toString(), "--runs", tmp.resolve("runs").toString());
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("'scale_max'"), r.err());
        r = MainTest.run("run", "seg_demo", "--set", "crop=-4", "--runs", tmp.resolve("runs").toString());
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("'crop'"), r.err());
        r = MainTest.run("run", "seg_demo", "--set", "method=px", "--runs", tmp.resolve("runs").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("seg_demo job sets method"), r.err());
        assertFalse(Files.exists(tmp.resolve("runs").resolve(Recipes.segDemo().hash())));
    }

    @Test
    void theSegDemoJobHasItsFourRowsAndTheDefaultJobIsUnchanged() {
        List<RunConfig> rows = MainJob.SEG_DEMO.configs(MainJob.SEG_DEMO.base());
        assertEquals(List.of("dense", "px", "synflow", "random"), rows.stream().map(RunConfig::method).toList());
        assertTrue(rows.stream().allMatch(c -> c.dataset().equals("seg_demo") && c.model().equals("deeplabv3_resnet20")));
        assertEquals(List.of(1.0, MainJob.SEG_DENSITY, MainJob.SEG_DENSITY, MainJob.SEG_DENSITY), rows.stream().map(RunConfig::density).toList());
        assertTrue(MainJob.named("seg_demo").isPresent());
        assertFalse(MainJob.named("digits").isPresent(), "pxprune run digits stays one run");
        assertEquals(MainJob.configs(Recipes.digits()), MainJob.DIGITS.configs(Recipes.digits()));
    }
}
