package pxprune.experiments.sweep;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run folder locked by another process (the child of an executor that died still running the
 * run) makes the sweep wait for that process instead of starting a second child that would fail.
 */
class RunLockWaitTest {
    static final String HOLD = """
            import java.nio.channels.FileChannel;
            import java.nio.file.*;
            public class Hold {
                public static void main(String[] a) throws Exception {
                    try (FileChannel ch = FileChannel.open(Path.of(a[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                         var l = ch.lock()) {
                        Files.writeString(Path.of(a[0] + ".held"), "held");
                        Thread.sleep(Long.parseLong(a[1]));
                    }
                }
            }
            """;

    @Test
    void waitsWhileAnotherProcessHoldsTheRunLock(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("run"), lock = run.resolve(".lock"), log = tmp.resolve("run.log"), src = tmp.resolve("Hold.java");
        Files.createDirectories(run);
        Files.writeString(src, HOLD);
        Files.writeString(log, "");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, src.toString(), lock.toString(), "3000").inheritIO().start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.exists(run.resolve(".lock.held")) && System.nanoTime() < deadline) Thread.sleep(20);
            assertTrue(Files.exists(run.resolve(".lock.held")), "the lock holder did not start");
            long t0 = System.nanoTime();
            ChildRun.waitForLock(run, log);
            double waited = (System.nanoTime() - t0) / 1e9;
            assertTrue(p.waitFor(2, TimeUnit.SECONDS), "returned while the holder still runs");
            assertTrue(waited > 1.0, "did not wait for the holder: " + waited + " s");
            assertTrue(Files.readString(log).contains("another process holds"), Files.readString(log));
        } finally {
            p.destroyForcibly();
        }
        // a free lock, or none, does not wait
        long t1 = System.nanoTime();
        ChildRun.waitForLock(run, log);
        ChildRun.waitForLock(tmp.resolve("no-such-run"), log);
        assertTrue((System.nanoTime() - t1) / 1e9 < 1.0);
    }
}
