package pxprune.experiments.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import pxprune.experiments.train.ConfigException;
import pxprune.experiments.train.RunConfig;
import pxprune.experiments.cli.MainTest;
import pxprune.experiments.cli.MainTest.Result;

/** The sweep file: strict checks, grid expansion, invalid points, the CLI's refusals and --dry-run (no child JVMs). */
class SweepSpecTest {
    static final String GRID = "{\"name\": \"t\", \"base\": {\"recipe\": \"digits\", \"epochs\": 1, \"rounds\": 3},"
            + " \"grid\": {\"method\": [\"px\", \"synflow\"], \"density\": [0.1, 0.01], \"seed\": [1, 2]}}";

    @Test
    void expandsTheProductFirstKeySlowest() {
        SweepSpec s = SweepSpec.parse(GRID, "x");
        assertEquals("t", s.name());
        assertEquals("runs", s.runs());
        List<SweepPoint> p = s.points();
        assertEquals(8, p.size());
        assertEquals("method=px density=0.1 seed=1", p.get(0).label());
        assertEquals("method=px density=0.1 seed=2", p.get(1).label());
        assertEquals("method=px density=0.01 seed=1", p.get(2).label());
        assertEquals("method=synflow density=0.01 seed=2", p.get(7).label());
        for (int i = 0; i < 8; i++) assertEquals(i + 1, p.get(i).index());
        RunConfig c = p.get(5).config();
        assertEquals("synflow", c.method());
        assertEquals(0.1, c.density());
        assertEquals(2, c.seed());
        assertEquals(1, c.epochs());
        assertEquals(3, c.rounds());
        assertEquals(8, p.stream().map(SweepPoint::hash).distinct().count());
        // the hash is the run folder of the same config run alone
        assertEquals(RunConfig.parse("{\"recipe\": \"digits\", \"epochs\": 1, \"rounds\": 3, \"method\": \"synflow\", \"density\": 0.1,"
                + " \"seed\": 2}").hash(), p.get(5).hash());
        assertEquals(0, p.get(0).gpus());
        // the file name names a sweep without a name
        assertEquals("mine", SweepSpec.parse("{\"grid\": {\"seed\": [1]}}", "mine").name());
    }

