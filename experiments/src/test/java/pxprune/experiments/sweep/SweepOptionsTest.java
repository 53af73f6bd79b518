package pxprune.experiments.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.experiments.cli.MainTest.Result;

/**
 * The embedded sweep's options change how it runs, as the usage says: --retries R starts a child that fails R + 1
 * times, --threads T gives each child T threads (its command line and environment) and P = cores / T runs at once,
 * --parallel P runs P at once with cores / P threads each, --gpus G gives the sweep G GPU slots (a CUDA run without a
 * slot fails naming --gpus; with one it starts). (--dry-run and --runs: SweepSpecTest, SweepFaultsTest; --gpus and
 * --parallel with --spark: CommandOptionsTest, SweepSpecTest; --spark: sweep-spark's SparkSweepTest.)
 */
class SweepOptionsTest {
    static final String BASE = "\"recipe\": \"digits\", \"method\": \"random\", \"density\": 0.5, \"rounds\": 1, \"epochs\": 0";

    /** the line of the sweep's stderr that describes how it runs */
    static String header(Result r) {
        return r.err().lines().filter(l -> l.contains(" grid points: ")).findFirst().orElseThrow(() -> new AssertionError(r.err()));
    }

    /** the one row of results.csv, by column */
    static Map<String, String> row(Path runs, String name) throws Exception {
        List<String> lines = Files.readAllLines(runs.resolve("sweeps").resolve(name).resolve("results.csv"));
        String[] head = lines.get(0).split(","), cells = lines.get(1).split(",", head.length);
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < head.length; i++) m.put(head[i], cells[i]);
        return m;
    }

    @Test void retriesThreadsAndParallel(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("crash.json"), runs = tmp.resolve("runs");
        Files.writeString(file, "{\"name\": \"crash\", \"base\": {" + BASE + "}, \"grid\": {\"seed\": [1]}}");
        // the run folder's path is taken by a file: the child fails with an I/O error (exit 1), which a sweep retries
        // (unlike exit 2, a bad config); it fails at once, before any work
        Files.createDirectories(runs);
        Files.writeString(runs.resolve(SweepSpec.load(file).points().get(0).hash()), "not a folder");
        int cores = Runtime.getRuntime().availableProcessors();

        Result r = SweepFaultsTest.sweep(file.toString(), "--runs", runs.toString(), "--retries", "0", "--threads", "2");
        assertEquals(1, r.code(), r.err());
        assertEquals("1", row(runs, "crash").get("attempts"), "--retries 0: one attempt");
        assertTrue(header(r).contains("embedded, " + Math.max(1, cores / 2) + " run(s) at once, ") && header(r).contains(
                " 2 thread(s) per run, up to 1 attempt(s) each"), "--threads 2: " + header(r));

        r = SweepFaultsTest.sweep(file.toString(), "--runs", runs.toString(), "--parallel", "3");
        assertEquals(1, r.code(), r.err());
        assertEquals("3", row(runs, "crash").get("attempts"), "the default, 2 retries: three attempts");
        assertTrue(row(runs, "crash").get("error").startsWith("exit 1 in each of 3 attempts"), row(runs, "crash").toString());
        assertTrue(header(r).contains("embedded, 3 run(s) at once, ") && header(r).contains(" " + Math.max(1, cores / 3)
                + " thread(s) per run, up to 3 attempt(s) each"), "--parallel 3: " + header(r));

        // the threads reach the child: its JVM option and the thread counts of the native libraries
        SweepPoint p = SweepSpec.load(file).points().get(0);
        Path sweepDir = Sweep.folder(runs, SweepSpec.load(file));
        ProcessBuilder pb = ChildRun.command(RunTask.of(p, runs, sweepDir), new ChildRun.Options(2, 0, List.of(), null, null),
                ChildRun.configFile(sweepDir, p.hash()), runs, tmp.resolve("child.log"), null);
        assertTrue(pb.command().contains("-Dpxprune.threads=2"), pb.command().toString());
        assertEquals("2", pb.environment().get("OMP_NUM_THREADS"));
        assertEquals("2", pb.environment().get("PXPRUNE_THREADS"));
    }

    /** a CUDA run takes one of the --gpus slots: with none it fails naming --gpus and no child starts; with one it starts */
    @Test void gpusAreTheSlotsOfCudaRuns(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("cuda.json"), runs = tmp.resolve("runs");
        Files.writeString(file, "{\"name\": \"cuda\", \"base\": {" + BASE + ", \"device\": \"cuda\"}, \"grid\": {\"seed\": [1]}}");
        Result r = SweepFaultsTest.sweep(file.toString(), "--runs", runs.toString(), "--gpus", "0");
        assertEquals(1, r.code(), r.err());
        assertTrue(header(r).contains(", 0 GPU slot(s), "), header(r));
        Map<String, String> row = row(runs, "cuda");
        assertEquals("0", row.get("attempts"), "no child without a GPU slot");
        assertTrue(row.get("error").contains("give --gpus N"), row.toString());

        r = SweepFaultsTest.sweep(file.toString(), "--runs", runs.toString(), "--gpus", "1");
        assertTrue(header(r).contains(", 1 GPU slot(s), "), header(r));
        // the child ran: done where CUDA works, else refused with the reason (exit 2, not retried)
        assertEquals("1", row(runs, "cuda").get("attempts"), row(runs, "cuda").toString());
    }
}
