package pxprune.experiments.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.datasets.DatasetRegistry;
import pxprune.px.Masks;
import pxprune.experiments.train.RunConfig;
import pxprune.experiments.train.Runner;
import pxprune.experiments.cli.MainTest;
import pxprune.experiments.cli.MainTest.Result;

/**
 * The report over run folders written as the Runner writes them: groups and their statistics,
 * collapse, Jaccard, NTK numbers, broken folders (left out with a note naming the file), and the
 * CLI end to end with its usage errors (exit 2, one line).
 */
class ReportTest {
    @TempDir static Path tmp;
    static Path runs;
    static Masks px1, px2, px3, rnd1, emptied;

    static Result cli(String... args) { return MainTest.run(args); }

    /** px at 0.05 (3 seeds), px_datafree with the same masks (2 seeds), random (1), px at 0.01 with stage 3 emptied, dense */
    @BeforeAll static void runs() throws Exception {
        runs = tmp.resolve("runs");
        px1 = Fixtures.random(0.05, 1);
        px2 = Fixtures.random(0.05, 2);
        px3 = Fixtures.random(0.05, 3);
        rnd1 = Fixtures.random(0.05, 101);
        Map<String, float[]> v = Fixtures.ones();
        for (String l : new String[] {"blocks.6.conv1.weight", "blocks.6.conv2.weight", "blocks.7.conv1.weight", "blocks.7.conv2.weight",
                "blocks.8.conv1.weight", "blocks.8.conv2.weight"}) Arrays.fill(v.get(l), 0f);
        emptied = Masks.of(v, Fixtures.shapes());
        Fixtures.writeRun(runs, Fixtures.config("px", 0.05, 1), px1, 0.80);
        Fixtures.writeRun(runs, Fixtures.config("px", 0.05, 2), px2, 0.82);
        Fixtures.writeRun(runs, Fixtures.config("px", 0.05, 3), px3, 0.90);
        Fixtures.writeRun(runs, Fixtures.config("px_datafree", 0.05, 1), px1, 0.70);
        Fixtures.writeRun(runs, Fixtures.config("px_datafree", 0.05, 2), px2, 0.74);
        Fixtures.writeRun(runs, Fixtures.config("random", 0.05, 1), rnd1, 0.10);
        Fixtures.writeRun(runs, Fixtures.config("px", 0.01, 1), emptied, 0.50);
        Fixtures.writeRun(runs, Fixtures.config(RunConfig.DENSE, 1, 1), Masks.of(Fixtures.ones(), Fixtures.shapes()), 0.95);
    }

    static String read(Path p) throws Exception { return Files.readString(p, StandardCharsets.UTF_8); }

