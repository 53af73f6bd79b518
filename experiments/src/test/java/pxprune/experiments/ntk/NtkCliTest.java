package pxprune.experiments.ntk;

import pxprune.px.TinyModels;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.core.io.Json;
import pxprune.datasets.Dataset;
import pxprune.datasets.DatasetRegistry;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.px.Masks;
import pxprune.experiments.cli.Main;

/** pxprune ntk end to end on digits with two samples, and its refusals (exit 2, one line). */
class NtkCliTest {
    @TempDir Path dir;

    static int run(ByteArrayOutputStream err, String... args) {
        return Main.run(args, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test void writesCsvJsonAndPngThatEqualTheApi() throws Exception {
        Path masks = dir.resolve("half.safetensors");
        try (Module m = ModelRegistry.create("resnet20", 1, 10, 8, 1)) {
            TinyModels.randomMasks(m, 0.5, 3).save(masks, "random", 1, 3);
        }
        Path out = dir.resolve("out");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = run(err, "ntk", "--model", "resnet20", "--dataset", "digits", "--samples", "2", "--top", "3", "--masks", masks.toString(),
                "--out", out.toString());
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        List<String> csv = Files.readAllLines(out.resolve("ntk.csv"));
        assertEquals(3, csv.size(), String.join("\n", csv));
        assertTrue(csv.get(0).startsWith("name,run,density,trace,trace_kept,eig_1,eig_2,eig_3,condition"), csv.get(0));
        assertTrue(Files.size(out.resolve("ntk.png")) > 1000);
        Map<String, Object> json = Json.parseObject(Files.readString(out.resolve("ntk.json")));
        List<?> nets = (List<?>) json.get("networks");
        List<?> idx = (List<?>) json.get("sample_indices");
        // the same NTK through the API, on the same weights and examples
        Dataset train = DatasetRegistry.load("digits", Path.of("data"), true, 0);
        var stats = DatasetRegistry.stats("digits");
        if (stats.isPresent()) train = pxprune.datasets.Transforms.normalize(train, stats.get());
        try (Module m = ModelRegistry.create("resnet20", 1, 10, 8, 1); MemoryScope s = MemoryScope.open()) {
            float[] xs = new float[2 * 64];
            for (int i = 0; i < 2; i++) System.arraycopy(train.image(((Number) idx.get(i)).intValue()), 0, xs, 64 * i, 64);
            Tensor x = Tensor.of(xs, 2, 1, 8, 8);
            Masks[] mk = {null, Masks.load(masks, m)};
            double denseTrace = 0;
            for (int n = 0; n < 2; n++) {
                Map<?, ?> row = (Map<?, ?>) nets.get(n);
                NtkResult r = Ntk.compute(m, mk[n], x, Ntk.Options.defaults().withTop(3));
                if (n == 0) denseTrace = r.trace();
                assertEquals(r.trace(), ((Number) row.get("trace")).doubleValue(), 1e-12 * r.trace());
                List<?> eig = (List<?>) row.get("top_eigenvalues");
                for (int i = 0; i < 3; i++) {
                    assertEquals(r.top()[i], ((Number) eig.get(i)).doubleValue(), 1e-12 * r.top()[i]);
                    // Lanczos against the full spectrum of the explicit kernel (20 x 20)
                    assertEquals(r.spectrum()[i], r.top()[i], 1e-10 * r.spectrum()[i]);
                }
                assertEquals(r.trace() / denseTrace, ((Number) row.get("trace_kept")).doubleValue(), 1e-12);
                double sum = 0;
                for (double v : r.spectrum()) sum += v;
                assertEquals(r.trace(), sum, 1e-10 * r.trace(), "trace = sum of the eigenvalues");
            }
        }
    }

    @Test void badArgumentsExitTwoWithOneLine() throws Exception {
        Path other = dir.resolve("mlp.safetensors");
        try (var m = new TinyModels.Mlp(1, false, 3, 4, 2)) { Masks.ones(m).save(other, "dense", 1, 1); }
        String o = dir.resolve("o").toString();
        String[][] bad = {
                {"ntk", "--dataset", "digits", "--out", o},
                {"ntk", "--model", "nonet", "--dataset", "digits", "--out", o},
                {"ntk", "--model", "resnet20", "--dataset", "nodata", "--out", o},
                {"ntk", "--model", "resnet20", "--dataset", "digits", "--samples", "0", "--out", o},
                {"ntk", "--model", "resnet20", "--dataset", "digits", "--samples", "999999", "--out", o},
                {"ntk", "--model", "resnet20", "--dataset", "digits", "--top", "x", "--out", o},
                {"ntk", "--model", "resnet20", "--dataset", "digits", "--precision", "float16", "--out", o},
                {"ntk", "--model", "resnet20", "--dataset", "digits", "--masks", dir.resolve("none.safetensors").toString(), "--out", o},
                {"ntk", "--model", "resnet20", "--dataset", "digits", "--masks", other.toString(), "--samples", "1", "--out", o},
                {"ntk", "--model", "resnet20", "--dataset", "digits", "--run", dir.resolve("norun").toString(), "--out", o},
                {"ntk", "--model", "resnet20", "--dataset", "digits", "--run", dir.toString(), "--out", o},
                {"ntk", "--model", "resnet20", "--dataset", "digits", "--bogus", "--out", o},
        };
        for (String[] a : bad) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int rc = run(err, a);
            String msg = err.toString(StandardCharsets.UTF_8);
            assertEquals(2, rc, String.join(" ", a) + " -> " + msg);
            assertEquals(1, msg.strip().lines().count(), msg);
            assertTrue(msg.startsWith("pxprune: "), msg);
        }
    }

    /** a folder of runs with two seeds: one dense network per seed, each run's row against its own seed's dense trace */
    @Test void runsOfSeveralSeedsEachGetTheirOwnDenseNetwork() throws Exception {
        Path runs = dir.resolve("runs");
        for (long seed : new long[] {1, 2}) {
            pxprune.experiments.train.RunConfig c = pxprune.experiments.train.Recipes.digits().with("method", "random").with("density", 0.5).with("seed", seed);
            Path r = Files.createDirectories(runs.resolve(c.hash()));
            Files.writeString(r.resolve(pxprune.experiments.train.Runner.CONFIG), c.prettyJson());
            try (Module m = ModelRegistry.create("resnet20", 1, 10, 8, seed)) {
                TinyModels.randomMasks(m, 0.5, 7 + seed).save(r.resolve(pxprune.experiments.train.Runner.MASKS), "random", 1, seed);
            }
        }
        Path out = dir.resolve("seeds");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(err, "ntk", "--run", runs.toString(), "--samples", "2", "--top", "2", "--out", out.toString()),
                err.toString(StandardCharsets.UTF_8));
        Map<String, Object> json = Json.parseObject(Files.readString(out.resolve("ntk.json")));
        List<?> nets = (List<?>) json.get("networks");
        assertEquals(4, nets.size(), "dense and the run, per seed");
        double[] denseTrace = new double[3];
        for (Object o : nets) {
            Map<?, ?> row = (Map<?, ?>) o;
            int seed = ((Number) row.get("init_seed")).intValue();
            double trace = ((Number) row.get("trace")).doubleValue();
            if (row.get("run").toString().isEmpty()) {
                assertEquals("dense (seed " + seed + ")", row.get("name"));
                denseTrace[seed] = trace;
            } else {
                assertEquals(trace / denseTrace[seed], ((Number) row.get("trace_kept")).doubleValue(), 1e-15, "against its own seed's dense");
            }
        }
        assertTrue(denseTrace[1] > 0 && denseTrace[2] > 0 && denseTrace[1] != denseTrace[2], "two initialisations, two traces");
    }
}
