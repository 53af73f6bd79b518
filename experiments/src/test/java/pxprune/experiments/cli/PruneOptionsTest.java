package pxprune.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.io.Json;
import pxprune.datasets.Dataset;
import pxprune.datasets.DatasetRegistry;
import pxprune.datasets.PruningSplit;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.nn.StateDicts;
import pxprune.px.Masks;
import pxprune.px.PrunableLayer;
import pxprune.px.Schedule;
import pxprune.px.TopK;
import pxprune.experiments.train.Runner;

/**
 * Each option of {@code prune} changes what it writes the way the usage says, checked against definitions: the split
 * is PruningSplit's class-balanced draw for the seed and K, random masks are the top n_keep of the seeded generator's
 * numbers, rounds.csv holds one row per round with the schedule's target d_r and n_keep(d_r) kept, per-layer selection
 * keeps n_keep of every layer. (--weights with --batch, --trace, --precision and bad --device values: CommandOptionsTest,
 * ExplainCommandTest, PrecisionOptionTest, DeviceOptionTest.)
 */
class PruneOptionsTest {
    static MainTest.Result prune(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("prune", "--model", "resnet20", "--dataset", "digits", "--out", out.toString()));
        a.addAll(List.of(more));
        MainTest.Result r = MainTest.run(a.toArray(new String[0]));
        assertEquals(0, r.code(), String.join(" ", a) + ": " + r.err());
        return r;
    }

    static Map<String, Object> summary(Path out) throws Exception {
        return Json.parseObject(Files.readString(out.resolve("summary.json")));
    }

    static Dataset train(String dataset) {
        return DatasetRegistry.load(dataset, Path.of("data"), true, Runner.DATA_SPLIT_SEED);
    }

    /** the weights of the model that prune creates for the seed (resnet20 on digits: 1 channel, 10 classes, 8x8) */
    static Map<String, float[]> initialWeights(long seed) {
        Map<String, float[]> w = new LinkedHashMap<>();
        try (Module m = ModelRegistry.create("resnet20", 1, 10, 8, seed)) {
            for (PrunableLayer l : PrunableLayer.of(m)) w.put(l.name(), l.weight().toFloatArray());
        }
        return w;
    }

    /**
     * --seed picks the split (PruningSplit's draw for that seed), the random scores (RandomScorer: SplittableRandom(seed),
     * layer by layer, row-major) and so the masks; --examples-per-class K gives 10 K examples, K of each class;
     * --device cpu is the default's computation.
     */
    @Test void seedAndExamplesPerClassPickTheSplitAndTheMasks(@TempDir Path tmp) throws Exception {
        Dataset train = train("digits");
        String[] common = {"--method", "random", "--density", "0.1", "--rounds", "1"};
        Path[] out = {tmp.resolve("s1k2"), tmp.resolve("s2k2"), tmp.resolve("s1k3"), tmp.resolve("s1k2-cpu")};
        long[] seeds = {1, 2, 1, 1};
        int[] k = {2, 2, 3, 2};
        for (int i = 0; i < out.length; i++) {
            List<String> a = new ArrayList<>(List.of(common));
            a.addAll(List.of("--seed", "" + seeds[i], "--examples-per-class", "" + k[i]));
            if (i == 3) a.addAll(List.of("--device", "cpu"));
            prune(out[i], a.toArray(new String[0]));
            PruningSplit.Selection s = PruningSplit.read(out[i].resolve(Runner.SPLIT));
            assertArrayEquals(PruningSplit.select(train, k[i], seeds[i]), s.indices(), out[i] + ": the split of seed " + seeds[i]);
            assertEquals(10 * k[i], s.indices().length);
            int[] perClass = new int[10];
            for (int j = 0; j < s.indices().length; j++) {
                assertEquals(train.label(s.indices()[j]), s.labels()[j]);
                perClass[s.labels()[j]]++;
            }
            int[] expected = new int[10];
            Arrays.fill(expected, k[i]);
            assertArrayEquals(expected, perClass, "K examples of each class");
            assertEquals(seeds[i], ((Number) summary(out[i]).get("seed")).longValue());
            assertRandomMasks(Masks.load(out[i].resolve("masks.safetensors")), seeds[i], 0.1);
        }
        assertFalse(Arrays.equals(PruningSplit.read(out[0].resolve(Runner.SPLIT)).indices(),
                PruningSplit.read(out[1].resolve(Runner.SPLIT)).indices()), "seeds 1 and 2 draw the same split");
        assertFalse(Arrays.equals(Files.readAllBytes(out[0].resolve("masks.safetensors")), Files.readAllBytes(out[1].resolve("masks.safetensors"))));
        assertArrayEquals(Files.readAllBytes(out[0].resolve("masks.safetensors")), Files.readAllBytes(out[3].resolve("masks.safetensors")),
                "--device cpu is the default");
        assertArrayEquals(Files.readAllBytes(out[0].resolve(Runner.SPLIT)), Files.readAllBytes(out[3].resolve(Runner.SPLIT)));
    }

    /** random pruning in one round: kept exactly where the seeded number is among the n_keep largest (no arithmetic involved) */
    static void assertRandomMasks(Masks m, long seed, double density) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, double[]> v = new LinkedHashMap<>();
        List<Double> all = new ArrayList<>();
        for (String name : m.names()) {
            double[] x = new double[Math.toIntExact(m.numel(name))];
            for (int i = 0; i < x.length; i++) all.add(x[i] = rng.nextDouble());
            v.put(name, x);
        }
        long keep = TopK.keepCount(m.total(), density);
        all.sort(null);
        double threshold = all.get(all.size() - (int) keep); // the n_keep-th largest
        assertEquals(keep, m.kept());
        for (String name : m.names()) {
            float[] mk = m.values(name);
            double[] x = v.get(name);
            for (int i = 0; i < x.length; i++) assertEquals(x[i] >= threshold ? 1f : 0f, mk[i], name + "[" + i + "]");
        }
    }

    /**
     * --rounds T gives T rows in rounds.csv; --schedule sets each row's target, d_r = d^((r+1)/T) (exponential, the
     * default) or 1 - (1 - d)(r+1)/T (linear), and global selection keeps n_keep(d_r) = N - floor((1 - d_r) N) in round r.
     */
    @Test void roundsAndScheduleSetTheTargetOfEveryRound(@TempDir Path tmp) throws Exception {
        double d = 0.1;
        for (String schedule : new String[] {null, "exponential", "linear"}) {
            for (int rounds : new int[] {1, 4}) {
                Path out = tmp.resolve(schedule + "-" + rounds);
                List<String> a = new ArrayList<>(List.of("--method", "magnitude", "--density", "" + d, "--rounds", "" + rounds));
                if (schedule != null) a.addAll(List.of("--schedule", schedule));
                prune(out, a.toArray(new String[0]));
                long total = Masks.load(out.resolve("masks.safetensors")).total();
                List<String> rows = Files.readAllLines(out.resolve("rounds.csv"));
                assertTrue(rows.get(0).startsWith("round,target_density,density,"), rows.get(0));
                assertEquals(rounds, rows.size() - 1, "one row per round");
                Schedule s = schedule == null ? Schedule.EXPONENTIAL : Schedule.parse(schedule);
                for (int r = 0; r < rounds; r++) {
                    String[] f = rows.get(r + 1).split(",");
                    double f1 = (r + 1.0) / rounds;
                    double target = r == rounds - 1 ? d : s == Schedule.LINEAR ? 1 - (1 - d) * f1 : Math.pow(d, f1);
                    assertEquals(r, Integer.parseInt(f[0]));
                    // the file prints 10 significant digits: 5e-10 relative, so 1e-9
                    assertEquals(target, Double.parseDouble(f[1]), 1e-9 * target, schedule + " round " + r);
                    double kept = TopK.keepCount(total, target);
                    assertEquals(kept / total, Double.parseDouble(f[2]), 1e-9 * kept / total, schedule + " round " + r + ": n_keep");
                }
                assertEquals(schedule == null ? "exponential" : schedule, summary(out).get("schedule"));
                assertEquals(rounds, ((Number) summary(out).get("rounds")).intValue());
            }
        }
    }

    /**
     * --per-layer keeps n_keep = N_l - floor((1 - d) N_l) of every layer, the largest |w| of that layer; without it the
     * n_keep of all weights are the largest |w| over the whole model, so the stem (fan-in 9, weights about 8 times larger
     * at initialisation than those of fan-in 576) keeps far more than d of its weights.
     */
    @Test void perLayerKeepsTheDensityInEveryLayer(@TempDir Path tmp) throws Exception {
        double d = 0.1;
        Map<String, float[]> w = initialWeights(1);
        Path layer = tmp.resolve("layer"), global = tmp.resolve("global");
        prune(layer, "--method", "magnitude", "--density", "" + d, "--rounds", "1", "--per-layer");
        prune(global, "--method", "magnitude", "--density", "" + d, "--rounds", "1");
        Masks ml = Masks.load(layer.resolve("masks.safetensors")), mg = Masks.load(global.resolve("masks.safetensors"));
        assertEquals("layer", summary(layer).get("scope"));
        assertEquals("global", summary(global).get("scope"));
        for (String n : ml.names()) {
            assertEquals(TopK.keepCount(ml.numel(n), d), ml.kept(n), n);
            assertTopByMagnitude(Map.of(n, w.get(n)), Map.of(n, ml.values(n)), n);
        }
        Map<String, float[]> gv = new LinkedHashMap<>();
        for (String n : mg.names()) gv.put(n, mg.values(n));
        assertEquals(TopK.keepCount(mg.total(), d), mg.kept());
        assertTopByMagnitude(w, gv, "global");
        String stem = mg.names().get(0);
        assertTrue(mg.density(stem) > 0.5, "the stem keeps " + mg.density(stem) + " globally, " + ml.density(stem) + " per layer");
    }

    /** every kept |w| is at least every removed |w| over the given layers (the magnitude scorer's top-k) */
    static void assertTopByMagnitude(Map<String, float[]> w, Map<String, float[]> masks, String what) {
        double minKept = Double.POSITIVE_INFINITY, maxRemoved = Double.NEGATIVE_INFINITY;
        for (String n : w.keySet()) {
            float[] wv = w.get(n), m = masks.get(n);
            for (int i = 0; i < wv.length; i++) {
                if (m[i] != 0) minKept = Math.min(minKept, Math.abs(wv[i]));
                else maxRemoved = Math.max(maxRemoved, Math.abs(wv[i]));
            }
        }
        assertTrue(minKept >= maxRemoved, what + ": kept |w| down to " + minKept + ", removed up to " + maxRemoved);
    }

    /** --weights with --dataset: the masks are those of the given weights (magnitude: their top |w|), not of the seeded init */
    @Test void weightsReplaceTheInitialisation(@TempDir Path tmp) throws Exception {
        Path wf = tmp.resolve("W.safetensors");
        try (Module m = ModelRegistry.create("resnet20", 1, 10, 8, 5)) {
            StateDicts.save(m, wf);
        }
        Path given = tmp.resolve("given"), init = tmp.resolve("init");
        prune(given, "--method", "magnitude", "--density", "0.1", "--rounds", "1", "--weights", wf.toString());
        prune(init, "--method", "magnitude", "--density", "0.1", "--rounds", "1");
        Masks m = Masks.load(given.resolve("masks.safetensors"));
        Map<String, float[]> mv = new LinkedHashMap<>();
        for (String n : m.names()) mv.put(n, m.values(n));
        assertTopByMagnitude(initialWeights(5), mv, "--weights");
        assertTrue(Files.isRegularFile(given.resolve(Runner.SPLIT)), "the examples still come from --dataset");
        assertFalse(Arrays.equals(Files.readAllBytes(given.resolve("masks.safetensors")), Files.readAllBytes(init.resolve("masks.safetensors"))));
    }

    /** --model and --dataset: the masks have the model's layers and shapes for the data set's images, the split its examples */
    @Test void modelAndDatasetPickTheNetworkAndTheExamples(@TempDir Path tmp) throws Exception {
        String[][] cases = {{"resnet32", "digits", "1"}, {"resnet20", "synthetic", "3"}};
        for (String[] c : cases) {
            Path out = tmp.resolve(c[0] + "-" + c[1]);
            MainTest.Result r = MainTest.run("prune", "--model", c[0], "--dataset", c[1], "--method", "random", "--density", "0.5",
                    "--rounds", "1", "--examples-per-class", "1", "--out", out.toString());
            assertEquals(0, r.code(), r.err());
            Dataset train = train(c[1]);
            Masks m = Masks.load(out.resolve("masks.safetensors"));
            try (Module model = ModelRegistry.create(c[0], train.channels(), train.numClasses(), Math.min(train.height(), train.width()), 1)) {
                List<PrunableLayer> layers = PrunableLayer.of(model);
                assertEquals(layers.stream().map(PrunableLayer::name).toList(), m.names());
                for (PrunableLayer l : layers) assertArrayEquals(l.shape(), m.shape(l.name()), l.name());
            }
            assertEquals(Integer.parseInt(c[2]), m.shape(m.names().get(0))[1], "the stem's input channels");
            assertArrayEquals(PruningSplit.select(train, 1, 1), PruningSplit.read(out.resolve(Runner.SPLIT)).indices());
            assertTrue(r.out().startsWith(c[0] + " on " + c[1] + " pruned with random"), r.out());
        }
        // --data-root: where a data set on disk is read from (the error names the folder below it)
        Path root = tmp.resolve("no-data");
        MainTest.Result r = MainTest.run("prune", "--model", "resnet20", "--dataset", "cifar10", "--data-root", root.toString(), "--method",
                "random", "--density", "0.5", "--rounds", "1", "--out", tmp.resolve("never").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(root.resolve("cifar-10-batches-bin").toString()), r.err());
        assertFalse(Files.exists(tmp.resolve("never")));
    }
}
