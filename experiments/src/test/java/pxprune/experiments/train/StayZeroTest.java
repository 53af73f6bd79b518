package pxprune.experiments.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import pxprune.core.Tensor;
import pxprune.core.io.SafeTensors;
import pxprune.datasets.Dataset;
import pxprune.datasets.DatasetRegistry;
import pxprune.nn.Module;
import pxprune.px.Masks;
import pxprune.px.PrunableLayer;

/** Pruned weights (and their momentum) stay exactly zero through training, whatever the SGD variant. */
class StayZeroTest {
    static Dataset[] smallDigits() {
        Dataset train = DatasetRegistry.load("digits", null, true, 0), test = DatasetRegistry.load("digits", null, false, 0);
        return new Dataset[] {train.subset(range(240)), test.subset(range(100))};
    }

    static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }

    /** random masks keeping about a fraction d of every layer (at least one weight per layer) */
    static Masks randomMasks(Module model, double d, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, float[]> v = new LinkedHashMap<>();
        Map<String, int[]> s = new LinkedHashMap<>();
        for (PrunableLayer l : PrunableLayer.of(model)) {
            float[] m = new float[(int) l.numel()];
            for (int i = 0; i < m.length; i++) m[i] = rng.nextDouble() < d ? 1f : 0f;
            m[0] = 1f;
            v.put(l.name(), m);
            s.put(l.name(), l.shape());
        }
        return Masks.of(v, s);
    }

    @ParameterizedTest(name = "momentum {0}, nesterov {1}, weight decay {2}")
    @CsvSource({"0.9, true, 5e-4", "0.9, false, 1e-2", "0.0, false, 1e-2"})
    void prunedWeightsStayExactlyZero(double momentum, boolean nesterov, double wd, @TempDir Path dir) throws Exception {
        Dataset[] d = smallDigits();
        RunConfig cfg = Recipes.digits().with(Map.of("epochs", 2L, "batch_size", 32L, "momentum", momentum, "nesterov", nesterov,
                "weight_decay", wd, "milestones", List.of(1L), "lr", 0.1, "method", "random", "density", 0.2));
        try (Module model = ClassificationTask.model(cfg, d[0])) {
            Masks masks = randomMasks(model, 0.2, 7);
            Map<String, float[]> before = new LinkedHashMap<>();
            for (PrunableLayer l : PrunableLayer.of(model)) before.put(l.name(), l.weight().toFloatArray());
            Trainer.Result r = new Trainer(new ClassificationTask(cfg, d[0], d[1]), dir, null, "test").train(model, masks);
            assertEquals(2, r.metrics().size());
            long changed = 0;
            for (PrunableLayer l : PrunableLayer.of(model)) {
                float[] w = l.weight().toFloatArray(), m = masks.values(l.name()), w0 = before.get(l.name());
                for (int i = 0; i < w.length; i++) {
                    if (m[i] == 0f) assertEquals(0f, Math.abs(w[i]), l.name() + "[" + i + "] is pruned but became " + w[i]);
                    else if (w[i] != w0[i]) changed++;
                }
            }
            assertTrue(changed > 500, "training changed only " + changed + " kept weights");
            // the checkpoint's momentum buffers are zero where the mask is
            SafeTensors.File ck = SafeTensors.read(dir.resolve(Checkpoint.FILE));
            if (momentum > 0) {
                for (String name : masks.names()) {
                    float[] buf = ck.get("momentum." + name).toFloats(), m = masks.values(name);
                    for (int i = 0; i < buf.length; i++)
                        if (m[i] == 0f) assertEquals(0f, Math.abs(buf[i]), "momentum of pruned " + name + "[" + i + "]");
                }
            }
            assertTrue(Files.readAllLines(dir.resolve(Trainer.METRICS)).size() == 2);
        }
    }

    @ParameterizedTest(name = "resume after epoch {0} equals the uninterrupted run")
    @CsvSource({"1"})
    void resumingInProcessGivesTheSameWeights(int stopAfter, @TempDir Path dir) throws Exception {
        Dataset[] d = smallDigits();
        RunConfig cfg = Recipes.digits().with(Map.of("epochs", 3L, "batch_size", 32L, "nesterov", true, "milestones", List.of(2L),
                "method", "random", "density", 0.2));
        Path full = Files.createDirectories(dir.resolve("full")), part = Files.createDirectories(dir.resolve("part"));
        float[] a = trainedWeights(cfg, d, full);
        trainedWeights(cfg.with("epochs", (long) stopAfter), d, part);
        // the shorter run's checkpoint belongs to another config: rewrite its hash as the interrupted run would have it
        Path ck = part.resolve(Checkpoint.FILE);
        SafeTensors.File f = SafeTensors.read(ck);
        Map<String, String> meta = new LinkedHashMap<>(f.metadata());
        meta.put("config_hash", cfg.hash());
        SafeTensors.write(ck, f.entries(), meta);
        float[] b = trainedWeights(cfg, d, part);
        assertEquals(a.length, b.length);
        for (int i = 0; i < a.length; i++) assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), "weight " + i);
    }

    private static float[] trainedWeights(RunConfig cfg, Dataset[] d, Path dir) throws Exception {
        try (Module model = ClassificationTask.model(cfg, d[0])) {
            Masks masks = randomMasks(model, 0.2, 7);
            new Trainer(new ClassificationTask(cfg, d[0], d[1]), dir, null, "test").train(model, masks);
            int n = 0;
            for (Tensor t : model.stateDict().values()) n += (int) t.numel();
            float[] all = new float[n];
            int o = 0;
            for (Tensor t : model.stateDict().values()) {
                float[] v = t.dtype() == pxprune.kernels.DType.I32 ? toFloat(t.toIntArray()) : t.toFloatArray();
                System.arraycopy(v, 0, all, o, v.length);
                o += v.length;
            }
            return all;
        }
    }

    private static float[] toFloat(int[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = a[i];
        return f;
    }
}
