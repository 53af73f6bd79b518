package pxprune.experiments.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.core.io.Json;
import pxprune.datasets.Dataset;
import pxprune.datasets.Synthetic;
import pxprune.kernels.CudaTest;
import pxprune.kernels.DType;
import pxprune.kernels.Device;
import pxprune.nn.Module;
import pxprune.nn.SGD;
import pxprune.px.Masks;
import pxprune.px.PrunableLayer;
import pxprune.px.TinyModels;
import pxprune.experiments.cli.MainTest;

/**
 * Training on the CUDA backend against the CPU: masked SGD steps, a checkpoint written from the
 * device and resumed onto it, and a whole tiny {@code run} with {@code device=cuda}. Kernel-logic
 * tests: without a GPU they run against the CPU emulation of the CUDA driver (kept tiny: it is slow).
 */
@CudaTest
class CudaTrainingTest {
    static final int N = 6;
    static final int[] LABELS = {0, 1, 1, 0, 1, 0};

    /** a tiny CNN with batch norm and biases, on device, with batch norm statistics off their defaults */
    static Module cnn(long seed, Device device) {
        Module m = new TinyModels.Cnn(seed, true, true);
        TinyModels.perturbBatchNorms(m, seed + 1);
        return m.to(device);
    }

    /**
     * the largest difference between a and b of each name, relative to the largest magnitude of all
     * of a's tensors (a bias before batch norm has a gradient that is rounding noise around an exact
     * 0, so a per-tensor relative measure would compare noise)
     */
    static double maxRelDiff(Map<String, Tensor> a, Map<String, Tensor> b) {
        double d = 0, s = 1e-12;
        for (String k : a.keySet()) {
            if (a.get(k).dtype() == DType.I32) {
                assertArrayEquals(a.get(k).toIntArray(), b.get(k).toIntArray(), k);
                continue;
            }
            assertEquals(Device.CUDA, b.get(k).device(), k);
            float[] x = a.get(k).toFloatArray(), y = b.get(k).toFloatArray();
            for (int i = 0; i < x.length; i++) { d = Math.max(d, Math.abs(x[i] - y[i])); s = Math.max(s, Math.abs(x[i])); }
        }
        return d / s;
    }

    /** three masked Nesterov SGD steps with weight decay on device; returns the model and its optimizer */
    static Object[] steps(Device device, Masks masks) {
        Module m = cnn(7, device);
        masks.apply(m);
        SGD opt = SGD.of(m, 0.1, 0.9, 5e-4, true);
        try (MemoryScope s = MemoryScope.open()) {
            for (String name : masks.names()) opt.setMask(name, masks.tensor(name, device));
            Tensor x = TinyModels.randomInputs(3, N, 1, 4, 4).to(device);
            for (int step = 0; step < 3; step++) {
                try (MemoryScope st = MemoryScope.open()) {
                    Tensor loss = Ops.crossEntropy(m.forward(x), Tensor.ofInts(LABELS, device, N));
                    loss.backward();
                    opt.step();
                    opt.zeroGrad();
                }
            }
        }
        return new Object[] {m, opt};
    }

    @Test
    void maskedSgdStepsOnCudaEqualCpuAndPrunedWeightsStayZero() {
        Masks masks;
        try (Module probe = cnn(7, Device.CPU)) { masks = TinyModels.randomMasks(probe, 0.5, 11); }
        Object[] cpu = steps(Device.CPU, masks), cuda = steps(Device.CUDA, masks);
        try (Module mc = (Module) cpu[0]; SGD oc = (SGD) cpu[1]; Module mg = (Module) cuda[0]; SGD og = (SGD) cuda[1]) {
            assertEquals(Device.CUDA, mg.device());
            assertTrue(maxRelDiff(mc.stateDict(), mg.stateDict()) < 1e-5, "parameters and buffers");
            assertEquals(oc.state().keySet(), og.state().keySet());
            assertTrue(maxRelDiff(oc.state(), og.state()) < 1e-5, "momentum buffers");
            for (String k : og.masks().keySet()) assertEquals(Device.CUDA, og.masks().get(k).device(), k);
            for (PrunableLayer l : PrunableLayer.of(mg)) {
                float[] w = l.weight().toFloatArray(), mk = masks.values(l.name()), buf = og.state().get(l.name()).toFloatArray();
                for (int i = 0; i < w.length; i++)
                    if (mk[i] == 0) {
                        assertEquals(0f, Math.abs(w[i]), l.name() + "[" + i + "] is pruned but not zero");
                        assertEquals(0f, Math.abs(buf[i]), l.name() + "[" + i + "] momentum of a pruned weight");
                    }
            }
        }
    }

