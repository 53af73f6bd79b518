package pxprune.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.experiments.cli.UsageException;
import pxprune.kernels.DeviceId;

/**
 * BenchMain's command line: [OUT_DIR] [INCLUDE] [--device D] [--px-authors DIR] [--synflow DIR], the
 * device passed to the forks, the checkouts of the reference implementations checked; and the rows
 * of the reference comparison: a ratio only from a time measured in the run.
 */
class BenchMainOptionsTest {
    @Test
    void parsesPositionalsAndDevice() {
        BenchMain.Cli c = BenchMain.parse(new String[] {});
        assertEquals(Path.of("bench-results"), c.out());
        assertEquals("cpu", c.device());
        c = BenchMain.parse(new String[] {"out", "ModelBench", "--device", "cuda:1"});
        assertEquals(Path.of("out"), c.out());
        assertEquals("ModelBench", c.include());
        assertEquals("cuda:1", c.device().toString());
        assertEquals("cuda", BenchMain.parse(new String[] {"--device=cuda", "o"}).device().toString());
        assertTrue(List.of(BenchMain.forkOptions(DeviceId.parse(c.device()))).contains("-D" + BenchMain.DEVICE_PROPERTY + "=cuda:1"));
        assertEquals(DeviceId.CPU, BenchMain.device());
    }

    @Test
    void refusesBadDevices() {
        UsageException e = assertThrows(UsageException.class, () -> BenchMain.parse(new String[] {"--device", "gpu"}));
        assertTrue(e.getMessage().startsWith("--device gpu: ") && e.getMessage().contains("cpu, cuda or cuda:N"), e.getMessage());
        assertThrows(UsageException.class, () -> BenchMain.parse(new String[] {"--device"}));
        assertThrows(UsageException.class, () -> BenchMain.parse(new String[] {"--device", "cpu", "--device=cpu"}));
        assertThrows(UsageException.class, () -> BenchMain.parse(new String[] {"--fast"}));
        assertThrows(UsageException.class, () -> BenchMain.parse(new String[] {"a", "b", "c"}));
    }

    @Test
    void takesTheCheckoutsFromOptionsOrTheEnvironmentAndChecksThem(@TempDir Path tmp) throws Exception {
        Path px = Files.createDirectories(tmp.resolve("px-ntk-pruning/lib")).getParent(), sf = tmp.resolve("Synaptic-Flow");
        Files.writeString(px.resolve("lib/pruners.py"), "");
        Files.createDirectories(sf.resolve("Pruners"));
        Files.writeString(sf.resolve("Pruners/pruners.py"), "");
        assertEquals(Map.of(), BenchMain.parse(new String[] {}, Map.of()).checkouts());
        BenchMain.Cli c = BenchMain.parse(new String[] {"o", "--px-authors", px.toString(), "--synflow=" + sf}, Map.of());
        assertEquals(Map.of(AuthorsRef.Code.PX, px, AuthorsRef.Code.SYNFLOW, sf), c.checkouts());
        assertEquals(Path.of("o"), c.out());
        c = BenchMain.parse(new String[] {}, Map.of("PXPRUNE_PX_AUTHORS", px.toString(), "PXPRUNE_SYNFLOW", ""));
        assertEquals(Map.of(AuthorsRef.Code.PX, px), c.checkouts()); // an empty variable names nothing
        // the option wins over the variable
        c = BenchMain.parse(new String[] {"--synflow", sf.toString()}, Map.of("PXPRUNE_SYNFLOW", tmp.resolve("nothing").toString()));
        assertEquals(sf, c.checkouts().get(AuthorsRef.Code.SYNFLOW));

        UsageException e = assertThrows(UsageException.class, () -> BenchMain.parse(new String[] {"--px-authors", sf.toString()}, Map.of()));
        assertTrue(e.getMessage().startsWith("--px-authors " + sf + ": no lib/pruners.py there")
                && e.getMessage().contains("https://github.com/iurada/px-ntk-pruning"), e.getMessage());
        e = assertThrows(UsageException.class, () -> BenchMain.parse(new String[] {}, Map.of("PXPRUNE_SYNFLOW", tmp.resolve("no").toString())));
        assertTrue(e.getMessage().startsWith("PXPRUNE_SYNFLOW=" + tmp.resolve("no") + ": no such folder")
                && e.getMessage().contains("git clone https://github.com/ganguli-lab/Synaptic-Flow") && e.getMessage().contains("9dfa57a"),
                e.getMessage());
        assertThrows(UsageException.class, () -> BenchMain.parse(new String[] {"--synflow"}, Map.of()));
        assertThrows(UsageException.class, () -> BenchMain.parse(new String[] {"--synflow", sf.toString(), "--synflow=" + sf}, Map.of()));
    }

