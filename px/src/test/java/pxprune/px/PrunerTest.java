package pxprune.px;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.core.io.Json;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.px.methods.ScorerRegistry;

class PrunerTest {
    @TempDir Path dir;

    @Test void roundsHitTheirTargetsExactly() throws Exception {
        try (MemoryScope s = MemoryScope.open(); var model = new TinyModels.Cnn(3, true, false)) {
            Tensor x = TinyModels.randomInputs(5, 8, 1, 4, 4);
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            Pruner.Config cfg = new Pruner.Config(0.2, 5);
            Pruner.Result r = Pruner.run(model, ScorerRegistry.create("px"), new ScoringData(x, new int[8], 2, 1), cfg, null,
                    new PrintStream(log, true));
            long n = r.masks().total();
            assertEquals(5, r.rounds().size());
            for (Pruner.Round round : r.rounds()) {
                assertEquals(Schedule.EXPONENTIAL.density(round.round(), 5, 0.2), round.targetDensity());
                assertEquals(TopK.keepCount(n, round.targetDensity()), round.kept());
                assertTrue(round.connected());
            }
            assertEquals(TopK.keepCount(n, 0.2), r.masks().kept());
            assertEquals(5, log.toString().lines().count(), log.toString());
            // the model's weights end multiplied by the masks
            float[] w = model.conv2.weight().toFloatArray(), m = r.masks().values("conv2.weight");
            for (int i = 0; i < w.length; i++) if (m[i] == 0) assertTrue(w[i] == 0, "pruned weight " + w[i]);
        }
    }

    @Test void perLayerSelectionAndStartingMasks() {
        try (MemoryScope s = MemoryScope.open(); var model = new TinyModels.Mlp(4, 6, 8, 8, 3)) {
            Tensor x = TinyModels.randomInputs(6, 5, 6);
            Masks start = TinyModels.randomMasks(model, 0.9, 1);
            Pruner.Result r = Pruner.run(model, ScorerRegistry.create("magnitude"), new ScoringData(x, new int[5], 3, 1),
                    new Pruner.Config(0.5, 2, Schedule.LINEAR, true), start, null);
            for (String name : r.masks().names()) {
                assertTrue(r.masks().kept(name) <= TopK.keepCount(r.masks().numel(name), 0.5), name);
                float[] a = start.values(name), b = r.masks().values(name);
                for (int i = 0; i < a.length; i++) assertTrue(a[i] == 1 || b[i] == 0, "revived " + name + "[" + i + "]");
            }
        }
    }

    @Test void connectivityDetectsACollapsedLayer() {
        try (MemoryScope s = MemoryScope.open(); var model = new TinyModels.Mlp(4, 3, 4, 4, 2)) {
            Masks ones = Masks.ones(model);
            assertArrayEquals(new int[] {2, 2}, Connectivity.reachableOutputs(model, ones, new int[] {1, 3}));
            Map<String, float[]> v = new java.util.LinkedHashMap<>();
            Map<String, int[]> sh = new java.util.LinkedHashMap<>();
            for (String n : ones.names()) { v.put(n, ones.values(n)); sh.put(n, ones.shape(n)); }
            // output 1 loses every incoming weight: one output of two reachable
            for (int i = 0; i < 4; i++) v.get("fc2.weight")[4 + i] = 0;
            assertArrayEquals(new int[] {1, 2}, Connectivity.reachableOutputs(model, Masks.of(v, sh), new int[] {1, 3}));
            assertTrue(Connectivity.connected(model, Masks.of(v, sh), new int[] {1, 3}));
            // the middle layer fully pruned: no path at all
            java.util.Arrays.fill(v.get("fc1.weight"), 0f);
            assertFalse(Connectivity.connected(model, Masks.of(v, sh), new int[] {1, 3}));
            // paths cut without any layer emptied: fc0 keeps only hidden unit 0, fc1 reads only from unit 1
            Map<String, float[]> c = new java.util.LinkedHashMap<>();
            for (String n : ones.names()) c.put(n, ones.values(n));
            java.util.Arrays.fill(c.get("fc0.weight"), 0f);
            for (int i = 0; i < 3; i++) c.get("fc0.weight")[i] = 1; // row 0: hidden unit 0
            java.util.Arrays.fill(c.get("fc1.weight"), 0f);
            for (int o = 0; o < 4; o++) c.get("fc1.weight")[o * 4 + 1] = 1; // column 1
            assertFalse(Connectivity.connected(model, Masks.of(c, sh), new int[] {1, 3}));
        }
    }

