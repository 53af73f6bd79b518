package pxprune.px.methods.px;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.core.io.SafeTensors;
import pxprune.kernels.CudaTest;
import pxprune.kernels.Device;
import pxprune.kernels.TestData;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Init;
import pxprune.nn.Interpreter;
import pxprune.nn.Linear;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.nn.StateDicts;
import pxprune.px.Masks;
import pxprune.px.NativeMemoryTest;
import pxprune.px.PrunableLayer;
import pxprune.px.Pruner;
import pxprune.px.ScoringData;
import pxprune.px.TinyModels;
import pxprune.px.TopK;

/**
 * PxScorer's device path ({@link FusedPath}: the fused layer kernels) against its CPU path, the
 * reference: on tiny networks with every rule of docs/px-method.md#pooling-resampling-sums (max pooling, bilinear
 * resampling, adaptive pooling, concatenation, residual sums, batch norm, a linear head with bias) and
 * on the golden ResNet-20 with a real pruning mask, px and px_datafree, relative L2 over all scores
 * at most 1e-6 (the model, hence the gate pass, in float32 on both sides; A and P in float64).
 * <ul>
 *   <li>{@code *OnCpu}: the device path with the model on the CPU (CpuPxKernels), in every build;</li>
 *   <li>{@code @CudaTest} ones: the model moved to CUDA ({@link Module#to}); where there is no GPU they
 *       run against the CPU emulation of the CUDA driver (kernel-logic tests, not GPU tests).</li>
 * </ul>
 */
class PxDeviceTest {
    /*
     * A and P are float64 on both sides (rounding ~1e-16); float32 enters only through the gate pass, whose
     * ReLU signs select the gates: a float32 difference (about 1e-6 relative, cuDNN's deterministic algorithms
     * against the CPU's loops) changes the scores only by flipping a gate whose input lies within ~1e-6 of zero,
     * which these fixtures' inputs do not have (the tests pass under the emulator's PXEMU_PERTURB rounding).
     */
    static final double TOL = 1e-6;

    /** conv-bn-ReLU, one residual block (conv-bn-ReLU-conv-bn + a strided 1x1 shortcut with bn), ReLU, global pooling, linear with bias */
    static final class TinyRes extends Module {
        final Conv2d stem, c1, c2, sc;
        final BatchNorm b0, b1, b2, bs;
        final Linear fc;

        TinyRes(long seed) {
            Init init = new Init(seed);
            stem = registerModule("stem", new Conv2d(2, 3, 3, 1, 1, false, init));
            b0 = registerModule("b0", new BatchNorm(3));
            c1 = registerModule("c1", new Conv2d(3, 4, 3, 2, 1, false, init));
            b1 = registerModule("b1", new BatchNorm(4));
            c2 = registerModule("c2", new Conv2d(4, 4, 3, 1, 1, false, init));
            b2 = registerModule("b2", new BatchNorm(4));
            sc = registerModule("sc", new Conv2d(3, 4, 1, 2, 0, false, init));
            bs = registerModule("bs", new BatchNorm(4));
            fc = registerModule("fc", new Linear(4, 3, true, init));
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            Tensor a = it.relu(b0.forward(stem.forward(x, it), it));
            Tensor h = it.relu(b1.forward(c1.forward(a, it), it));
            Tensor o = b2.forward(c2.forward(h, it), it);
            Tensor s = bs.forward(sc.forward(a, it), it);
            return fc.forward(Ops.globalAvgPool(it.relu(Ops.add(o, s))), it);
        }
    }

    record Case(String name, Supplier<Module> model, int[] sample) {}

    static List<Case> tinyCases() {
        return List.of(
                new Case("mlp with biases", () -> new TinyModels.Mlp(3, true, 6, 5, 4, 3), new int[] {6}),
                new Case("cnn with batch norm", () -> {
                    Module m = new TinyModels.Cnn(4, true, true);
                    TinyModels.perturbBatchNorms(m, 9);
                    return m;
                }, new int[] {1, 4, 4}),
                new Case("max pool 2x2", () -> new TinyModels.PoolNet(5, 4, 2, 2, 0, 2), new int[] {1, 4, 4}),
                new Case("max pool 3x3 pad 1", () -> new TinyModels.PoolNet(6, 5, 3, 2, 1, 2), new int[] {1, 5, 5}),
                new Case("bilinear 3->5", () -> new TinyModels.UpNet(7, 2, 5, false), new int[] {1, 3, 3}),
                new Case("adaptive pool 5->3", () -> new TinyModels.AdaptiveNet(8, 3, 2), new int[] {1, 5, 5}),
                new Case("concatenation", () -> new TinyModels.ConcatNet(9), new int[] {1, 4, 4}),
                new Case("residual", () -> {
                    Module m = new TinyRes(10);
                    TinyModels.perturbBatchNorms(m, 11);
                    return m;
                }, new int[] {2, 6, 6}));
    }