    @Test
    void mixedDevicesFailNamingBoth() {
        try (Module m = cnn(1, Device.CUDA); SGD opt = SGD.of(m, 0.1, 0.9, 0, false); MemoryScope s = MemoryScope.open()) {
            Tensor p = m.namedParameters().get("fc.weight");
            p.setGrad(MemoryScope.unscoped(() -> Tensor.zeros(DType.F32, p.shape())));
            IllegalStateException e = assertThrows(IllegalStateException.class, opt::step);
            assertTrue(e.getMessage().contains("fc.weight") && e.getMessage().contains("CPU") && e.getMessage().contains("CUDA"),
                    e.getMessage());
            IllegalArgumentException a = assertThrows(IllegalArgumentException.class,
                    () -> Ops.add(Tensor.ones(DType.F32, Device.CUDA, 2), Tensor.ones(DType.F32, 2)));
            assertTrue(a.getMessage().contains("CUDA vs CPU"), a.getMessage());
            // factories on the device, masks on the device
            assertArrayEquals(new float[] {2.5f, 2.5f}, Tensor.full(DType.F32, 2.5, Device.CUDA, 2).toFloatArray());
            assertArrayEquals(new int[] {3, 1}, Tensor.ofInts(new int[] {3, 1}, Device.CUDA, 2).toIntArray());
            assertEquals(4.0, Tensor.scalar(DType.F64, 4, Device.CUDA).item());
            Masks masks = TinyModels.randomMasks(m, 0.5, 2);
            Map<String, Tensor> onDevice = masks.to(Device.CUDA);
            for (String n : masks.names()) {
                assertEquals(Device.CUDA, onDevice.get(n).device());
                assertArrayEquals(masks.values(n), onDevice.get(n).toFloatArray());
            }
        }
    }

    static RunConfig tinyConfig(int epochs) {
        return Recipes.digits().with(Map.of("epochs", (long) epochs, "batch_size", 5L, "milestones", List.of(2L), "augment", false,
                "nesterov", true, "device", "cuda"));
    }

    static Dataset[] tinyData() {
        return new Dataset[] {Synthetic.create(12, 1, 4, 4, 2, 5), Synthetic.create(7, 1, 4, 4, 2, 6)};
    }

