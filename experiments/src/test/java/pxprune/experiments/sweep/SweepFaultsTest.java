package pxprune.experiments.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.io.Json;
import pxprune.experiments.train.Checkpoint;
import pxprune.experiments.cli.MainTest;
import pxprune.experiments.cli.MainTest.Result;

/**
 * Sweeps with real child JVMs: one whose run is killed (SIGKILL) mid-training ends with the table
 * of an uninterrupted sweep (the killed run retried and resumed); one with impossible grid points
 * reports them failed, with their errors, and finishes the rest; a sweep run again runs nothing.
 */
class SweepFaultsTest {
    /** two tiny runs, 2 epochs each so that a checkpoint exists while the run still trains */
    static final String KILL_GRID = "{\"name\": \"kill\", \"base\": {\"recipe\": \"digits\", \"method\": \"synflow\", \"density\": 0.1,"
            + " \"rounds\": 3, \"epochs\": 3, \"milestones\": [2]}, \"grid\": {\"seed\": [1, 2]}}";

    static Result sweep(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "sweep";
        System.arraycopy(args, 0, all, 1, args.length);
        return MainTest.run(all);
    }

    /** results.csv without the columns that vary between equal sweeps (seconds, attempts) */
    static List<List<String>> table(Path sweepDir) throws Exception {
        return comparable(Files.readString(sweepDir.resolve("results.csv")));
    }

    static List<List<String>> comparable(String csv) {
        List<String> lines = csv.lines().toList();
        List<String> head = List.of(lines.get(0).split(","));
        List<List<String>> out = new ArrayList<>();
        for (String l : lines) {
            List<String> cells = List.of(l.split(",", -1));
            List<String> keep = new ArrayList<>();
            for (int i = 0; i < head.size(); i++)
                if (!head.get(i).endsWith("_seconds") && !head.get(i).equals("attempts")) keep.add(cells.get(i));
            out.add(keep);
        }
        return out;
    }

    @Test
    void aKilledRunIsRetriedAndTheSweepEqualsAnUninterruptedOne(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("kill.json");
        Files.writeString(file, KILL_GRID);
        List<SweepPoint> points = SweepSpec.load(file).points();
        Path runsA = tmp.resolve("a"), runsB = tmp.resolve("b");

        Result a = sweep(file.toString(), "--runs", runsA.toString(), "--parallel", "2", "--threads", "1");
        assertEquals(0, a.code(), a.err());

        // sweep B: point 1's child is killed as soon as its first checkpoint is on disk
        Path sweepB = runsB.resolve("sweeps").resolve("kill");
        String victim = points.get(0).hash();
        CompletableFuture<Long> killed = CompletableFuture.supplyAsync(() -> killAfterCheckpoint(runsB.resolve(victim),
                ChildRun.statusFile(sweepB, victim)));
        Result b = sweep(file.toString(), "--runs", runsB.toString(), "--parallel", "2", "--threads", "1");
        long pid = killed.get(10, TimeUnit.SECONDS);
        assertTrue(pid > 0, "the run was not killed mid-training (it ended first?): " + b.err());
        assertEquals(0, b.code(), b.err());

        assertEquals(table(runsA.resolve("sweeps").resolve("kill")), table(sweepB));
        String log = Files.readString(ChildRun.logFile(sweepB, victim));
        assertTrue(log.contains("attempt 2 of 3") && log.contains("killed by signal 9"), log);
        assertTrue(log.contains("resuming from the checkpoint of epoch"), log);
        List<String> rows = Files.readString(sweepB.resolve("results.csv")).lines().toList();
        assertTrue(rows.get(1).contains(",done,") && rows.get(1).contains(",2,"), "the killed run took 2 attempts: " + rows.get(1));
        assertTrue(rows.get(2).contains(",done,") && rows.get(2).endsWith(",1,"), rows.get(2));
        // the trained weights are those of the uninterrupted run, bit for bit
        assertTrue(java.util.Arrays.equals(Files.readAllBytes(runsA.resolve(victim).resolve("weights.safetensors")),
                Files.readAllBytes(runsB.resolve(victim).resolve("weights.safetensors"))));

        // run again: nothing is computed, the same table
        Result again = sweep(file.toString(), "--runs", runsB.toString());
        assertEquals(0, again.code(), again.err());
        assertEquals(table(runsA.resolve("sweeps").resolve("kill")), table(sweepB));
        for (String r : Files.readString(sweepB.resolve("results.csv")).lines().skip(1).toList())
            assertTrue(r.endsWith(",0,"), "a finished run was started again: " + r);
    }

