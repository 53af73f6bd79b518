package pxprune.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.nn.models.ResNet;

/** The segmentation models and the torchvision networks beyond the golden logits: structure, counts, training, errors. */
class SegmentationModelsTest {
    /** torchvision's num_params (weights metadata / sum(p.numel())) with its default class counts */
    @Test void parameterCountsEqualTorchvision() {
        Object[][] expected = {
                {"tv_resnet18", 1000, 11_689_512L}, {"tv_resnet34", 1000, 21_797_672L}, {"tv_resnet50", 1000, 25_557_032L},
                {"tv_resnet101", 1000, 44_549_160L}, {"tv_vgg11", 1000, 132_863_336L}, {"tv_vgg11_bn", 1000, 132_868_840L},
                {"tv_vgg16", 1000, 138_357_544L}, {"tv_vgg16_bn", 1000, 138_365_992L},
                {"deeplabv3_resnet50_aux", 21, 42_004_074L}, {"deeplabv3_resnet101_aux", 21, 60_996_202L},
                {"deeplabv3_resnet50", 21, 42_004_074L - (1024 * 256 * 9 + 256 * 2 + 256 * 21 + 21)}};
        for (Object[] e : expected)
            try (Module m = ModelRegistry.create((String) e[0], 3, (Integer) e[1], 224, Init.zeros())) {
                assertEquals((long) e[2], m.parameterCount(), (String) e[0]);
            }
    }