    @Test
    void checkpointOnCudaResumedOnCudaEqualsTheUninterruptedRun(@TempDir Path tmp) throws Exception {
        RunConfig cfg = tinyConfig(2);
        Dataset[] d = tinyData();
        Masks masks;
        try (Module probe = cnn(3, Device.CPU)) { masks = TinyModels.randomMasks(probe, 0.6, 4); }
        Path a = Files.createDirectories(tmp.resolve("a")), b = Files.createDirectories(tmp.resolve("b"));
        float[][] uninterrupted;
        try (Module m = cnn(3, Device.CPU)) {
            Trainer.Result r = new Trainer(new ClassificationTask(cfg, d[0], d[1]), a, null, "a").train(m, masks);
            assertEquals(2, r.metrics().size());
            assertEquals(Device.CUDA, m.device());
            uninterrupted = floats(m);
        }
        // epoch 1 alone, its checkpoint written from the device tensors
        Trainer t = new Trainer(new ClassificationTask(cfg, d[0], d[1]), b, null, "b");
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Module m = cnn(3, Device.CUDA); SGD opt = SGD.of(m, cfg.lr(), cfg.momentum(), cfg.weightDecay(), cfg.nesterov());
             MemoryScope s = MemoryScope.open()) {
            masks.apply(m);
            for (String n : masks.names()) opt.setMask(n, masks.tensor(n, Device.CUDA));
            EpochMetrics e1 = t.epoch(m, List.of(opt), 0, pool).metrics();
            Checkpoint.save(b.resolve(Checkpoint.FILE), m, opt, masks, 1, cfg.hash(), List.of(e1));
        } finally {
            pool.shutdownNow();
        }
        // resumed onto the device from another initialisation: the checkpoint decides everything
        try (Module m = cnn(99, Device.CPU)) {
            Trainer.Result r = t.train(m, masks);
            assertEquals(1, r.startEpoch());
            assertEquals(Device.CUDA, m.device());
            float[][] resumed = floats(m);
            for (int i = 0; i < resumed.length; i++) assertArrayEquals(uninterrupted[i], resumed[i], "state entry " + i);
            for (PrunableLayer l : PrunableLayer.of(m)) {
                float[] w = l.weight().toFloatArray(), mk = masks.values(l.name());
                for (int i = 0; i < w.length; i++) if (mk[i] == 0) assertEquals(0f, Math.abs(w[i]), l.name() + "[" + i + "]");
            }
        }
        assertArrayEquals(Files.readAllBytes(a.resolve(Checkpoint.FILE)), Files.readAllBytes(b.resolve(Checkpoint.FILE)),
                "the final checkpoints differ");
    }

    static float[][] floats(Module m) {
        return m.stateDict().values().stream().map(t -> t.dtype() == DType.I32 ? new float[] {t.toIntArray()[0]} : t.toFloatArray())
                .toArray(float[][]::new);
    }

    @Test
    void aTinyRunWithDeviceCudaCompletes(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("tiny.json");
        // digits (8x8) with ResNet-20, synflow in 2 rounds on the device, the weights evaluated there; no
        // training epoch: a whole digits epoch of ResNet-20 takes many minutes on the emulator (one fiber
        // per CUDA thread), and the trainer's epochs on CUDA are the test above
        Files.writeString(cfg, "{\"recipe\": \"digits\", \"method\": \"synflow\", \"rounds\": 2, \"density\": 0.2, \"epochs\": 0, "
                + "\"milestones\": [], \"device\": \"cuda\"}");
        Path runs = tmp.resolve("runs");
        MainTest.Result r = MainTest.run("run", cfg.toString(), "--runs", runs.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("done: synflow resnet20 on digits: density 0.2"), r.out());
        RunConfig c = RunConfig.load(cfg);
        Path dir = runs.resolve(c.hash());
        Map<String, Object> summary = Json.parseObject(Files.readString(dir.resolve(Runner.SUMMARY)));
        double acc = ((Number) summary.get("test_acc")).doubleValue();
        assertTrue(acc >= 0 && acc <= 1, "test accuracy " + acc);
        assertTrue(Files.isRegularFile(dir.resolve(Runner.WEIGHTS)) && Files.isRegularFile(dir.resolve(Runner.MASKS)));
        assertTrue(Files.readString(dir.resolve(Runner.CONFIG)).contains("\"device\": \"cuda\""));
        // the same run on the CPU prunes to the same density and evaluates the untrained weights alike
        Path cpuCfg = tmp.resolve("cpu.json");
        Files.writeString(cpuCfg, Files.readString(cfg).replace("\"cuda\"", "\"cpu\""));
        MainTest.Result rc = MainTest.run("run", cpuCfg.toString(), "--runs", runs.toString());
        assertEquals(0, rc.code(), rc.err());
        Map<String, Object> cpu = Json.parseObject(Files.readString(runs.resolve(RunConfig.load(cpuCfg).hash()).resolve(Runner.SUMMARY)));
        assertEquals(((Number) cpu.get("density")).doubleValue(), ((Number) summary.get("density")).doubleValue());
        assertEquals(((Number) cpu.get("test_acc")).doubleValue(), acc, 1.5 / 360, "test accuracy on CPU vs CUDA");
    }

    @Test
    void aTinyTrainingRunOnCudaCompletes(@TempDir Path tmp) throws Exception {
        // the trainer end to end on the device: 12 images, 3 batches, one epoch, checkpoint and metrics
        RunConfig cfg = tinyConfig(1).with("batch_size", 4L);
        Dataset[] d = tinyData();
        try (Module m = cnn(8, Device.CPU)) {
            Masks masks = TinyModels.randomMasks(m, 0.5, 1);
            Trainer.Result r = new Trainer(new ClassificationTask(cfg, d[0], d[1]), tmp, null, "t").train(m, masks);
            assertEquals(1, r.metrics().size());
            EpochMetrics e = r.last();
            assertTrue(Double.isFinite(e.trainLoss()) && e.trainAcc() >= 0 && e.testAcc() >= 0 && e.testAcc() <= 1, e.toString());
            assertEquals(1, Checkpoint.epochOf(tmp.resolve(Checkpoint.FILE)));
            assertEquals(1, Files.readAllLines(tmp.resolve(Trainer.METRICS)).size());
        }
    }
}