    @Test void groupsAndTheirStatistics() throws Exception {
        RunFolders.Scan scan = RunFolders.scan(List.of(runs));
        assertEquals(List.of(), scan.notes());
        assertEquals(8, scan.runs().size());
        List<Report.Group> groups = Report.groups(scan.runs().stream().filter(r -> !r.method().equals("dense")).toList());
        assertEquals(List.of("px 0.05", "px 0.01", "px_datafree 0.05", "random 0.05"),
                groups.stream().map(g -> g.method() + " " + g.density()).toList());
        Stats acc = groups.get(0).acc();
        assertEquals(3, acc.n());
        assertEquals(0.84, acc.mean(), 1e-12);
        assertEquals(Math.sqrt((0.04 * 0.04 + 0.02 * 0.02 + 0.06 * 0.06) / 2), acc.std(), 1e-12);

        var j = Report.jaccard(groups);
        Stats same = j.get(List.of("px", "px_datafree")).get(0.05);
        assertEquals(2, same.n(), "the seeds both have");
        assertEquals(1.0, same.mean(), 0);
        assertEquals(Jaccard.of(px1, rnd1), j.get(List.of("px", "random")).get(0.05).mean(), 0, "seed 1 only");
        assertEquals(null, j.get(List.of("px", "random")).get(0.01));

        Path out = tmp.resolve("rep1");
        Files.createDirectories(out);
        Report.Written w = Report.write(scan, List.of(runs), null, out);
        String md = read(w.markdown());
        assertTrue(md.contains("| **dense** | 1 | 1 | 1 | 1 | 95.00% ± - | 95.00% - 95.00% |"), md);
        assertTrue(md.contains(String.format(java.util.Locale.ROOT, "| px | 0.05 | 3 | 3 | %.6f | 84.00%% ± 5.29 | 80.00%% - 90.00%% |",
                (px1.density() + px2.density() + px3.density()) / 3)), md);
        assertTrue(md.contains("| px | 0.01 | 1 | 6 | 3 | 10 | branches: blocks.6, blocks.7, blocks.8; layers: blocks.6.conv1, "), md);
        int[] reach = new int[3]; // random 5% masks: a seed may leave an output unreachable; the table shows each seed's count
        try (pxprune.nn.Module m = pxprune.nn.ModelRegistry.create("resnet20", 1, 10, 8, 0)) {
            Masks[] ms = {px1, px2, px3};
            for (int i = 0; i < 3; i++) reach[i] = pxprune.px.Connectivity.reachableOutputs(m, ms[i], new int[] {1, 1, 8, 8})[0];
        }
        String cell = reach[0] == reach[1] && reach[1] == reach[2] ? "" + reach[0]
                : Arrays.stream(reach).min().getAsInt() + " - " + Arrays.stream(reach).max().getAsInt() + " (" + reach[0] + ", " + reach[1]
                + ", " + reach[2] + ")";
        assertTrue(md.contains("| px | 0.05 | 3 | 0 | 0 | " + cell + " | - |"), cell + " in " + md);
        assertTrue(md.contains("| 0.05 | 2 | **1.0000 ± 0.0000** | 0.0256 |"), "px against px_datafree: " + md);
        assertFalse(md.contains("NTK"), "no NTK numbers, no NTK section");
        for (String f : new String[] {"accuracy.png", "heatmap_px.png", "heatmap_px_datafree.png", "heatmap_random.png", "jaccard.png"}) {
            assertNotNull(ImageIO.read(out.resolve(f).toFile()), f);
            assertTrue(md.contains("](" + f + ")"), f + " linked");
        }
        assertFalse(Files.exists(out.resolve("heatmap_dense.png")));
        assertEquals(5, w.pngs().size());
    }

    @Test void brokenAndUnfinishedFoldersAreLeftOutWithANoteNamingTheFile() throws Exception {
        Path more = tmp.resolve("broken");
        Path good = Fixtures.writeRun(more, Fixtures.config("px", 0.05, 7), px1, 0.5);
        Path badJson = Fixtures.writeRun(more, Fixtures.config("px", 0.05, 8), px1, 0.5);
        Files.writeString(badJson.resolve(Runner.SUMMARY), "{\"status\": \"done\", ");
        Path badMasks = Fixtures.writeRun(more, Fixtures.config("px", 0.05, 9), px1, 0.5);
        Files.write(badMasks.resolve(Runner.MASKS), new byte[] {1, 2, 3});
        Path badAcc = Fixtures.writeRun(more, Fixtures.config("px", 0.05, 10), px1, 0.5);
        Files.writeString(badAcc.resolve(Runner.SUMMARY), read(badAcc.resolve(Runner.SUMMARY)).replace("\"test_acc\": 0.5", "\"test_acc\": \"high\""));
        Path otherDensity = Fixtures.writeRun(more, Fixtures.config("px", 0.05, 11), px1, 0.5);
        Files.writeString(otherDensity.resolve(Runner.SUMMARY), read(otherDensity.resolve(Runner.SUMMARY))
                .replace("\"density\": " + px1.density(), "\"density\": 0.5"));
        Path unfinished = Fixtures.writeRun(more, Fixtures.config("px", 0.05, 12), px1, 0.5);
        Files.delete(unfinished.resolve(Runner.SUMMARY));
        Path notConfig = more.resolve("sweep");
        Files.createDirectories(notConfig);
        Files.writeString(notConfig.resolve(Runner.CONFIG), "{\"methods\": [\"px\"]}");
        Path copy = more.resolve("copy").resolve(good.getFileName());
        Files.createDirectories(copy);
        for (String f : new String[] {Runner.CONFIG, Runner.SUMMARY, Runner.MASKS}) Files.copy(good.resolve(f), copy.resolve(f));
        Path badNtk = Fixtures.writeRun(more, Fixtures.config("px", 0.05, 13), px1, 0.5);
        Files.writeString(badNtk.resolve(RunFolders.NTK), "trace_kept\nabc\n");

        Path out = tmp.resolve("rep2");
        Result r = cli("report", more.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("report of 2 runs"), r.out());
        String md = read(out.resolve(Report.MARKDOWN));
        String[][] expected = {
                {badJson.resolve(Runner.SUMMARY).toString(), "is not a valid run summary"},
                {badMasks.resolve(Runner.MASKS).toString(), "is not a readable masks file"},
                {badAcc.resolve(Runner.SUMMARY).toString(), "test_acc is \"high\", expected a number in [0, 1]"},
                {otherDensity.resolve(Runner.MASKS).toString(), "says density 0.500000"},
                {unfinished.toString(), "unfinished run"},
                {notConfig.resolve(Runner.CONFIG).toString(), "is not a run config"},
                {copy.toString(), "the same run"},
                {badNtk.resolve(RunFolders.NTK).toString(), "trace_kept is 'abc'"}};
        for (String[] e : expected) {
            assertTrue(md.lines().anyMatch(l -> l.contains(e[0]) && l.contains(e[1])), "note for " + e[0] + " (" + e[1] + ") in " + md);
            assertTrue(r.err().lines().anyMatch(l -> l.contains(e[0]) && l.contains(e[1])), "stderr note for " + e[0] + ": " + r.err());
        }
        assertTrue(md.contains("| px | 0.05 | 2 | 2 |"), "good and badNtk counted, the copy once: " + md);
    }

