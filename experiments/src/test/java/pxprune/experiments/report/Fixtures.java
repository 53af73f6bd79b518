package pxprune.experiments.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import pxprune.core.io.Json;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.px.Masks;
import pxprune.px.Pruner;
import pxprune.experiments.train.Recipes;
import pxprune.experiments.train.RunConfig;
import pxprune.experiments.train.Runner;

/** Run folders as the Runner writes them (config.json, masks.safetensors, layers.csv, summary.json), without training. */
final class Fixtures {
    private Fixtures() {}

    /** the digits recipe (resnet20 on 1x8x8, 10 classes) with method, density and seed, one epoch */
    static RunConfig config(String method, double density, long seed) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", method);
        m.put("density", density);
        m.put("seed", seed);
        m.put("epochs", 1L);
        m.put("rounds", method.equals("random") || method.equals(RunConfig.DENSE) ? 1L : 5L);
        return Recipes.digits().with(m);
    }

    /** all-ones masks of the digits resnet20, by name */
    static Map<String, float[]> ones() {
        try (Module m = ModelRegistry.create("resnet20", 1, 10, 8, 0)) {
            Masks o = Masks.ones(m);
            Map<String, float[]> v = new LinkedHashMap<>();
            for (String n : o.names()) v.put(n, o.values(n));
            return v;
        }
    }

    static Map<String, int[]> shapes() {
        try (Module m = ModelRegistry.create("resnet20", 1, 10, 8, 0)) {
            Masks o = Masks.ones(m);
            Map<String, int[]> s = new LinkedHashMap<>();
            for (String n : o.names()) s.put(n, o.shape(n));
            return s;
        }
    }

    /** masks keeping each weight with probability density (at least one per layer), drawn from seed */
    static Masks random(double density, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, float[]> v = ones();
        for (float[] m : v.values()) {
            for (int i = 0; i < m.length; i++) m[i] = r.nextDouble() < density ? 1f : 0f;
            m[0] = 1f;
        }
        return Masks.of(v, shapes());
    }

    /** writes a finished run folder runs/<hash>/ for cfg with these masks and test accuracy; returns it */
    static Path writeRun(Path runs, RunConfig cfg, Masks masks, double testAcc) throws IOException {
        Path dir = Runner.folder(runs, cfg);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(Runner.CONFIG), cfg.prettyJson());
        masks.save(dir.resolve(Runner.MASKS), cfg.method(), cfg.rounds(), cfg.seed());
        Files.writeString(dir.resolve(Runner.LAYERS), pxprune.experiments.train.PruningFiles.layersCsv(masks));
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("status", "done");
        s.put("config_hash", cfg.hash());
        s.put("dataset", cfg.dataset());
        s.put("model", cfg.model());
        s.put("method", cfg.method());
        s.put("target_density", cfg.density());
        s.put("density", masks.density());
        s.put("kept", masks.kept());
        s.put("total", masks.total());
        s.put("test_acc", testAcc);
        s.put("seed", cfg.seed());
        Files.writeString(dir.resolve(Runner.SUMMARY), Json.pretty(s));
        return dir;
    }
}
