package pxprune.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;

class ModelsTest {
    static List<String> names() { return ModelRegistry.names(); }

    /**
     * Every registered model builds and runs forward in training and eval mode with the output
     * shape its kind promises ([N, classes] or, for segmentation, [N, classes, H, W]). The
     * torchvision VGGs (130M parameters, seconds of Gaussian draws each) and the DeepLabs other than
     * deeplabv3_resnet50 and deeplabv3_resnet20 are built with {@link Init#zeros()} (their
     * forward with real weights is GoldenTorchvisionModelsTest's).
     */
    @ParameterizedTest @MethodSource("names")
    void buildsAndRunsForward(String name) {
        boolean seg = ModelRegistry.isSegmentation(name);
        int size = name.equals("resnet18") || name.equals("resnet50") ? 64 : name.startsWith("deeplabv3plus") ? 33 : 32;
        int batch = name.equals("resnet50") ? 1 : 2, classes = name.startsWith("resnet") && size == 64 ? 200 : seg ? 3 : 10;
        boolean big = name.startsWith("tv_vgg") || (name.startsWith("deeplabv3") && !name.equals("deeplabv3_resnet50")
                && !name.equals("deeplabv3_resnet20"));
        Init init = big ? Init.zeros() : new Init(1);
        try (Module m = ModelRegistry.create(name, 3, classes, size, init);
             MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
            int[] shape = seg ? new int[] {batch, classes, size, size} : new int[] {batch, classes};
            assertEquals(seg, m instanceof SegmentationModel, name + ": isSegmentation");
            Tensor y = m.forward(TestSupport.randn(2, batch, 3, size, size));
            assertArrayEquals(shape, y.shape(), name);
            for (float v : y.toFloatArray()) assertTrue(Float.isFinite(v), name + " output finite");
            m.eval();
            assertArrayEquals(shape, m.forward(TestSupport.randn(2, batch, 3, size, size)).shape());
        }
    }