    /** runs of one method that differ in another key than seed and density are two methods, labelled by that key */
    @Test void variantsOfAMethodAreGroupsOfTheirOwn() throws Exception {
        Path v = tmp.resolve("variants");
        Fixtures.writeRun(v, Fixtures.config("px", 0.05, 1), px1, 0.8);
        Fixtures.writeRun(v, Fixtures.config("px", 0.05, 1).with("rounds", 1L), px2, 0.6);
        Fixtures.writeRun(v, Fixtures.config("px", 0.05, 2).with("rounds", 1L), px1, 0.4);
        Path out = tmp.resolve("rep-variants");
        Result r = cli("report", v.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        String md = read(out.resolve(Report.MARKDOWN));
        assertTrue(md.contains("| px (rounds=5) | 0.05 | 1 | 1 |"), md);
        assertTrue(md.contains("| px (rounds=1) | 0.05 | 2 | 2 |"), md);
        assertTrue(md.contains("50.00% ± 14.14"), "the rounds=1 pair: mean 0.5, sample std 0.1414: " + md);
        assertFalse(md.contains("differ in more than the seed"), md);
    }

    @Test void ntkNumbersFromRunFoldersAndFromATable() throws Exception {
        Path n = tmp.resolve("ntkruns");
        Path a = Fixtures.writeRun(n, Fixtures.config("px", 0.05, 1), px1, 0.8);
        Path b = Fixtures.writeRun(n, Fixtures.config("px", 0.05, 2), px2, 0.8);
        Fixtures.writeRun(n, Fixtures.config("random", 0.05, 1), rnd1, 0.1);
        Files.writeString(a.resolve(RunFolders.NTK), "density,trace_kept\n0.05,0.5\n0.05,0.7\n"); // its mean: 0.6
        Path table = tmp.resolve("ntk-table.csv");
        Files.writeString(table, "run,density,trace_kept\n,1,1\n" + b.getFileName() + ",0.05,0.8\nffffffffffff,0.05,0.1\n"); // ",1,1": dense
        Path out = tmp.resolve("rep3");
        Result r = cli("report", n.toString(), "--out", out.toString(), "--ntk", table.toString());
        assertEquals(0, r.code(), r.err());
        String md = read(out.resolve(Report.MARKDOWN));
        assertTrue(md.contains("### NTK trace kept"), md);
        assertTrue(md.contains("| px | 0.05 | 2 | 0.7000 ± 0.1414 |"), "mean of 0.6 and 0.8, sample std 0.1414: " + md);
        assertFalse(md.contains("| random | 0.05 | 1 |") && md.contains("| random | 0.05 | 0 |"), md);
        assertTrue(md.contains("--ntk: run 'ffffffffffff' is none of the finished runs found"), md);
        assertNotNull(ImageIO.read(out.resolve("ntk.png").toFile()));
    }

    /** RUNS... and --ntk ...: every folder given is scanned and every table read (their runs and numbers together) */
    @Test void severalRunFoldersAndNtkTables() throws Exception {
        Path a = Fixtures.writeRun(tmp.resolve("roots").resolve("a"), Fixtures.config("px", 0.05, 1), px1, 0.8);
        Path b = Fixtures.writeRun(tmp.resolve("roots").resolve("b"), Fixtures.config("px", 0.05, 2), px2, 0.6);
        Path ta = tmp.resolve("ntk-a.csv"), tb = tmp.resolve("ntk-b.csv");
        Files.writeString(ta, "run,trace_kept\n" + a.getFileName() + ",0.5\n");
        Files.writeString(tb, "run,trace_kept\n" + b.getFileName() + ",0.7\n");
        Path out = tmp.resolve("rep-several");
        Result r = cli("report", a.getParent().toString(), b.getParent().toString(), "--out", out.toString(), "--ntk", ta.toString(),
                "--ntk", tb.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("report of 2 runs written to " + out.resolve(Report.MARKDOWN)), r.out());
        String md = read(out.resolve(Report.MARKDOWN));
        assertTrue(md.contains("70.00% ± 14.14"), "accuracy 0.8 and 0.6 from the two folders: " + md);
        assertTrue(md.contains("| px | 0.05 | 2 | 0.6000 ± 0.1414 |"), "trace kept 0.5 and 0.7 from the two tables: " + md);
    }

    @Test void usageErrorsAreOneLineWithExitCode2() throws Exception {
        Path empty = tmp.resolve("empty");
        Files.createDirectories(empty);
        Path file = tmp.resolve("a-file.txt");
        Files.writeString(file, "x");
        Path badTable = tmp.resolve("bad-ntk.csv");
        Files.writeString(badTable, "run,trace\nabc,1\n");
        Path neverMade = tmp.resolve("never-made");
        List<String[]> cases = new ArrayList<>();
        cases.add(new String[] {"needs at least one folder of runs", "report"});
        cases.add(new String[] {tmp.resolve("nope") + " does not exist", "report", tmp.resolve("nope").toString()});
        cases.add(new String[] {file + " is not a folder", "report", file.toString()});
        cases.add(new String[] {"unknown option --bogus", "report", runs.toString(), "--bogus", "1"});
        cases.add(new String[] {"--out " + file + " exists and is not a folder", "report", runs.toString(), "--out", file.toString()});
        cases.add(new String[] {"no finished run under " + empty, "report", empty.toString(), "--out", neverMade.toString()});
        cases.add(new String[] {badTable + " has no column 'trace_kept'", "report", runs.toString(), "--ntk", badTable.toString()});
        cases.add(new String[] {"--ntk " + tmp.resolve("none.csv") + ": no such file", "report", runs.toString(), "--ntk",
                tmp.resolve("none.csv").toString()});
        for (String[] c : cases) {
            Result r = cli(Arrays.copyOfRange(c, 1, c.length));
            assertEquals(2, r.code(), String.join(" ", c) + ": " + r.err());
            assertEquals(1, r.err().lines().count(), "one line: " + r.err());
            assertTrue(r.err().startsWith("pxprune: ") && r.err().contains(c[0]), "expected '" + c[0] + "' in: " + r.err());
        }
        assertFalse(Files.exists(neverMade), "a refused report leaves no folder behind");
    }

    @Test void theInputSidesAreTheDatasetsOwn() {
        for (String d : new String[] {"digits", "synthetic"}) {
            var set = DatasetRegistry.load(d, null, false, 0);
            assertEquals(RunFolders.INPUT_SIDE.get(d), Math.min(set.height(), set.width()), d);
        }
        assertTrue(RunFolders.INPUT_SIDE.keySet().containsAll(DatasetRegistry.names()), "every dataset has its input side");
    }
}
