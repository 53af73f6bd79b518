package pxprune.experiments.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.io.Json;
import pxprune.core.io.SafeTensors;
import pxprune.experiments.cli.Main;

/**
 * A real child JVM running {@code pxprune run} is killed (SIGKILL) twice, once while it prunes and
 * once right after its first checkpoint; started again each time, it ends with exactly the weights
 * (bit for bit) of an uninterrupted run in another folder, and never scores again once masks exist.
 */
class KillResumeTest {
    static final String CONFIG = "{\"recipe\": \"digits\", \"method\": \"synflow\", \"density\": 0.05, \"rounds\": 20,"
            + " \"epochs\": 3, \"batch_size\": 64, \"milestones\": [2], \"nesterov\": true}";

    static ProcessBuilder child(Path cfg, Path runs, Path log) { return child(List.of(), cfg, runs, log); }

    /**
     * a child JVM (this JVM's java, the test class path, the surefire options) running
     * {@code pxprune run cfg --runs runs}, with extra JVM options, output appended to log
     */
    static ProcessBuilder child(List<String> jvmOptions, Path cfg, Path runs, Path log) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                "-Xss8m", "-Djava.awt.headless=true",
                "-Dorg.bytedeco.javacpp.maxBytes=0", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of(Main.class.getName(), "run", cfg.toString(), "--runs", runs.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        return pb;
    }

    static int runToEnd(Path cfg, Path runs, Path log) throws Exception {
        Process p = child(cfg, runs, log).start();
        assertTrue(p.waitFor(150, TimeUnit.SECONDS), "child did not finish; log: " + Files.readString(log));
        return p.exitValue();
    }

    /** starts a child and kills it (SIGKILL) as soon as the condition holds on the run folder; false if it ended first */
    static boolean runAndKill(Path cfg, Path runs, Path dir, Path log, Predicate<Path> when) throws Exception {
        Process p = child(cfg, runs, log).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
        while (p.isAlive() && System.nanoTime() < deadline) {
            if (when.test(dir)) {
                p.destroyForcibly();
                p.waitFor(20, TimeUnit.SECONDS);
                return true;
            }
            Thread.sleep(5);
        }
        p.waitFor(20, TimeUnit.SECONDS);
        return false;
    }

    @Test
    void killedTwiceAndResumedEqualsUninterrupted(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("tiny.json");
        Files.writeString(cfg, CONFIG);
        String hash = RunConfig.parse(CONFIG).hash();
        Path runsA = tmp.resolve("a"), runsB = tmp.resolve("b"), logA = tmp.resolve("a.log"), logB = tmp.resolve("b.log");

        assertEquals(0, runToEnd(cfg, runsA, logA), () -> read(logA));

        Path dirB = runsB.resolve(hash);
        // 1: killed while pruning (config written, masks not yet)
        boolean killed1 = runAndKill(cfg, runsB, dirB, logB, d -> Files.exists(d.resolve(Runner.CONFIG)));
        assertTrue(killed1, "the first child ended before it could be killed: " + read(logB));
        assertFalse(Files.exists(dirB.resolve(Runner.SUMMARY)));
        // 2: killed right after the first checkpoint
        boolean killed2 = runAndKill(cfg, runsB, dirB, logB, d -> Files.exists(d.resolve(Checkpoint.FILE)));
        assertTrue(killed2, "the second child ended before it could be killed: " + read(logB));
        assertFalse(Files.exists(dirB.resolve(Runner.SUMMARY)), "the run finished before it was killed");
        byte[] masksAfterKill = Files.readAllBytes(dirB.resolve(Runner.MASKS));
        int epochAtKill = Checkpoint.epochOf(dirB.resolve(Checkpoint.FILE));
        assertTrue(epochAtKill >= 1 && epochAtKill < 3, "checkpoint epoch " + epochAtKill);
        // 3: resumed to the end
        String before = read(logB);
        assertEquals(0, runToEnd(cfg, runsB, logB), () -> read(logB));
        String resumedLog = read(logB).substring(before.length());
        assertTrue(resumedLog.contains("masks loaded"), resumedLog);
        assertFalse(resumedLog.contains("[prune "), "the resumed run scored again: " + resumedLog);
        assertTrue(resumedLog.contains("resuming from the checkpoint of epoch " + epochAtKill), resumedLog);
        assertArrayEquals(masksAfterKill, Files.readAllBytes(dirB.resolve(Runner.MASKS)));

        try (var files = Files.list(dirB)) {
            assertEquals(List.of(), files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".tmp") || n.equals(".prune-tmp")).toList());
        }
        Path dirA = runsA.resolve(hash);
        SafeTensors.File wa = SafeTensors.read(dirA.resolve(Runner.WEIGHTS)), wb = SafeTensors.read(dirB.resolve(Runner.WEIGHTS));
        assertEquals(wa.entries().keySet(), wb.entries().keySet());
        for (String k : wa.entries().keySet())
            assertArrayEquals(wa.get(k).data(), wb.get(k).data(), "weights differ bitwise at " + k);
        assertArrayEquals(Files.readAllBytes(dirA.resolve(Runner.MASKS)), Files.readAllBytes(dirB.resolve(Runner.MASKS)));
        // metrics: one line per epoch, the same values (but the seconds)
        List<String> ma = Files.readAllLines(dirA.resolve(Trainer.METRICS)), mb = Files.readAllLines(dirB.resolve(Trainer.METRICS));
        assertEquals(3, ma.size());
        assertEquals(3, mb.size());
        for (int i = 0; i < 3; i++) assertEquals(withoutSeconds(ma.get(i)), withoutSeconds(mb.get(i)));

        // a fourth start reports the run as done
        String beforeDone = read(logB);
        assertEquals(0, runToEnd(cfg, runsB, logB));
        assertTrue(read(logB).substring(beforeDone.length()).contains("is done"), read(logB));
    }

    private static Map<String, Object> withoutSeconds(String line) {
        Map<String, Object> m = Json.parseObject(line);
        m.remove("seconds");
        return m;
    }

    static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
        } catch (Exception e) {
            return e.toString();
        }
    }

    static String classPath() { return System.getProperty("java.class.path").replace(File.pathSeparatorChar, '\n'); }
}