    @Test
    void anImpossiblePointIsInvalidNotAnError() {
        SweepSpec s = SweepSpec.parse("{\"grid\": {\"method\": [\"dense\", \"px\"], \"density\": [1, 0.1]}}", "x");
        List<SweepPoint> p = s.points();
        assertTrue(p.get(0).valid());
        assertFalse(p.get(1).valid()); // dense at density 0.1
        assertTrue(p.get(1).error().contains("invalid config") && p.get(1).error().contains("'density'"), p.get(1).error());
        assertEquals("-", p.get(1).hash());
        assertTrue(p.get(2).valid() && p.get(3).valid());
        SweepPoint m = SweepSpec.parse("{\"grid\": {\"model\": [\"resnet20\", \"resnet21\"]}}", "x").points().get(1);
        assertTrue(m.error().contains("'model'") && m.error().contains("resnet21"), m.error());
        // a value of the wrong type is the point's problem too
        SweepPoint w = SweepSpec.parse("{\"grid\": {\"seed\": [1, \"two\"]}}", "x").points().get(1);
        assertTrue(w.error().contains("'seed'"), w.error());
        // two points that are one config run once
        List<SweepPoint> d = SweepSpec.parse("{\"base\": {\"recipe\": \"digits\"}, \"grid\": {\"epochs\": [20, 19], \"lr\": [0.1]},"
                + " \"runs\": \"r\"}", "x").points();
        assertTrue(d.get(0).valid() && d.get(1).valid());
        List<SweepPoint> same = SweepSpec.parse("{\"grid\": {\"density\": [1, 1.0]}}", "x").points();
        assertTrue(same.get(0).valid());
        assertTrue(same.get(1).error().contains("same config"), same.get(1).error());
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @CsvSource(delimiter = '|', value = {
            "{\"grid\": {\"seed\": [1]}, \"seeds\": 3}|unknown key 'seeds'",
            "{\"grid\": {\"seed\": [1]}, \"epochs\": 3}|put the config key 'epochs' inside base or grid",
            "{\"base\": {\"epochs\": 1}}|no 'grid'",
            "{\"grid\": {}}|non-empty object",
            "{\"grid\": {\"seed\": []}}|grid key 'seed': expected a non-empty list",
            "{\"grid\": {\"seed\": 1}}|grid key 'seed': expected a non-empty list",
            "{\"grid\": {\"sed\": [1]}}|grid key 'sed' is not a config key",
            "{\"base\": {\"epoch\": 1}, \"grid\": {\"seed\": [1]}}|base key 'epoch' is not a config key",
            "{\"base\": {\"seed\": 1}, \"grid\": {\"seed\": [1]}}|both in base and in grid",
            "{\"grid\": {\"seed\": [1, 2, 1]}}|listed twice (positions 1 and 3)",
            "{\"name\": \"a/b\", \"grid\": {\"seed\": [1]}}|key 'name'",
            "{\"runs\": 3, \"grid\": {\"seed\": [1]}}|key 'runs'",
            "{\"base\": [1], \"grid\": {\"seed\": [1]}}|key 'base'",
            "{\"grid\": {\"seed\": [1], \"seed\": [2]}}|duplicate",
            "[1, 2]|must be a JSON object",
            "{\"grid\": |not valid JSON"})
    void badFilesAreRefusedByName(String text, String expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> SweepSpec.parse(text, "x"));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void tooManyPointsAreRefused() {
        String big = "{\"grid\": {\"seed\": " + range(100) + ", \"epochs\": " + range(100) + ", \"rounds\": " + range(11) + "}}";
        ConfigException e = assertThrows(ConfigException.class, () -> SweepSpec.parse(big, "x"));
        assertTrue(e.getMessage().contains("more than 100000 points"), e.getMessage());
    }

    private static String range(int n) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 1; i <= n; i++) sb.append(i == 1 ? "" : ",").append(i);
        return sb.append(']').toString();
    }

    static Result main(String... args) { return MainTest.run(args); }

    @Test
    void cliRefusalsAreOneLineWithExitCode2(@TempDir Path tmp) throws Exception {
        Path good = tmp.resolve("g.json"), bad = tmp.resolve("b.json"), none = tmp.resolve("n.json");
        Files.writeString(good, GRID);
        Files.writeString(bad, "{\"grid\": {\"seed\": []}}");
        Files.writeString(none, "{\"grid\": {\"model\": [\"resnet21\"]}}");
        String runs = tmp.resolve("runs").toString();
        String[][] cases = {
                {"sweep"}, {"sweep", tmp.resolve("missing.json").toString()}, {"sweep", bad.toString()},
                {"sweep", good.toString(), "--threads", "0"}, {"sweep", good.toString(), "--retries", "x"},
                {"sweep", good.toString(), "--spark", "mesos://x"}, {"sweep", good.toString(), "--spark", "local[2]", "--parallel", "2"},
                {"sweep", good.toString(), "--frob"}, {"sweep", none.toString(), "--runs", runs},
                {"sweep", good.toString(), "--runs", runs, "--spark", "local[2]"}};
        String[] expected = {"needs a sweep file", "no such file", "grid key 'seed'", "outside 1..4096", "not an integer",
                "is not a Spark master", "--parallel is for the embedded sweep", "unknown option --frob", "no grid point is a valid config",
                "--spark needs the sweep-spark module"};
        for (int i = 0; i < cases.length; i++) {
            Result r = main(cases[i]);
            assertEquals(2, r.code(), String.join(" ", cases[i]) + ": " + r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("pxprune: ") && r.err().contains(expected[i]), "expected '" + expected[i] + "' in: " + r.err());
        }
        assertFalse(Files.exists(tmp.resolve("runs")), "a refused sweep left its runs folder behind");
    }

    @Test
    void dryRunListsEveryPointAndWritesNothing(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("g.json");
        Files.writeString(f, GRID.replace("[1, 2]", "[1, 2, \"x\"]"));
        Path runs = tmp.resolve("runs");
        Result r = main("sweep", f.toString(), "--runs", runs.toString(), "--dry-run");
        assertEquals(0, r.code(), r.err());
        for (SweepPoint p : SweepSpec.load(f).points()) {
            String line = r.out().lines().filter(l -> l.startsWith(String.format("%4d  ", p.index()))).findFirst().orElseThrow();
            assertTrue(line.contains(p.label()), line);
            assertTrue(p.valid() ? line.contains(p.hash()) && line.endsWith("to run") : line.contains("INVALID"), line);
        }
        assertTrue(r.out().contains("8 to run, 0 done earlier, 4 invalid"), r.out());
        assertFalse(Files.exists(runs));
    }

    @Test
    void gpuSlotsHandOutOneGpuPerRun() throws Exception {
        Slots s = new Slots(2);
        List<Integer> a = s.acquire(1), b = s.acquire(1);
        assertEquals(List.of(0), a);
        assertEquals(List.of(1), b);
        assertEquals(0, s.free());
        CountDownLatch got = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try {
                assertEquals(List.of(1), s.acquire(1));
                got.countDown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        t.start();
        assertFalse(got.await(200, TimeUnit.MILLISECONDS), "a third run got a GPU while both were taken");
        s.release(b);
        assertTrue(got.await(5, TimeUnit.SECONDS));
        assertEquals(List.of(), new Slots(0).acquire(0));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new Slots(0).acquire(1));
        assertTrue(e.getMessage().contains("--gpus"), e.getMessage());
    }

    @Test
    void theReadmeExampleIsAValidGridOfEightRuns() throws Exception {
        SweepSpec s = SweepSpec.load(Path.of("..", "examples", "digits-small.json"));
        assertEquals("digits-small", s.name());
        assertEquals(8, s.points().size());
        assertTrue(s.points().stream().allMatch(SweepPoint::valid));
    }
}
