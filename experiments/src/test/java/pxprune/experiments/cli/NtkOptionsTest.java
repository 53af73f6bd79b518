package pxprune.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.core.io.Json;
import pxprune.datasets.Dataset;
import pxprune.datasets.DatasetRegistry;
import pxprune.kernels.DType;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.nn.StateDicts;
import pxprune.px.Masks;
import pxprune.experiments.ntk.Ntk;
import pxprune.experiments.ntk.NtkResult;
import pxprune.experiments.train.Runner;

/**
 * The options of {@code ntk} change what it computes as the usage says: --seed draws the examples (NtkCommand.sample)
 * and initialises the model, --samples is their number, --top the eigenvalue columns, --precision the arithmetic,
 * --all-parameters adds the biases and batch-norm affine parameters (each adds a sum of squares to the trace; the output
 * layer's bias exactly N x outputs), --weights replaces the initialisation, --dataset and --data-root pick the data.
 * (--masks, --run, --out: NtkCliTest; --batch: CommandOptionsTest.)
 */
class NtkOptionsTest {
    static Map<String, Object> ntk(Path out, String... more) throws Exception {
        List<String> a = new ArrayList<>(List.of("ntk", "--model", "resnet20", "--out", out.toString()));
        a.addAll(List.of(more));
        MainTest.Result r = MainTest.run(a.toArray(new String[0]));
        assertEquals(0, r.code(), String.join(" ", a) + ": " + r.err());
        return Json.parseObject(Files.readString(out.resolve("ntk.json")));
    }

    static Map<?, ?> dense(Map<String, Object> json) {
        Map<?, ?> row = (Map<?, ?>) ((List<?>) json.get("networks")).get(0);
        assertEquals("dense", row.get("name"));
        return row;
    }

    static double num(Map<?, ?> m, String key) { return ((Number) m.get(key)).doubleValue(); }

    static int[] indices(Map<String, Object> json) {
        return ((List<?>) json.get("sample_indices")).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
    }

    /** the dense NTK through the API: the model initialised with seed (then loaded with weights, if given), on train's examples idx */
    static NtkResult api(long seed, Path weights, int[] idx, Ntk.Options o) throws Exception {
        Dataset train = DatasetRegistry.load("digits", Path.of("data"), true, Runner.DATA_SPLIT_SEED);
        float[] xs = new float[idx.length * train.imageSize()];
        for (int i = 0; i < idx.length; i++) System.arraycopy(train.image(idx[i]), 0, xs, i * train.imageSize(), train.imageSize());
        try (Module m = ModelRegistry.create("resnet20", 1, 10, 8, seed); MemoryScope s = MemoryScope.open()) {
            if (weights != null) StateDicts.load(m, weights);
            return Ntk.compute(m, null, Tensor.of(xs, idx.length, 1, 8, 8), o);
        }
    }