    @Test void pxPrunesResNet20To0018In100RoundsStayingConnected() {
        try (MemoryScope s = MemoryScope.open(); Module model = ModelRegistry.create("resnet20", 1, 10, 8, 1)) {
            Tensor x = TinyModels.randomInputs(7, 100, 1, 8, 8);
            int[] y = new int[100];
            for (int i = 0; i < 100; i++) y[i] = i % 10;
            long t0 = System.nanoTime();
            Pruner.Result r = Pruner.run(model, ScorerRegistry.create("px"), new ScoringData(x, y, 10, 1),
                    new Pruner.Config(0.018, 100), null, System.err);
            double sec = (System.nanoTime() - t0) / 1e9;
            long n = r.masks().total();
            for (Pruner.Round round : r.rounds()) {
                assertEquals(TopK.keepCount(n, round.targetDensity()), round.kept(), "round " + round.round());
                assertTrue(round.connected(), "round " + round.round() + " collapsed");
            }
            assertEquals(TopK.keepCount(n, 0.018), r.masks().kept());
            Pruner.Round last = r.rounds().get(99);
            System.out.printf("px ResNet-20 (1x8x8) to density 0.018 in 100 rounds: %d of %d kept, %d/%d outputs reachable, %.1fs%n",
                    last.kept(), n, last.reachableOutputs(), last.outputs(), sec);
            assertTrue(sec < 60, "took " + sec + " s");
        }
    }

    /** convolutions with no ReLU between them: path counts reach ~288^20, beyond float32 and within float64 */
    static final class LinearChain extends Module {
        final pxprune.nn.Conv2d[] convs = new pxprune.nn.Conv2d[20];
        final pxprune.nn.Linear fc;

        LinearChain() {
            pxprune.nn.Init init = new pxprune.nn.Init(5);
            for (int i = 0; i < convs.length; i++)
                convs[i] = registerModule("conv" + i, new pxprune.nn.Conv2d(i == 0 ? 1 : 32, 32, 3, 1, 1, false, init));
            fc = registerModule("fc", new pxprune.nn.Linear(32, 4, false, init));
        }

        @Override public Tensor forward(Tensor x, pxprune.nn.Interpreter it) {
            for (pxprune.nn.Conv2d c : convs) x = c.forward(x, it);
            return fc.forward(it.flatten(it.globalAvgPool(it.relu(x)), 1), it);
        }
    }

    /** the check runs in float32 and, where a path count leaves float32's range, again in float64: the same answer */
    @Test void connectivityInFloat32FallsBackToFloat64OnOverflow() {
        try (Module m = new LinearChain().eval(); MemoryScope s = MemoryScope.open()) {
            int[] shape = {1, 1, 6, 6}; // one sample, as ScoringData.sampleShape gives it
            Masks dense = Masks.ones(m);
            org.junit.jupiter.api.Assertions.assertNull(Connectivity.reachableOutputs(m, dense, shape, pxprune.kernels.DType.F32),
                    "the float32 pass should see its counts overflow");
            int[] f64 = Connectivity.reachableOutputs(m, dense, shape, pxprune.kernels.DType.F64);
            assertArrayEquals(new int[] {4, 4}, f64);
            assertArrayEquals(f64, Connectivity.reachableOutputs(m, dense, shape));
            // a sparse mask stays in float32's range, and float32 agrees with float64 on it
            Masks sparse = TinyModels.randomMasks(m, 0.05, 2);
            int[] f32 = Connectivity.reachableOutputs(m, sparse, shape, pxprune.kernels.DType.F32);
            assertTrue(f32 != null, "no overflow at density 0.05");
            assertArrayEquals(Connectivity.reachableOutputs(m, sparse, shape, pxprune.kernels.DType.F64), f32);
        }
    }
}