    @Test void registryListsNamesAndRejectsUnknown() {
        assertEquals(List.of("resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "vgg11", "vgg11_bn", "vgg13",
                "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "resnet18", "resnet50", "tv_resnet18", "tv_resnet34",
                "tv_resnet50", "tv_resnet101", "tv_vgg11", "tv_vgg11_bn", "tv_vgg16", "tv_vgg16_bn", "deeplabv3_resnet50",
                "deeplabv3_resnet50_aux", "deeplabv3_resnet101", "deeplabv3_resnet101_aux", "deeplabv3plus_resnet50",
                "deeplabv3plus_resnet101", "deeplabv3_resnet20"), ModelRegistry.names());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelRegistry.create("resnet21", 3, 10, 32, 1));
        assertTrue(e.getMessage().contains("resnet21") && e.getMessage().contains("resnet20") && e.getMessage().contains("vgg19_bn"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelRegistry.create("vgg16", 3, 10, 8, 1));
        e = assertThrows(IllegalArgumentException.class, () -> ModelRegistry.create("tv_vgg16", 3, 10, 31, 1));
        assertTrue(e.getMessage().contains("at least 32x32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelRegistry.isSegmentation("unet"));
    }

    @Test void segmentationMetadata() {
        assertEquals(List.of("deeplabv3_resnet50", "deeplabv3_resnet50_aux", "deeplabv3_resnet101", "deeplabv3_resnet101_aux",
                "deeplabv3plus_resnet50", "deeplabv3plus_resnet101", "deeplabv3_resnet20"), ModelRegistry.segmentationNames());
        assertFalse(ModelRegistry.isSegmentation("tv_resnet50"));
        assertTrue(ModelRegistry.isSegmentation("deeplabv3_resnet20"));
        assertEquals(32, ModelRegistry.minInputSize("tv_vgg11_bn"));
        assertEquals(1, ModelRegistry.minInputSize("deeplabv3_resnet101"));
        for (String n : ModelRegistry.segmentationNames()) {
            try (Module m = ModelRegistry.create(n, 3, 4, 32, Init.zeros())) {
                SegmentationModel s = (SegmentationModel) m;
                assertEquals(n.endsWith("_aux"), s.hasAux(), n);
                assertEquals(4, s.numClasses(), n);
            }
        }
    }

    @Test void cifarResNetParameterNamesAndCount() {
        try (Module m = ModelRegistry.create("resnet20", 3, 10, 32, 1)) {
            Map<String, Tensor> p = m.namedParameters();
            assertEquals(272_474, m.parameterCount());
            assertArrayEquals(new int[] {32, 16, 1, 1}, p.get("blocks.3.shortcut.0.weight").shape());
            assertArrayEquals(new int[] {64, 32, 1, 1}, p.get("blocks.6.shortcut.0.weight").shape());
            assertNotNull(p.get("blocks.3.shortcut.1.weight"));
            assertFalse(p.containsKey("blocks.4.shortcut.0.weight"));
            assertArrayEquals(new int[] {16, 3, 3, 3}, p.get("conv.weight").shape());
            assertArrayEquals(new int[] {10, 64}, p.get("fc.weight").shape());
            assertNotNull(p.get("fc.bias"));
            assertFalse(p.containsKey("conv.bias"));
            assertNotNull(m.stateDict().get("blocks.8.bn2.running_var"));
            // every parameter and buffer name of the golden PyTorch model, none else
            List<String> golden = new ArrayList<>();
            TestSupport.resnet20Golden().entries().keySet().forEach(k -> { if (k.startsWith("weight.")) golden.add(k.substring(7)); });
            assertEquals(golden.stream().sorted().toList(), m.stateDict().keySet().stream().sorted().toList());
        }
        try (Module m = ModelRegistry.create("resnet110", 3, 10, 32, 1)) {
            assertEquals(1_730_714, m.parameterCount()); // He et al.: 1.7M
            assertNotNull(m.namedParameters().get("blocks.53.bn2.weight"));
        }
        try (Module m = ModelRegistry.create("resnet56", 3, 100, 32, 1)) { assertEquals(861_620, m.parameterCount()); }
    }

    @Test void vggParameterNamesAndCount() {
        try (Module m = ModelRegistry.create("vgg16_bn", 3, 10, 32, 1)) {
            Map<String, Tensor> p = m.namedParameters();
            // open_lth cifar_vgg: 13 convs with bias, 13 BNs, fc 512 -> 10
            assertEquals(14_728_266, m.parameterCount());
            assertArrayEquals(new int[] {64, 3, 3, 3}, p.get("layers.0.conv.weight").shape());
            assertNotNull(p.get("layers.0.conv.bias"));
            assertNotNull(p.get("layers.0.bn.weight"));
            assertFalse(p.containsKey("layers.2.conv.weight"), "layers.2 is a max pool");
            assertArrayEquals(new int[] {128, 64, 3, 3}, p.get("layers.3.conv.weight").shape());
            assertArrayEquals(new int[] {512, 512, 3, 3}, p.get("layers.16.conv.weight").shape());
            assertArrayEquals(new int[] {10, 512}, p.get("fc.weight").shape());
        }
        try (Module m = ModelRegistry.create("vgg16", 3, 10, 32, 1)) {
            assertEquals(14_728_266 - 8_448, m.parameterCount());
            assertFalse(m.namedParameters().containsKey("layers.0.bn.weight"));
        }
        try (Module m = ModelRegistry.create("vgg19_bn", 3, 100, 32, 1)) {
            assertArrayEquals(new int[] {512, 512, 3, 3}, m.namedParameters().get("layers.19.conv.weight").shape());
        }
    }

    @Test void torchvisionResNetNamesAndCounts() {
        try (Module m = ModelRegistry.create("resnet50", 3, 1000, 224, 1)) {
            assertEquals(25_557_032, m.parameterCount());
            Map<String, Tensor> p = m.namedParameters();
            assertArrayEquals(new int[] {64, 3, 7, 7}, p.get("conv1.weight").shape());
            assertArrayEquals(new int[] {256, 64, 1, 1}, p.get("layer1.0.downsample.0.weight").shape());
            assertArrayEquals(new int[] {512, 256, 1, 1}, p.get("layer2.0.downsample.0.weight").shape());
            assertArrayEquals(new int[] {128, 128, 3, 3}, p.get("layer2.0.conv2.weight").shape());
            assertNotNull(p.get("layer4.2.bn3.bias"));
            assertFalse(p.containsKey("layer2.1.downsample.0.weight"));
            assertArrayEquals(new int[] {1000, 2048}, p.get("fc.weight").shape());
            assertEquals(320, m.stateDict().size()); // torchvision resnet50().state_dict(): 161 params + 159 buffers
        }
        try (Module m = ModelRegistry.create("resnet18", 3, 200, 64, 1)) {
            Map<String, Tensor> p = m.namedParameters();
            // torchvision resnet18(num_classes=200) = 11,279,112, minus the 7x7 stem (9,408) plus a 3x3 one (1,728)
            assertEquals(11_271_432, m.parameterCount());
            assertArrayEquals(new int[] {64, 3, 3, 3}, p.get("conv1.weight").shape());
            assertArrayEquals(new int[] {128, 64, 1, 1}, p.get("layer2.0.downsample.0.weight").shape());
            assertArrayEquals(new int[] {128, 64, 3, 3}, p.get("layer2.0.conv1.weight").shape());
            assertFalse(p.containsKey("layer1.0.downsample.0.weight"));
            assertNotNull(m.stateDict().get("layer4.1.bn2.num_batches_tracked"));
        }
    }

    @Test void sameSeedSameWeightsOtherSeedOther() {
        try (Module a = ModelRegistry.create("resnet20", 3, 10, 32, 4); Module b = ModelRegistry.create("resnet20", 3, 10, 32, 4);
             Module c = ModelRegistry.create("resnet20", 3, 10, 32, 5)) {
            a.namedParameters().forEach((k, t) -> assertArrayEquals(t.toFloatArray(), b.namedParameters().get(k).toFloatArray(), k));
            assertFalse(java.util.Arrays.equals(a.namedParameters().get("conv.weight").toFloatArray(),
                    c.namedParameters().get("conv.weight").toFloatArray()));
            // Kaiming normal, fan-in: std sqrt(2 / fan_in)
            float[] w = a.namedParameters().get("blocks.7.conv1.weight").toFloatArray();
            double ss = 0;
            for (float v : w) ss += v * v;
            assertEquals(Math.sqrt(2.0 / (64 * 9)), Math.sqrt(ss / w.length), 0.05 * Math.sqrt(2.0 / (64 * 9)));
        }
    }

    @Test void smallDigitsInput() {
        try (Module m = ModelRegistry.create("resnet20", 1, 10, 8, 1); MemoryScope s = MemoryScope.open()) {
            Tensor y = m.forward(TestSupport.randn(1, 4, 1, 8, 8));
            assertArrayEquals(new int[] {4, 10}, y.shape());
            Ops.crossEntropy(y, TestSupport.labels(4, 10)).backward();
            for (Map.Entry<String, Tensor> p : m.namedParameters().entrySet()) assertNotNull(p.getValue().grad(), p.getKey());
        }
    }

    @Test void prunableWeights() {
        try (Module m = ModelRegistry.create("resnet20", 3, 10, 32, 1)) {
            Map<String, Tensor> w = Prunable.prunableWeights(m);
            assertEquals(22, w.size()); // stem, 18 block convs, 2 shortcuts, fc
            List<String> names = List.copyOf(w.keySet());
            assertEquals("conv.weight", names.get(0));
            assertEquals("blocks.0.conv1.weight", names.get(1));
            assertTrue(names.contains("blocks.3.shortcut.0.weight"));
            assertEquals("fc.weight", names.get(21));
            assertTrue(w.get("conv.weight") == m.namedParameters().get("conv.weight"), "the live parameter");
        }
        try (Module m = ModelRegistry.create("vgg11", 3, 10, 32, 1)) {
            assertEquals(9, Prunable.prunableWeights(m).size());
        }
        try (BatchNorm bn = new BatchNorm(4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Prunable.prunableWeights(bn));
            assertTrue(e.getMessage().contains("no prunable weights"), e.getMessage());
        }
    }

    @Test void routesThroughTheInterpreter() {
        int[] counts = new int[4];
        Interpreter counting = new Interpreter() {
            @Override public Tensor conv2d(Conv2d m, Tensor x) { counts[0]++; return Interpreter.super.conv2d(m, x); }
            @Override public Tensor linear(Linear m, Tensor x) { counts[1]++; return Interpreter.super.linear(m, x); }
            @Override public Tensor batchNorm(BatchNorm m, Tensor x) { counts[2]++; return Interpreter.super.batchNorm(m, x); }
            @Override public Tensor relu(Tensor x) { counts[3]++; return Interpreter.super.relu(x); }
        };
        try (Module m = ModelRegistry.create("resnet20", 3, 10, 8, 1); MemoryScope s = MemoryScope.open()) {
            m.forward(TestSupport.randn(1, 2, 3, 8, 8), counting);
            assertArrayEquals(new int[] {21, 1, 21, 19}, counts);
        }
        java.util.Arrays.fill(counts, 0);
        try (Module m = ModelRegistry.create("resnet50", 3, 10, 32, 1); MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
            m.eval();
            m.forward(TestSupport.randn(1, 1, 3, 32, 32), counting);
            assertArrayEquals(new int[] {53, 1, 53, 49}, counts);
        }
    }
}