    /**
     * --seed 4 --samples 2 --top 2, in float64 (the default), with --all-parameters, and in float32. --all-parameters: theta
     * also holds every bias and batch-norm affine parameter (the model's parameter count); the kernel is a sum over
     * parameters of J_p J_p^T, so the trace grows by sums of squares, at least by the output layer's bias, whose Jacobian
     * is the identity: N x outputs.
     */
    @Test void seedSamplesTopPrecisionAndAllParameters(@TempDir Path tmp) throws Exception {
        int size = DatasetRegistry.load("digits", Path.of("data"), true, Runner.DATA_SPLIT_SEED).size();
        String[] common = {"--dataset", "digits", "--samples", "2", "--top", "2", "--seed", "4"};
        Map<String, Object> f64 = ntk(tmp.resolve("f64"), common);
        int[] idx = indices(f64);
        assertEquals(Arrays.toString(NtkCommand.sample(size, 2, 4)), Arrays.toString(idx), "--samples 2 drawn with --seed 4");
        assertFalse(Arrays.equals(NtkCommand.sample(size, 2, 1), idx), "seed 4 draws what the default seed 1 draws");
        assertEquals(2, ((Number) f64.get("samples")).intValue());
        assertEquals(4, ((Number) dense(f64).get("init_seed")).intValue(), "the model initialised with --seed");
        assertEquals(2, ((List<?>) dense(f64).get("top_eigenvalues")).size());
        assertTrue(Files.readAllLines(tmp.resolve("f64").resolve("ntk.csv")).get(0).contains(",eig_1,eig_2,condition,"), "--top 2 columns");
        assertEquals("float64", dense(f64).get("precision"));

        List<String> a = new ArrayList<>(List.of(common));
        a.add("--all-parameters");
        Map<String, Object> allJson = ntk(tmp.resolve("all"), a.toArray(new String[0]));
        Map<?, ?> w = dense(f64), all = dense(allJson);
        assertEquals(Boolean.TRUE, allJson.get("all_parameters"));
        try (Module m = ModelRegistry.create("resnet20", 1, 10, 8, 4)) {
            assertEquals(Masks.ones(m).total(), ((Number) w.get("parameters")).longValue(), "the prunable weights");
            assertEquals(m.parameterCount(), ((Number) all.get("parameters")).longValue(), "every parameter");
        }
        double n = num(w, "samples") * num(w, "outputs");
        assertEquals(20, n);
        // float64 sums: 1e-12 of the trace (~1e5) is far below the 20 that the output bias adds
        assertTrue(num(all, "trace") >= num(w, "trace") + n - 1e-12 * num(all, "trace"),
                "all parameters " + num(all, "trace") + " against the weights' " + num(w, "trace") + " + " + n);

        a = new ArrayList<>(List.of(common));
        a.addAll(List.of("--precision", "float32"));
        Map<String, Object> f32 = ntk(tmp.resolve("f32"), a.toArray(new String[0]));
        assertEquals("float32", f32.get("precision"));
        assertEquals("float32", dense(f32).get("precision"));
        // the API's float32 computation: the same operations in the same order, so the same bits (measured: identical)
        NtkResult a32 = api(4, null, idx, Ntk.Options.defaults().withTop(2).withSeed(4).withPrecision(DType.F32));
        assertEquals(a32.trace(), num(dense(f32), "trace"), 0);
        // and float64's trace to float32's accuracy: measured 1.7e-7 relative (Intel Xeon, AVX-512), a few of float32's
        // 6e-8 ulps; 2e-6 is about 10x that
        assertEquals(1.0, num(dense(f32), "trace") / num(w, "trace"), 2e-6);
    }

    /** --weights replaces the seeded initialisation; --dataset and --data-root pick where the examples come from */
    @Test void weightsDatasetAndDataRoot(@TempDir Path tmp) throws Exception {
        Path wf = tmp.resolve("W.safetensors");
        try (Module m = ModelRegistry.create("resnet20", 1, 10, 8, 9)) {
            StateDicts.save(m, wf);
        }
        Map<String, Object> j = ntk(tmp.resolve("w"), "--dataset", "digits", "--samples", "2", "--top", "2", "--weights", wf.toString());
        NtkResult r = api(1, wf, indices(j), Ntk.Options.defaults().withTop(2));
        assertEquals(r.trace(), num(dense(j), "trace"), 0, "the API on the same weights and examples (the same operations)");
        assertEquals(wf.toString(), dense(j).get("source"));

        Map<String, Object> s = ntk(tmp.resolve("syn"), "--dataset", "synthetic", "--samples", "1", "--top", "1");
        assertEquals("synthetic", s.get("dataset"));
        int size = DatasetRegistry.load("synthetic", Path.of("data"), true, Runner.DATA_SPLIT_SEED).size();
        assertEquals(Arrays.toString(NtkCommand.sample(size, 1, 1)), Arrays.toString(indices(s)));

        Path root = tmp.resolve("no-data");
        MainTest.Result bad = MainTest.run("ntk", "--model", "resnet20", "--dataset", "cifar10", "--data-root", root.toString(), "--out",
                tmp.resolve("never").toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains(root.resolve("cifar-10-batches-bin").toString()), bad.err());
    }
}
