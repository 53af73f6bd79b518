package pxprune.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.px.Masks;
import pxprune.px.PrunableLayer;
import pxprune.px.Pruner;
import pxprune.px.TopK;
import pxprune.experiments.train.Checkpoint;
import pxprune.experiments.train.RunConfig;
import pxprune.experiments.train.Runner;

/**
 * The checks that come before any work: run folders whose summary or masks are not what a run
 * writes, densities that keep no weight, output folders that cannot be written. Each is one line
 * on stderr naming the file or option, and exit code 2.
 */
class RunChecksTest {
    static final String CONFIG = "{\"recipe\": \"digits\", \"method\": \"random\", \"density\": 0.05, \"rounds\": 1, \"epochs\": 1}";

    /** the CLI's result, checked to be a one-line error with exit code 2 that contains every expected part */
    static String error(MainTest.Result r, String... expected) {
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), "not one line: " + r.err());
        assertTrue(r.err().startsWith("pxprune: "), r.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), "stack trace or exception name: " + r.err());
        for (String e : expected) assertTrue(r.err().contains(e), "expected '" + e + "' in: " + r.err());
        return r.err();
    }

    /** a run folder for CONFIG holding the given summary.json and masks (null: none) */
    static Path runFolder(Path tmp, String summary, Masks masks) throws Exception {
        Path dir = tmp.resolve("runs").resolve(RunConfig.parse(CONFIG).hash());
        Files.createDirectories(dir);
        Files.writeString(tmp.resolve("cfg.json"), CONFIG);
        if (summary != null) Files.writeString(dir.resolve(Runner.SUMMARY), summary);
        if (masks != null) masks.save(dir.resolve(Runner.MASKS), "random", 1, 1);
        return dir;
    }

    static MainTest.Result runIn(Path tmp) {
        return MainTest.run("run", tmp.resolve("cfg.json").toString(), "--runs", tmp.resolve("runs").toString());
    }

    /** all-ones masks of resnet20 on digits, with the first `zeros` weights of every layer pruned (all if < 0) */
    static Masks masks(int zeros) {
        try (Module m = ModelRegistry.create("resnet20", 1, 10, 8, 0)) {
            Map<String, float[]> v = new LinkedHashMap<>();
            Map<String, int[]> s = new LinkedHashMap<>();
            for (PrunableLayer l : PrunableLayer.of(m)) {
                float[] a = new float[Math.toIntExact(l.numel())];
                Arrays.fill(a, zeros < 0 ? 0 : Math.min(zeros, a.length), a.length, zeros < 0 ? 0f : 1f);
                v.put(l.name(), a);
                s.put(l.name(), l.shape());
            }
            return Masks.of(v, s);
        }
    }

    static final String DONE = "{\"status\": \"done\", \"density\": 0.05, \"test_acc\": 0.9, \"test_loss\": 0.3}";

    static List<Object[]> badSummaries() {
        return List.of(
                new Object[] {"not json {", "is not a valid run summary"},
                new Object[] {"", "is not a valid run summary"},
                new Object[] {"[1, 2]", "is not a valid run summary"},
                new Object[] {"{\"status\": 5}", "status 5"},
                new Object[] {"{\"status\": \"running\", \"test_acc\": 0.9}", "expected \"done\""},
                new Object[] {DONE.replace("0.9", "\"high\""), "test_acc is \"high\""},
                new Object[] {DONE.replace("0.9", "null"), "test_acc is null"},
                new Object[] {DONE.replace(", \"test_acc\": 0.9", ""), "test_acc is missing"},
                new Object[] {DONE.replace("0.9", "1.5"), "test_acc is 1.5, expected a number in [0, 1]"},
                new Object[] {DONE.replace("0.9", "[0.9]"), "test_acc is [0.9]"},
                new Object[] {DONE.replace("0.05", "\"0.05\""), "density is \"0.05\", expected a number in (0, 1]"},
                new Object[] {DONE.replace("0.05", "0"), "density is 0,"});
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("badSummaries")
    void invalidSummaryNamesItsFileAndTheFix(String summary, String problem, @TempDir Path tmp) throws Exception {
        Path dir = runFolder(tmp, summary, masks(10));
        error(runIn(tmp), dir.resolve(Runner.SUMMARY) + " is not a valid run summary", problem,
                "delete " + dir.resolve(Runner.SUMMARY) + " (or the folder " + dir + ")");
    }

    @Test
    void validSummaryIsReportedDone(@TempDir Path tmp) throws Exception {
        runFolder(tmp, DONE, masks(10));
        MainTest.Result r = runIn(tmp);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("done (earlier)") && r.out().contains("90.00%"), r.out());
    }

    @Test
    void doneRunWhoseMasksKeepNothingOrAreMissingIsAnError(@TempDir Path tmp) throws Exception {
        Path dir = runFolder(tmp, DONE, masks(-1));
        error(runIn(tmp), dir.resolve(Runner.MASKS) + " keeps no weight (0 of ", "delete the folder " + dir);
        Files.delete(dir.resolve(Runner.MASKS));
        error(runIn(tmp), dir.resolve(Runner.MASKS) + " is missing", "delete");
        Files.writeString(dir.resolve(Runner.MASKS), "not safetensors");
        error(runIn(tmp), dir.resolve(Runner.MASKS).toString(), "not a readable masks file");
    }

    @Test
    void unfinishedRunWhoseMasksKeepNothingIsAnErrorNotTrained(@TempDir Path tmp) throws Exception {
        Path dir = runFolder(tmp, null, masks(-1));
        error(runIn(tmp), dir.resolve(Runner.MASKS).toString(), "keeps no weight");
        assertFalse(Files.exists(dir.resolve(Checkpoint.FILE)));
        assertFalse(Files.exists(dir.resolve(Runner.SUMMARY)));
    }

    // ------------------------------------------------------------------ densities that keep nothing
    static long resnet20Weights() {
        try (Module m = ModelRegistry.create("resnet20", 1, 10, 8, 0)) {
            return PrunableLayer.of(m).stream().mapToLong(PrunableLayer::numel).sum();
        }
    }

    /** the density the message proposes, checked to keep a weight and to be about 1/N */
    static double proposed(String err, long n) {
        Matcher mt = Pattern.compile("use density >= ([0-9.e+-]+)").matcher(err);
        assertTrue(mt.find(), err);
        double d = Double.parseDouble(mt.group(1));
        assertTrue(TopK.keepCount(n, d) >= 1, "proposed density " + d + " keeps nothing of " + n);
        assertTrue(d >= 1.0 / n && d <= 1.1 / n, "proposed density " + d + " is not about 1/" + n);
        return d;
    }

    @Test
    void runWithADensityThatKeepsNothingIsRefusedBeforePruning(@TempDir Path tmp) {
        long n = resnet20Weights();
        Path runs = tmp.resolve("runs");
        String err = error(MainTest.run("run", "digits", "--set", "density=1e-300", "--runs", runs.toString()),
                "'density'", "density 1e-300 keeps no weight of resnet20's " + String.format(Locale.ROOT, "%,d", n) + " prunable weights");
        proposed(err, n);
        Path dir = runs.resolve(Runner.folder(runs, pxprune.experiments.train.Recipes.digits().withSet("density=1e-300")).getFileName());
        assertFalse(Files.exists(dir.resolve(Runner.MASKS)) || Files.exists(dir.resolve(Runner.SPLIT)), "pruning started");
    }

    @Test
    void pruneWithADensityThatKeepsNothingIsRefusedAndTheProposedOneWorks(@TempDir Path tmp) {
        long n = resnet20Weights();
        Path out = tmp.resolve("p");
        String err = error(MainTest.run(("prune --model resnet20 --dataset digits --method random --density 1e-300 --rounds 2 --out " + out)
                .split(" ")), "density 1e-300 keeps no weight", String.format(Locale.ROOT, "%,d", n));
        assertFalse(Files.exists(out.resolve(Runner.SPLIT)), "prune wrote the split before refusing");
        double d = proposed(err, n);
        MainTest.Result r = MainTest.run(("prune --model resnet20 --dataset digits --method random --density " + d + " --rounds 1 --out " + out)
                .split(" "));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("(" + TopK.keepCount(n, d) + " of " + n + " weights kept)"), r.out());
    }

    @Test
    void perLayerSelectionNeedsAWeightInTheSmallestLayer() {
        try (Module m = ModelRegistry.create("resnet20", 1, 10, 8, 0)) {
            PrunableLayer small = PrunableLayer.of(m).stream().min(java.util.Comparator.comparingLong(PrunableLayer::numel)).orElseThrow();
            double d = 0.5 / small.numel();
            Pruner.checkKeepsWeights(m, "resnet20", 1e-300 + d, false); // global: N is large enough
            String msg = assertThrows(IllegalArgumentException.class, () -> Pruner.checkKeepsWeights(m, "resnet20", 1e-17, true))
                    .getMessage();
            assertTrue(msg.contains(small.name()) && msg.contains("per-layer"), msg);
            double p = proposed(msg, small.numel());
            Pruner.checkKeepsWeights(m, "resnet20", p, true);
        }
    }

    // ------------------------------------------------------------------ output folders
    static List<Object[]> unwritable() {
        return List.of(new Object[] {"/proc/pxprune-never"}, new Object[] {"/sys/pxprune-never"}, new Object[] {"FILE/sub"},
                new Object[] {"FILE/sub/deeper"}, new Object[] {"FILE"});
    }

    private static String path(String p, Path tmp) throws Exception {
        Path f = tmp.resolve("regular-file");
        if (!Files.exists(f)) Files.writeString(f, "x");
        return p.replace("FILE", f.toString());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("unwritable")
    void unwritableRunsFolderFailsBeforeAnyWork(String p, @TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("cfg.json"), CONFIG);
        String dir = path(p, tmp);
        error(MainTest.run("run", tmp.resolve("cfg.json").toString(), "--runs", dir), "--runs " + dir);
        error(MainTest.run("run", "--runs", dir), "--runs " + dir); // the main job
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("unwritable")
    void unwritablePruneOutFailsBeforeAnyWork(String p, @TempDir Path tmp) throws Exception {
        String dir = path(p, tmp);
        error(MainTest.run("prune", "--model", "resnet20", "--dataset", "digits", "--method", "random", "--density", "0.1",
                "--rounds", "1", "--out", dir), "--out " + dir);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("unwritable")
    void unwritableScoreOutFailsBeforeAnyWork(String p, @TempDir Path tmp) throws Exception {
        String file = path(p, tmp) + "/O.safetensors";
        String any = path("FILE", tmp); // never read: the output is checked first
        error(MainTest.run("score", "--model", "resnet20", "--weights", any, "--batch", any, "--method", "px", "--out", file),
                "--out " + file);
    }

    @Test
    void outputDirCreatesWritableFoldersAndNamesTheOption(@TempDir Path tmp) throws Exception {
        Path nested = tmp.resolve("a/b/c");
        assertEquals(nested, OutputDir.prepare(nested, "OUT_DIR"));
        assertFalse(Files.exists(tmp.resolve("a")), "the check left the folders it made behind");
        Files.createDirectories(nested);
        assertEquals(nested, OutputDir.prepare(nested, "OUT_DIR"));
        try (var s = Files.list(nested)) {
            assertEquals(0, s.count(), "the write check left a file behind");
        }
        assertTrue(Files.isDirectory(nested), "a folder that existed before is kept");
        Path f = tmp.resolve("f");
        Files.writeString(f, "x");
        String m = assertThrows(UsageException.class, () -> OutputDir.prepare(f, "OUT_DIR")).getMessage();
        assertTrue(m.startsWith("OUT_DIR " + f) && m.contains("not a folder"), m);
        m = assertThrows(UsageException.class, () -> OutputDir.prepare(f.resolve("x"), "--runs")).getMessage();
        assertTrue(m.startsWith("--runs " + f.resolve("x")) && m.contains(f + " is a file"), m);
        m = assertThrows(UsageException.class, () -> OutputDir.prepareFile(nested, "--out")).getMessage();
        assertTrue(m.startsWith("--out " + nested) && m.contains("is a folder"), m);
        assertEquals(tmp.resolve("new/O.safetensors"), OutputDir.prepareFile(tmp.resolve("new/O.safetensors"), "--out"));
        assertFalse(Files.exists(tmp.resolve("new")), "checked, then left as it was: the writer makes the folder");
    }
}