    /** relative L2 distance of b from a over all weights together */
    static double relL2(Map<String, Tensor> a, Map<String, Tensor> b) {
        assertEquals(List.copyOf(a.keySet()), List.copyOf(b.keySet()));
        double num = 0, den = 0;
        for (String k : a.keySet()) {
            assertEquals(Device.CPU, b.get(k).device(), "scores come back on the CPU");
            assertTrue(Arrays.equals(a.get(k).shape(), b.get(k).shape()), k);
            double[] x = a.get(k).toDoubleArray(), y = b.get(k).toDoubleArray();
            for (int i = 0; i < x.length; i++) {
                num += (x[i] - y[i]) * (x[i] - y[i]);
                den += x[i] * x[i];
            }
        }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }

    /** the CPU path's scores (the reference), then the device path's on device (CPU: forced through the fused kernels) */
    static double compare(String what, Module model, Masks masks, ScoringData data, boolean dataFree, Device device) {
        Map<String, Tensor> ref = new PxScorer(dataFree).score(model, masks, data);
        PxScorer fused = device == Device.CPU ? PxScorer.fusedOnCpu(dataFree) : new PxScorer(dataFree);
        if (device != Device.CPU) model.to(device);
        long t0 = System.nanoTime();
        Map<String, Tensor> got;
        try {
            got = fused.score(model, masks, data);
        } finally {
            model.to(Device.CPU);
        }
        double e = relL2(ref, got);
        System.out.printf("PX device path (%s) %s %s: relative L2 %.2e vs the CPU path, %.2fs%n", device, what,
                dataFree ? "px_datafree" : "px", e, (System.nanoTime() - t0) / 1e9);
        assertTrue(e <= TOL, what + " (" + (dataFree ? "px_datafree" : "px") + ", " + device + "): relative L2 " + e + " > " + TOL);
        return e;
    }

    static void tinyNets(Device device) {
        for (Case c : tinyCases()) {
            try (MemoryScope s = MemoryScope.open(); Module model = c.model.get()) {
                model.eval();
                Tensor x = TinyModels.randomInputs(21, 3, c.sample);
                ScoringData data = new ScoringData(x, new int[3], 2, 0, 2); // two chunks: 2 + 1 samples
                Masks masks = TinyModels.randomMasks(model, 0.7, 13);
                for (boolean dataFree : new boolean[] {false, true}) compare(c.name, model, masks, data, dataFree, device);
            }
        }
    }

    @Test void tinyNetsOnCpu() { tinyNets(Device.CPU); }

    @Test @CudaTest void tinyNetsOnCuda() { tinyNets(Device.CUDA); }

    /** the golden ResNet-20 and 2 of its images; masks after one PX round at density 0.5 (CPU) */
    static void goldenResNet20(Device device) throws IOException {
        SafeTensors.File golden = SafeTensors.read(TestData.file("golden/resnet20_seed1.safetensors"));
        try (MemoryScope s = MemoryScope.open(); Module model = ModelRegistry.create("resnet20", 3, 10, 32, 1)) {
            StateDicts.load(model, golden, "weight.");
            model.eval();
            Tensor all = golden.get("x").toTensor();
            Tensor x = Tensor.of(Arrays.copyOf(all.toFloatArray(), 2 * 3 * 32 * 32), 2, 3, 32, 32);
            ScoringData data = new ScoringData(x, new int[2], 10, 0);
            Masks ones = Masks.ones(model);
            // all-ones masks: the device path against the golden scores (w is uniform while the output layer is dense, so
            // 2 images give the golden scores up to one factor, divided out with R = the output layer's scores' sum)
            if (device != Device.CPU) model.to(device);
            Map<String, Tensor> dense;
            try {
                double[] logits; // the model's own eval-mode forward on the device, which the gate pass is
                try (pxprune.core.GradMode g = pxprune.core.GradMode.noGrad()) { logits = model.forward(Ops.to(x, device)).toDoubleArray(); }
                double[] gl = Arrays.copyOf(golden.get("logits_eval").toDoubles(), 20);
                double num = 0, den = 0;
                for (int i = 0; i < gl.length; i++) { num += (logits[i] - gl[i]) * (logits[i] - gl[i]); den += gl[i] * gl[i]; }
                assertTrue(Math.sqrt(num / den) <= 1e-4, "eval logits on " + device + " vs golden: relative L2 " + Math.sqrt(num / den));
                dense = (device == Device.CPU ? PxScorer.fusedOnCpu(false) : new PxScorer()).score(model, ones, data);
            } finally {
                model.to(Device.CPU);
            }
            double factor = sum(golden.get("score.px.fc.weight").toDoubles()) / sum(dense.get("fc.weight").toDoubleArray());
            Map<String, Tensor> expected = new LinkedHashMap<>(), scaled = new LinkedHashMap<>();
            for (String name : ones.names()) {
                expected.put(name, Tensor.of(golden.get("score.px." + name).toDoubles(), ones.shape(name)));
                scaled.put(name, Ops.affine(dense.get(name), factor, 0));
            }
            double eg = relL2(expected, scaled);
            System.out.printf("PX device path (%s) ResNet-20 dense: relative L2 %.2e vs golden (rescaled by %.4g)%n", device, eg, factor);
            assertTrue(eg <= 1e-4, "device path vs golden PX scores: " + eg);
            Masks half = TopK.global(new PxScorer().score(model, ones, data), ones, 0.5);
            assertEquals(TopK.keepCount(ones.total(), 0.5), half.kept());
            compare("ResNet-20, density 0.5", model, half, data, false, device);
            compare("ResNet-20, density 0.5", model, half, data, true, device);
        }
    }