    /** waits for the run's checkpoint, then SIGKILLs the child named in its status file; returns its pid (-1 if it ended first) */
    static long killAfterCheckpoint(Path runDir, Path status) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        try {
            while (System.nanoTime() < deadline) {
                if (Files.exists(runDir.resolve("summary.json"))) return -1;
                if (Files.exists(runDir.resolve(Checkpoint.FILE)) && Files.exists(status)) {
                    Map<String, Object> s = Json.parseObject(Files.readString(status));
                    if (s.get("pid") instanceof Number pid) {
                        ProcessHandle h = ProcessHandle.of(pid.longValue()).orElse(null);
                        if (h == null) return -1;
                        h.destroyForcibly();
                        h.onExit().get(20, TimeUnit.SECONDS);
                        return pid.longValue();
                    }
                }
                Thread.sleep(5);
            }
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
        return -1;
    }

    @Test
    void impossiblePointsAreReportedFailedAndTheRestFinishes(@TempDir Path tmp) throws Exception {
        // epochs 0: the model is pruned and evaluated, not trained (fast); 1e-300 keeps no weight (the child exits 2);
        // resnet21 is no model (the point is no config at all)
        Path file = tmp.resolve("bad.json");
        Files.writeString(file, "{\"name\": \"bad\", \"base\": {\"method\": \"synflow\", \"rounds\": 2, \"epochs\": 0},"
                + " \"grid\": {\"model\": [\"resnet20\", \"resnet21\"], \"density\": [0.5, 1e-300]}}");
        Path runs = tmp.resolve("runs");
        Result r = sweep(file.toString(), "--runs", runs.toString());
        assertEquals(1, r.code(), r.err());
        String last = r.err().strip().lines().reduce((x, y) -> y).orElse("");
        assertTrue(last.startsWith("pxprune: sweep bad: 3 of 4 runs failed"), last);
        assertTrue(r.err().contains("grid point 3 (model=resnet21 density=0.5) cannot run"), r.err());

        List<String> rows = Files.readString(runs.resolve("sweeps/bad/results.csv")).lines().toList();
        assertEquals("index,model,density,hash,status,density_reached,test_acc,pruning_seconds,training_seconds,wall_seconds,attempts,error",
                rows.get(0));
        assertTrue(rows.get(1).startsWith("1,resnet20,0.5,") && rows.get(1).contains(",done,0.500"), rows.get(1));
        assertTrue(rows.get(2).startsWith("2,resnet20,1.0E-300,") && rows.get(2).contains(",failed,"), rows.get(2));
        assertTrue(rows.get(2).contains(",1,") && rows.get(2).contains("'density'"), "exit 2 is not retried, and its error is shown: "
                + rows.get(2));
        assertTrue(rows.get(3).startsWith("3,resnet21,0.5,-,invalid,") && rows.get(3).contains("resnet21"), rows.get(3));
        assertTrue(rows.get(4).startsWith("4,resnet21,1.0E-300,-,invalid,"), rows.get(4));
        String md = Files.readString(runs.resolve("sweeps/bad/results.md"));
        assertTrue(md.contains("| 1 | resnet20 | 0.5 |") && md.contains("| done |"), md);
        assertFalse(Files.exists(runs.resolve("sweeps/bad/logs").resolve("-.log")));
    }
}