    @Test void dilatedBackboneFollowsTorchvisionMakeLayer() {
        try (Module m = ModelRegistry.create("deeplabv3_resnet50", 3, 5, 65, Init.zeros()); MemoryScope s = MemoryScope.open();
             GradMode g = GradMode.noGrad()) {
            Map<String, Module> mods = m.namedModules();
            // layer3 dilated: its first block keeps dilation 1, the others 2; layer4: first 2, then 4
            int[][] expect = {{2, 0, 1, 2}, {2, 1, 1, 1}, {3, 0, 1, 1}, {3, 5, 2, 1}, {4, 0, 2, 1}, {4, 1, 4, 1}, {4, 2, 4, 1}};
            for (int[] e : expect) {
                Conv2d c = (Conv2d) mods.get("backbone.layer" + e[0] + "." + e[1] + ".conv2");
                assertEquals(e[2], c.dilation, c + " dilation");
                assertEquals(e[2], c.padding, "padding = dilation");
                assertEquals(e[0] == 2 && e[1] == 0 ? 2 : 1, c.stride, "layer" + e[0] + "." + e[1] + ".conv2 stride");
            }
            assertEquals(1, ((Conv2d) mods.get("backbone.layer3.0.downsample.0")).stride, "a dilated stage's downsample has stride 1");
            assertEquals(2, ((Conv2d) mods.get("backbone.layer2.0.downsample.0")).stride);
            ResNet backbone = (ResNet) mods.get("backbone");
            assertEquals(8, backbone.outputStride());
            assertFalse(m.stateDict().containsKey("backbone.fc.weight"), "a backbone has no fc");
            Tensor[] f = backbone.stages(TestSupport.randn(1, 1, 3, 65, 65), Interpreter.STANDARD);
            int[] sides = Arrays.stream(f).mapToInt(t -> t.size(2)).toArray();
            assertArrayEquals(new int[] {17, 9, 9, 9}, sides, "layer1..4 sides for 65 px (output stride 8)");
            assertArrayEquals(new int[] {256, 512, 1024, 2048}, backbone.stageChannels());
        }
        try (Module m = ModelRegistry.create("deeplabv3plus_resnet50", 3, 5, 65, Init.zeros())) {
            ResNet backbone = (ResNet) m.namedModules().get("backbone");
            assertEquals(16, backbone.outputStride());
            assertArrayEquals(new boolean[] {false, false, true}, backbone.replaceStrideWithDilation());
            assertEquals(6, ((Conv2d) m.namedModules().get("classifier.aspp.convs.1.0")).dilation);
            assertArrayEquals(new int[] {256, 304, 3, 3}, m.stateDict().get("classifier.classifier.0.weight").shape());
            assertArrayEquals(new int[] {48, 256, 1, 1}, m.stateDict().get("classifier.project.0.weight").shape());
        }
        try (Module m = ModelRegistry.create("tv_resnet50", 3, 10, 64, Init.zeros())) {
            assertEquals(32, ((ResNet) m).outputStride());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ResNet(new int[] {2, 2, 2, 2}, false, false, new boolean[] {false, true, true}, 3, 10, Init.zeros()));
        assertTrue(e.getMessage().contains("BasicBlock") && e.getMessage().contains("Bottleneck"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new ResNet(new int[] {3, 4, 6, 3}, true, false, new boolean[] {true}, 3, 10, Init.zeros()));
    }

    @Test void resnet50IsTvResnet50() {
        try (Module a = ModelRegistry.create("resnet50", 3, 10, 64, Init.zeros()); Module b = ModelRegistry.create("tv_resnet50", 3, 10, 64, Init.zeros())) {
            assertEquals(FormulaWeights.keysOf(a).stream().map(k -> k.name() + Arrays.toString(k.shape())).toList(),
                    FormulaWeights.keysOf(b).stream().map(k -> k.name() + Arrays.toString(k.shape())).toList());
        }
    }

    @Test void badInputsNameTheProblem() {
        try (Module m = ModelRegistry.create("deeplabv3_resnet20", 3, 4, 32, 1); MemoryScope s = MemoryScope.open()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(TestSupport.randn(1, 2, 1, 32, 32)));
            assertTrue(e.getMessage().contains("[N, 3, H, W]") && e.getMessage().contains("[2, 1, 32, 32]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> m.forward(TestSupport.randn(1, 3, 32, 32)));
            assertTrue(e.getMessage().contains("[3, 32, 32]"), e.getMessage());
        }
        try (Module m = ModelRegistry.create("tv_vgg11", 3, 4, 32, Init.zeros()); MemoryScope s = MemoryScope.open()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(TestSupport.randn(1, 1, 3, 31, 40)));
            assertTrue(e.getMessage().contains("at least 32x32") && e.getMessage().contains("[1, 3, 31, 40]"), e.getMessage());
        }
    }

    /** the demo model: a few SGD steps on 32x32 images cut the per-pixel loss (and take seconds) */
    @Test void smallDeepLabTrainsInSeconds() {
        int n = 8, side = 32, classes = 3;
        float[] x = new float[n * 3 * side * side];
        int[] y = new int[n * side * side];
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        for (int i = 0; i < n; i++) {
            int cx = 8 + r.nextInt(16), cy = 8 + r.nextInt(16), rad = 4 + r.nextInt(5), cls = 1 + i % 2;
            for (int h = 0; h < side; h++)
                for (int w = 0; w < side; w++) {
                    boolean in = (h - cy) * (h - cy) + (w - cx) * (w - cx) <= rad * rad;
                    int label = in ? cls : 0;
                    y[(i * side + h) * side + w] = label;
                    for (int c = 0; c < 3; c++)
                        x[((i * 3 + c) * side + h) * side + w] = (float) ((label == c ? 1.0 : 0.0) + 0.3 * (r.nextDouble() - 0.5));
                }
        }
        try (Module m = ModelRegistry.create("deeplabv3_resnet20", 3, classes, side, 1); SGD opt = SGD.of(m, 0.05, 0.9, 0, false);
             Tensor xs = Tensor.of(x, n, 3, side, side); Tensor ys = Tensor.ofInts(y, n, side, side)) {
            long t0 = System.nanoTime();
            double first = 0, last = 0;
            for (int step = 0; step < 25; step++) {
                try (MemoryScope s = MemoryScope.open()) {
                    Dropout.reseed(m, step);
                    Tensor loss = Ops.crossEntropy2d(m.forward(xs), ys, 255);
                    opt.zeroGrad();
                    loss.backward();
                    opt.step();
                    last = loss.item();
                    if (step == 0) first = last;
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("deeplabv3_resnet20: 25 steps of 8 32x32 images in %.1f s, loss %.3f -> %.3f%n", seconds, first, last);
            assertTrue(last < 0.5 * first, "loss " + first + " -> " + last);
        }
    }

    @Test void auxModelGivesBothOutputsAndGradients() {
        try (Module m = ModelRegistry.create("deeplabv3_resnet50_aux", 3, 3, 33, 2); MemoryScope s = MemoryScope.open()) {
            Tensor x = TestSupport.randn(4, 2, 3, 33, 33);
            Map<String, Tensor> out = ((SegmentationModel) m).forwardAll(x, Interpreter.STANDARD);
            assertArrayEquals(new int[] {2, 3, 33, 33}, out.get("out").shape());
            assertArrayEquals(new int[] {2, 3, 33, 33}, out.get("aux").shape());
            int[] labels = new int[2 * 33 * 33];
            for (int i = 0; i < labels.length; i++) labels[i] = i % 7 == 0 ? 255 : i % 3;
            Tensor y = Tensor.ofInts(labels, 2, 33, 33);
            Tensor loss = Ops.add(Ops.crossEntropy2d(out.get("out"), y, 255), Ops.affine(Ops.crossEntropy2d(out.get("aux"), y, 255), 0.5, 0));
            loss.backward();
            for (Map.Entry<String, Tensor> p : m.namedParameters().entrySet()) {
                if (p.getKey().startsWith("backbone.layer4.")) continue; // checked below: the aux head sees layer3 only
                assertNotNull(p.getValue().grad(), p.getKey());
            }
            assertNotNull(m.namedParameters().get("backbone.layer4.2.conv3.weight").grad());
        }
    }

    @Test void dropoutIsReachableAndReseeded() {
        try (Module m = ModelRegistry.create("deeplabv3_resnet20", 3, 3, 32, 1); MemoryScope s = MemoryScope.open(); GradMode g = GradMode.noGrad()) {
            Tensor x = TestSupport.randn(5, 2, 3, 32, 32);
            assertTrue(m.namedModules().get("classifier.0.project.3") instanceof Dropout);
            Dropout.reseed(m, 1);
            float[] a = m.forward(x).toFloatArray();
            Dropout.reseed(m, 1);
            float[] b = m.forward(x).toFloatArray();
            Dropout.reseed(m, 2);
            float[] c = m.forward(x).toFloatArray();
            assertArrayEquals(a, b, "same seed, same masks (batch statistics are recomputed)");
            assertFalse(Arrays.equals(a, c), "another seed, other masks");
        }
    }
}
