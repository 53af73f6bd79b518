package pxprune.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.core.io.SafeTensors;

/**
 * Checkpoints in torchvision's layouts: files written with torchvision's keys, dtypes (I64
 * num_batches_tracked of shape []) and the formula values load by name; files that fit another
 * model are refused with a first line naming the file's layout and the model to use
 * ({@link ModelRegistry#describeLayout}); {@link StateDicts#loadBackbone} loads an ImageNet
 * ResNet into a DeepLab's backbone.
 */
class TorchvisionCheckpointsTest {
    @TempDir Path dir;

    private static void assertFormula(String what, Map<String, Tensor> state, String prefix) {
        state.forEach((k, t) -> {
            if (k.endsWith("num_batches_tracked")) assertEquals(0, (int) t.item(), what + " " + k);
            else assertArrayEquals(FormulaWeights.values(prefix + k, FormulaWeights.longs(t.shape())), t.toFloatArray(), what + " " + k);
        });
    }

    @Test void torchvisionMadeCheckpointsLoadByName() throws Exception {
        for (String name : List.of("tv_resnet18", "deeplabv3_resnet20")) {
            Map<String, Object> meta = FormulaWeights.meta(name);
            int side = ((Number) meta.get("input")).intValue(), classes = ((Number) meta.get("classes")).intValue();
            Path f = dir.resolve(name + ".safetensors");
            FormulaWeights.writeCheckpoint(f, FormulaWeights.layout(name, false), "");
            assertEquals("I64", SafeTensors.header(f).entries().values().stream().filter(i -> i.shape().length == 0)
                    .findFirst().orElseThrow().dtype(), "num_batches_tracked as torchvision writes it");
            try (Module m = ModelRegistry.create(name, 3, classes, side, 1); MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
                m.loadStateDict(f);
                assertFormula(name, m.stateDict(), "");
                m.eval();
                SafeTensors.File golden = GoldenTorchvisionModelsTest.golden(name);
                GoldenTorchvisionModelsTest.assertGolden(name + " loaded, eval", golden.get("eval"), m.forward(FormulaWeights.input(side)));
            }
        }
    }

    @Test void everyRegisteredModelsLayoutIsRecognised() {
        for (String name : ModelRegistry.names()) {
            int size = Math.max(32, ModelRegistry.minInputSize(name));
            try (Module m = ModelRegistry.create(name, 3, 9, size, Init.zeros())) {
                Optional<ModelRegistry.Layout> l = ModelRegistry.describeLayout(FormulaWeights.shapes(FormulaWeights.keysOf(m)));
                assertTrue(l.isPresent(), name);
                assertEquals(name.equals("resnet50") ? "tv_resnet50" : name, l.get().model(), name + ": " + l.get().description());
                assertEquals(9, l.get().numClasses(), name);
                assertEquals(3, l.get().inChannels(), name);
            }
        }
        // the fixtures' torchvision key lists (made by PyTorch, not by this code)
        assertEquals("deeplabv3_resnet101_aux", describe("deeplabv3_resnet101", false).model());
        assertEquals("deeplabv3_resnet101", describe("deeplabv3_resnet101", true).model());
        assertEquals("tv_vgg16_bn", describe("tv_vgg16_bn", false).model());
        assertEquals("deeplabv3plus_resnet50", describe("deeplabv3plus_resnet50", false).model());
        assertEquals(7, describe("tv_resnet34", false).numClasses());
        assertTrue(ModelRegistry.describeLayout(Map.of("weight", new long[] {3, 3})).isEmpty());
        // a layout no registered model has
        Map<String, long[]> vgg19 = new LinkedHashMap<>();
        for (int i = 0; i < 16; i++) vgg19.put("features." + (2 * i) + ".weight", new long[] {64, 64, 3, 3});
        vgg19.put("classifier.6.weight", new long[] {1000, 4096});
        ModelRegistry.Layout l = ModelRegistry.describeLayout(vgg19).orElseThrow();
        assertNull(l.model());
        assertTrue(l.description().contains("vgg19"), l.description());
    }

    private static ModelRegistry.Layout describe(String fixture, boolean withoutAux) {
        return ModelRegistry.describeLayout(FormulaWeights.shapes(FormulaWeights.layout(fixture, withoutAux))).orElseThrow();
    }

