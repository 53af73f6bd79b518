package pxprune.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.io.Json;
import pxprune.core.io.SafeTensors;

/**
 * The options each command documents do what its usage says: --help on every command, prune's --weights and --batch
 * (the masks are the top-k of the scores that score computes for the same file and batch), ntk's --batch (the trace is
 * additive over the batch's examples), sweep's --gpus refused with --spark.
 */
class CommandOptionsTest {
    @Test void everyCommandPrintsItsUsageOnHelp() {
        for (String cmd : Main.COMMANDS.split(", "))
            for (String h : new String[] {"--help", "-h"}) {
                MainTest.Result r = MainTest.run(cmd, h);
                assertEquals(0, r.code(), cmd + " " + h + ": " + r.err());
                String first = r.out().lines().findFirst().orElse("");
                assertTrue(first.startsWith("usage: pxprune" + (cmd.equals("help") ? "" : " " + cmd)), cmd + " " + h + ":\n" + r.out());
            }
        // help after other options too, and the command's own options are listed
        MainTest.Result r = MainTest.run("ntk", "--model", "resnet20", "--help");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("--batch B.safetensors") && !r.out().contains("sweep SWEEP.json"), r.out());
        r = MainTest.run("prune", "--help");
        assertTrue(r.out().contains("--weights W.safetensors") && r.out().contains("density is the fraction"), r.out());
    }

    /** the golden weights and the first n golden examples (x, y) as a batch file */
    static Path[] files(Path tmp, int from, int n, String name) throws Exception {
        Path[] f = PredictCommandTest.files(tmp);
        SafeTensors.File g = PredictCommandTest.G;
        float[] x = g.get("x").toFloats();
        long[] y = g.get("y").toLongs();
        int per = x.length / y.length;
        float[] xs = java.util.Arrays.copyOfRange(x, from * per, (from + n) * per);
        long[] ys = java.util.Arrays.copyOfRange(y, from, from + n);
        Path b = tmp.resolve(name);
        SafeTensors.write(b, Map.of("x", SafeTensors.Entry.of(xs, n, 3, 32, 32), "y", SafeTensors.Entry.ofLongs(ys, n)), Map.of());
        return new Path[] {f[0], b};
    }

    @Test void pruneKeepsTheTopScoresOfTheGivenWeightsAndBatch(@TempDir Path tmp) throws Exception {
        Path[] f = files(tmp, 0, 20, "XY.safetensors");
        for (String method : new String[] {"magnitude", "snip"}) {
            Path scores = tmp.resolve(method + "-scores.safetensors"), out = tmp.resolve(method + "-prune");
            MainTest.Result r = MainTest.run("score", "--model", "resnet20", "--weights", f[0].toString(), "--batch", f[1].toString(),
                    "--method", method, "--out", scores.toString());
            assertEquals(0, r.code(), r.err());
            r = MainTest.run("prune", "--model", "resnet20", "--weights", f[0].toString(), "--batch", f[1].toString(), "--method", method,
                    "--density", "0.1", "--rounds", "1", "--out", out.toString());
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("XY.safetensors pruned with " + method), r.out());
            assertTrue(!Files.exists(out.resolve("split.csv")), "no split.csv for a batch file");
            // one global round: every kept weight scores at least as high as every removed one
            SafeTensors.File s = SafeTensors.read(scores), m = SafeTensors.read(out.resolve("masks.safetensors"));
            double minKept = Double.POSITIVE_INFINITY, maxRemoved = Double.NEGATIVE_INFINITY;
            long kept = 0, total = 0;
            for (String name : s.entries().keySet()) {
                double[] sc = s.get(name).toDoubles(), mk = m.get(name).toDoubles();
                for (int i = 0; i < sc.length; i++) {
                    if (mk[i] != 0) { minKept = Math.min(minKept, sc[i]); kept++; }
                    else maxRemoved = Math.max(maxRemoved, sc[i]);
                }
                total += sc.length;
            }
            assertTrue(minKept >= maxRemoved, method + ": kept down to " + minKept + ", removed up to " + maxRemoved);
            assertEquals(total - (long) Math.floor(0.9 * total), kept, method + ": n_keep");
        }
        // the batch's labels are checked against the classes of --weights; a batch without --weights is refused
        Path bad = tmp.resolve("bad.safetensors");
        SafeTensors.write(bad, Map.of("x", SafeTensors.Entry.of(new float[3 * 32 * 32], 1, 3, 32, 32), "y", SafeTensors.Entry.ofLongs(new long[] {10}, 1)),
                Map.of());
        MainTest.Result r = MainTest.run("prune", "--model", "resnet20", "--weights", f[0].toString(), "--batch", bad.toString(),
                "--method", "snip", "--density", "0.1", "--rounds", "1", "--out", tmp.resolve("never").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("label 10 of example 0 is outside 0..9"), r.err());
        r = MainTest.run("prune", "--model", "resnet20", "--batch", f[1].toString(), "--method", "snip", "--density", "0.1", "--out",
                tmp.resolve("never").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--batch needs --weights"), r.err());
        r = MainTest.run("prune", "--model", "resnet20", "--weights", f[0].toString(), "--batch", f[1].toString(), "--dataset", "digits",
                "--method", "snip", "--density", "0.1", "--out", tmp.resolve("never").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("give one of the two"), r.err());
        assertTrue(!Files.exists(tmp.resolve("never")));
    }

    /** the NTK trace is a sum over examples in eval mode, so the trace on examples 0-3 is that on 0-1 plus that on 2-3 */
    @Test void ntkRunsOnTheGivenBatch(@TempDir Path tmp) throws Exception {
        double[] trace = new double[3];
        int[][] parts = {{0, 4}, {0, 2}, {2, 2}};
        for (int i = 0; i < 3; i++) {
            Path[] f = files(tmp, parts[i][0], parts[i][1], "B" + i + ".safetensors");
            Path out = tmp.resolve("ntk" + i);
            MainTest.Result r = MainTest.run("ntk", "--model", "resnet20", "--weights", f[0].toString(), "--batch", f[1].toString(),
                    "--top", "2", "--out", out.toString());
            assertEquals(0, r.code(), r.err());
            Map<?, ?> j = (Map<?, ?>) Json.parse(Files.readString(out.resolve("ntk.json")));
            assertEquals(parts[i][1], ((Number) j.get("samples")).intValue());
            trace[i] = ((Number) ((Map<?, ?>) ((List<?>) j.get("networks")).get(0)).get("trace")).doubleValue();
        }
        // float64 sums of ~10^5 terms in another grouping: 1e-12 is ~10^4 ulps of room, far below a missing example (~25%)
        assertEquals(trace[0], trace[1] + trace[2], 1e-12 * trace[0]);
        MainTest.Result r = MainTest.run("ntk", "--model", "resnet20", "--batch", tmp.resolve("B0.safetensors").toString(), "--samples", "4");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("give one of the two"), r.err());
    }

    @Test void sweepRefusesGpusOnSpark(@TempDir Path tmp) throws Exception {
        Path spec = tmp.resolve("s.json");
        Files.writeString(spec, "{\"name\": \"s\", \"base\": {\"epochs\": 1}, \"grid\": {\"seed\": [1]}}");
        MainTest.Result r = MainTest.run("sweep", spec.toString(), "--gpus", "1", "--spark", "local[1]", "--runs", tmp.resolve("runs").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--gpus is for the embedded sweep"), r.err());
    }
}