    /** A applies the gate of every ReLU that takes a conv(-bn) output in that conv's epilogue: ResNet-20's stem and block conv1s */
    @Test void gatesFuseIntoTheConvolutionsThatFeedThem() throws IOException {
        SafeTensors.File golden = SafeTensors.read(TestData.file("golden/resnet20_seed1.safetensors"));
        try (MemoryScope s = MemoryScope.open(); Module model = ModelRegistry.create("resnet20", 3, 10, 32, 1)) {
            model.eval();
            Tensor x = TinyModels.randomInputs(3, 2, 3, 32, 32);
            FusedPath px = new FusedPath(new PxScorer().name(), model, PrunableLayer.of(model));
            px.activationSums(Masks.ones(model), new ScoringData(x, new int[2], 10, 0), false);
            assertEquals(19, px.reluCalls);
            assertEquals(10, px.epilogueGates, "stem + 9 block conv1s: relu(bn(conv(x))); the 9 block outputs relu(a sum) are gateMul");
        }
        try (MemoryScope s = MemoryScope.open(); Module model = new TinyModels.Mlp(3, true, 6, 5, 4, 3)) {
            FusedPath px = new FusedPath(new PxScorer().name(), model, PrunableLayer.of(model));
            px.activationSums(Masks.ones(model), new ScoringData(TinyModels.randomInputs(4, 3, 6), new int[3], 3, 0), false);
            assertEquals(2, px.epilogueGates, "relu(linear(x)) twice");
        }
    }

    /** the device path frees everything it allocates, byte gates included (host memory, with the model on the CPU) */
    @Test void devicePathFreesWhatItAllocates() {
        try (Module m = ModelRegistry.create("resnet20", 1, 10, 8, 1); Tensor x = TinyModels.randomInputs(5, 6, 1, 8, 8)) {
            m.eval();
            ScoringData d = new ScoringData(x, new int[6], 10, 1, 4); // two chunks
            Masks masks = TinyModels.randomMasks(m, 0.8, 6);
            for (boolean dataFree : new boolean[] {false, true}) {
                try (MemoryScope s = MemoryScope.open()) { PxScorer.fusedOnCpu(dataFree).score(m, masks, d); } // warm up
                long before = NativeMemoryTest.settled();
                for (int i = 0; i < 2; i++)
                    try (MemoryScope s = MemoryScope.open()) { PxScorer.fusedOnCpu(dataFree).score(m, masks, d); }
                assertEquals(before, org.bytedeco.javacpp.Pointer.totalBytes(), "native bytes after the device path (dataFree=" + dataFree + ")");
            }
        }
    }

    static double sum(double[] a) { double s = 0; for (double v : a) s += v; return s; }

    @Test void goldenResNet20OnCpu() throws IOException { goldenResNet20(Device.CPU); }

    @Test @CudaTest void goldenResNet20OnCuda() throws IOException { goldenResNet20(Device.CUDA); }

    /**
     * a multi-round prune with the model on CUDA keeps the weights the CPU prune keeps, up to ReLU ties: the
     * same count (the top-k), and the same set but for at most 1% of it. Two float32 evaluations that sum in
     * different orders (cuDNN's algorithm against the CPU's loops, about 1e-6 relative) put a ReLU input
     * within about 1e-5 of zero on either side, and one flipped gate moves every score upstream of it by
     * about 1e-3 relative (nn's GoldenTies measures both on the golden ResNet-20), which reorders only the
     * weights whose scores lie that close to the cut; on exact arithmetic (the emulator) the sets are equal.
     */
    @Test @CudaTest void pruneOnCudaKeepsTheCpuSet() {
        Pruner.Config cfg = new Pruner.Config(0.3, 3);
        Masks[] result = new Masks[2];
        for (int run = 0; run < 2; run++) {
            try (MemoryScope s = MemoryScope.open(); Module model = new TinyRes(31)) {
                TinyModels.perturbBatchNorms(model, 32);
                Tensor x = TinyModels.randomInputs(33, 4, 2, 6, 6);
                if (run == 1) model.to(Device.CUDA);
                result[run] = Pruner.run(model, new PxScorer(), new ScoringData(x, new int[4], 3, 1), cfg, null, null).masks();
                assertEquals(run == 1 ? Device.CUDA : Device.CPU, model.device());
            }
        }
        assertEquals(result[0].kept(), result[1].kept());
        long differ = 0;
        for (String name : result[0].names()) {
            float[] a = result[0].values(name), b = result[1].values(name);
            for (int i = 0; i < a.length; i++) if ((a[i] != 0) != (b[i] != 0)) differ++;
        }
        assertTrue(differ <= Math.max(2, result[0].kept() / 50), differ + " weights kept on one side only, of " + result[0].kept()
                + ": more than ReLU ties at the cut explain");
    }
}