    private String refusal(String fixture, boolean withoutAux, String model, int classes) throws Exception {
        Path f = dir.resolve(fixture + "-header.safetensors");
        FormulaWeights.writeHeaderOnly(f, FormulaWeights.layout(fixture, withoutAux));
        try (Module m = ModelRegistry.create(model, 3, classes, 64, Init.zeros())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(f));
            System.out.println(fixture + " file into " + model + ": " + e.getMessage().lines().findFirst().orElseThrow());
            return e.getMessage();
        }
    }

    @Test void mismatchSaysWhichLayoutAndModelFit() throws Exception {
        String first = refusal("tv_vgg16_bn", false, "vgg16_bn", 7).lines().findFirst().orElseThrow();
        assertTrue(first.contains("this file is torchvision's vgg16_bn layout (features.*, classifier.*); use model tv_vgg16_bn"), first);
        first = refusal("tv_resnet18", false, "resnet18", 7).lines().findFirst().orElseThrow();
        assertTrue(first.contains("torchvision's resnet18 layout") && first.contains("use model tv_resnet18"), first);
        first = refusal("deeplabv3_resnet50", false, "deeplabv3_resnet50", 5).lines().findFirst().orElseThrow();
        assertTrue(first.contains("with aux_classifier") && first.contains("use model deeplabv3_resnet50_aux"), first);
        first = refusal("deeplabv3_resnet50", true, "deeplabv3_resnet50_aux", 5).lines().findFirst().orElseThrow();
        assertTrue(first.contains("use model deeplabv3_resnet50 "), first);
        String msg = refusal("tv_resnet18", false, "tv_resnet18", 10);
        first = msg.lines().findFirst().orElseThrow();
        assertTrue(first.contains("the file has 7 classes, the model 10") && first.contains("create tv_resnet18 with 7 classes"), first);
        assertTrue(msg.contains("mis-shaped") && msg.contains("fc.weight (file [7, 512], model [10, 512])"), msg);
        first = refusal("deeplabv3plus_resnet101", false, "deeplabv3plus_resnet50", 5).lines().findFirst().orElseThrow();
        assertTrue(first.contains("VainF's DeepLabV3+ deeplabv3plus_resnet101 layout") && first.contains("use model deeplabv3plus_resnet101"), first);
    }

    @Test void imagenetResNetLoadsIntoDeepLabBackbone() throws Exception {
        Path f = dir.resolve("resnet50.safetensors");
        FormulaWeights.writeCheckpoint(f, FormulaWeights.layout("tv_resnet50", false), "");
        for (String model : List.of("deeplabv3_resnet50_aux", "deeplabv3plus_resnet50")) {
            try (Module m = ModelRegistry.create(model, 3, 4, 64, 3)) {
                Map<String, float[]> head = new LinkedHashMap<>();
                m.stateDict().forEach((k, t) -> { if (!k.startsWith("backbone.")) head.put(k, t.toFloatArray()); });
                StateDicts.loadBackbone(m, f, "backbone.");
                Map<String, Tensor> backbone = new LinkedHashMap<>();
                m.stateDict().forEach((k, t) -> { if (k.startsWith("backbone.")) backbone.put(k.substring(9), t); });
                assertEquals(318, backbone.size(), "ResNet-50 without fc: 320 - 2 entries");
                assertFormula(model + " backbone", backbone, "");
                head.forEach((k, v) -> assertArrayEquals(v, m.stateDict().get(k).toFloatArray(), model + ": " + k + " unchanged"));
            }
        }
        // open_lth's CIFAR resnet20 into the small DeepLab's backbone
        Path r20 = dir.resolve("resnet20.safetensors");
        try (Module a = ModelRegistry.create("resnet20", 3, 10, 32, 5); Module b = ModelRegistry.create("deeplabv3_resnet20", 3, 4, 32, 6)) {
            a.saveStateDict(r20);
            StateDicts.loadBackbone(b, r20, "backbone.");
            a.stateDict().forEach((k, t) -> {
                if (!k.startsWith("fc.")) assertArrayEquals(t.toFloatArray(), b.stateDict().get("backbone." + k).toFloatArray(), k);
            });
        }
    }

    @Test void backboneMismatchIsRefusedWholly() throws Exception {
        Path f = dir.resolve("resnet101-header.safetensors");
        FormulaWeights.writeHeaderOnly(f, FormulaWeights.layout("tv_resnet101", false));
        try (Module m = ModelRegistry.create("deeplabv3_resnet50", 3, 4, 64, 3)) {
            Map<String, float[]> before = new LinkedHashMap<>();
            m.stateDict().forEach((k, t) -> before.put(k, t.toFloatArray()));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StateDicts.loadBackbone(m, f, "backbone."));
            String first = e.getMessage().lines().findFirst().orElseThrow();
            assertTrue(first.contains("does not fit the backbone 'backbone'") && first.contains("torchvision's resnet101 layout")
                    && first.contains("the backbone has torchvision's resnet50 layout") && first.contains("tv_resnet50"), first);
            assertTrue(e.getMessage().contains("unexpected keys (") && e.getMessage().contains("layer3.6.conv1.weight"), e.getMessage());
            before.forEach((k, v) -> assertArrayEquals(v, m.stateDict().get(k).toFloatArray(), k + " unchanged"));
            // a whole DeepLab file is not a backbone checkpoint: the message says how to load it instead
            Path whole = dir.resolve("deeplab-header.safetensors");
            FormulaWeights.writeHeaderOnly(whole, FormulaWeights.layout("deeplabv3_resnet50", false));
            e = assertThrows(IllegalArgumentException.class, () -> StateDicts.loadBackbone(m, whole, "backbone."));
            assertTrue(e.getMessage().lines().findFirst().orElseThrow().contains("loads with loadStateDict into model deeplabv3_resnet50_aux"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> StateDicts.loadBackbone(m, f, "encoder."));
            assertTrue(e.getMessage().contains("no submodule 'encoder'") && e.getMessage().contains("backbone"), e.getMessage());
        }
    }
}