    @Test
    void aReferenceThatDidNotRunGetsNoRatio() {
        Map<String, Double> ms = Map.of("PxBench.px100Rounds", 20_000.0, "PxBench.synflow100Rounds", 2_500.0);
        Map<String, Object> ratios = new LinkedHashMap<>(), json = new LinkedHashMap<>();
        List<String[]> summary = new ArrayList<>();
        List<String[]> rows = BenchMain.referenceRows(List.of(AuthorsRef.Result.notRun(AuthorsRef.Code.PX, AuthorsRef.Code.PX.howToEnable()),
                new AuthorsRef.Result(AuthorsRef.Code.SYNFLOW, 2.0, "Synaptic-Flow's SynFlow at 9dfa57a", Map.of("seconds", 2.0))),
                ms, ratios, summary, json);
        assertEquals(2, rows.size());
        String[] px = rows.get(0), sf = rows.get(1);
        assertEquals("20.00 s", px[1]);
        assertTrue(px[2].contains("not run: give --px-authors DIR or set PXPRUNE_PX_AUTHORS=DIR"), px[2]);
        assertEquals("", px[3]);
        assertEquals("", px[4]);
        assertEquals(List.of("2.50 s", "2.00 s", "1.25"), List.of(sf[1], sf[3], sf[4]));
        assertEquals(1, ratios.size());
        assertEquals(1.25, (Double) ratios.values().iterator().next(), 1e-12);
        assertEquals("not run", summary.get(0)[1]);
        assertTrue(summary.get(0)[0].startsWith("PX 100 rounds / the PX authors' code"), summary.get(0)[0]);
        assertEquals(Map.of("not_run", AuthorsRef.Code.PX.howToEnable()), json.get("px"));
    }

    @Test
    void theRowSaysWhatRanAndWhereItDiffersFromPxprune() {
        AuthorsRef.Model ours = new AuthorsRef.Model(272_474, 270_896, 4_877);
        Map<String, Object> j = new LinkedHashMap<>(Map.of("commit", AuthorsRef.Code.SYNFLOW.commit, "torch", "2.13.0+cpu", "threads", 2,
                "params", 272_474, "prunable", 270_896, "kept", 4_877, "stand_ins", List.of()));
        assertEquals("Synaptic-Flow's SynFlow at 9dfa57a, torch 2.13.0+cpu, 2 threads; their ResNet-20: 272,474 parameters, "
                + "270,896 prunable, as pxprune's; 4,877 kept, as pxprune", AuthorsRef.describe(AuthorsRef.Code.SYNFLOW, j, 2, ours));
        j.putAll(Map.of("commit", "0123456789abcdef", "threads", 1, "kept", 4_880, "stand_ins", List.of("tqdm")));
        String d = AuthorsRef.describe(AuthorsRef.Code.SYNFLOW, j, 2, ours);
        for (String part : List.of("at 0123456 (the bench was checked against 9dfa57a)", "1 threads (pxprune: 2)", "4,880 kept (pxprune keeps 4,877)",
                "stand-in: tqdm"))
            assertTrue(d.contains(part), d);
    }

    @Test
    void pxBenchsResNet20HasOpenLthsCounts() {
        // the counts the script compares theirs with (open_lth's CIFAR ResNet-20: 0.27M parameters,
        // every conv and linear weight prunable); density 0.018 keeps N - floor(0.982 N)
        assertEquals(new AuthorsRef.Model(272_474, 270_896, 4_877), AuthorsRef.Model.ofPxBench());
    }
}
