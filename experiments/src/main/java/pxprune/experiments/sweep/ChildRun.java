package pxprune.experiments.sweep;

import java.io.File;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import pxprune.core.io.Json;
import pxprune.experiments.cli.Main;
import pxprune.experiments.train.Runner;

/**
 * Runs one sweep run in a child JVM, {@code pxprune.experiments.cli.Main run CONFIG --runs RUNS}, so that a
 * native fault, a leak or a kill takes down only that process. The child's stdout and stderr go to
 * {@code <sweep>/logs/<hash>.log} (appended, one header line per attempt). A child that exits 0 is
 * done; exit 2 is a bad config, deterministic, and is not retried; any other exit (a crash, a kill)
 * is retried up to {@link Options#retries()} times, and the run folder resumes from its checkpoint.
 * A run whose folder already has a summary is done without starting a process. The state of the
 * run is kept in {@code <sweep>/status/<hash>.json} (running with the child's pid, then done or
 * failed), which is how the driver of a sweep follows its progress on any machine.
 */
public final class ChildRun {
    private ChildRun() {}

    /**
     * How children are started: CPU threads per run ({@code -Dpxprune.threads}, OMP_NUM_THREADS),
     * retries after a crash, extra JVM options; java and the class path default to this JVM's
     * (null), which is what a Spark executor wants: the class path it runs with carries pxprune.
     */
    public record Options(int threads, int retries, List<String> jvmOptions, String java, String classpath) implements Serializable {
        public Options {
            jvmOptions = List.copyOf(jvmOptions);
            if (threads < 1) throw new IllegalArgumentException("threads per run must be >= 1, got " + threads);
            if (retries < 0) throw new IllegalArgumentException("retries must be >= 0, got " + retries);
        }
    }

    public static final String CONFIGS = "configs", LOGS = "logs", STATUS = "status";

    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        // a sweep stopped with Ctrl-C stops its children too; their runs resume at the next sweep
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "pxprune-sweep-children"));
    }

    /** the child's config file in the sweep folder */
    public static Path configFile(Path sweepDir, String hash) { return sweepDir.resolve(CONFIGS).resolve(hash + ".json"); }

    public static Path logFile(Path sweepDir, String hash) { return sweepDir.resolve(LOGS).resolve(hash + ".log"); }

    public static Path statusFile(Path sweepDir, String hash) { return sweepDir.resolve(STATUS).resolve(hash + ".json"); }

    /** whether a run folder holds a finished run (a summary with status done) */
    public static boolean finished(Path runDir) {
        Path s = runDir.resolve(Runner.SUMMARY);
        if (!Files.isRegularFile(s)) return false;
        try {
            return "done".equals(Json.parseObject(Files.readString(s, StandardCharsets.UTF_8)).get("status"));
        } catch (IOException | RuntimeException e) {
            return false; // the child reports what is wrong with it
        }
    }

    /**
     * Runs the task to its end (done or failed); never throws for a failure of the run itself.
     *
     * @param cudaDevices the value of CUDA_VISIBLE_DEVICES for the child (the GPUs its slot holds), or null
     */
    public static RunResult execute(RunTask t, Options o, String cudaDevices) {
        Path sweep = Path.of(t.sweepDir()), runs = Path.of(t.runsDir());
        String host = host();
        long t0 = System.nanoTime();
        if (finished(runs.resolve(t.hash()))) return finish(sweep, new RunResult(t.index(), t.hash(), RunResult.DONE, 0, 0, null, 0, host));
        Path cfg = configFile(sweep, t.hash()), log = logFile(sweep, t.hash());
        int attempts = 0, rc = -1;
        String error;
        try {
            if (!Files.isRegularFile(cfg))
                return finish(sweep, new RunResult(t.index(), t.hash(), RunResult.FAILED, 0, -1,
                        "the config file " + cfg + " is missing on " + host + "; the sweep folder must be on a path every machine shares",
                        0, host));
            Files.createDirectories(log.getParent());
            while (true) {
                attempts++;
                Files.writeString(log, String.format("=== pxprune sweep: run %s (grid point %d: %s), attempt %d of %d, %s on %s%n",
                        t.hash(), t.index(), t.label(), attempts, o.retries() + 1, Instant.now(), host), StandardCharsets.UTF_8,
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                waitForLock(runs.resolve(t.hash()), log);
                if (finished(runs.resolve(t.hash())))
                    return finish(sweep, new RunResult(t.index(), t.hash(), RunResult.DONE, attempts - 1, 0, null, seconds(t0), host));
                Process p = command(t, o, cfg, runs, log, cudaDevices).start();
                LIVE.add(p);
                try {
                    status(sweep, new RunResult(t.index(), t.hash(), RunResult.RUNNING, attempts, -1, null, seconds(t0), host), p.pid());
                    rc = p.waitFor();
                } finally {
                    LIVE.remove(p);
                }
                if (rc == 0 && finished(runs.resolve(t.hash())))
                    return finish(sweep, new RunResult(t.index(), t.hash(), RunResult.DONE, attempts, 0, null, seconds(t0), host));
                if (rc == 0) { error = "the child exited 0 but left no summary.json in " + runs.resolve(t.hash()); break; }
                if (rc == 2) { error = lastLine(log); break; } // a bad config: the same again next time
                if (attempts > o.retries()) {
                    error = "exit " + rc + (rc > 128 ? " (killed by signal " + (rc - 128) + ")" : "") + " in each of " + attempts
                            + " attempts; last log line: " + lastLine(log);
                    break;
                }
                Files.writeString(log, String.format("=== pxprune sweep: the child exited %d%s; retrying (it resumes from its checkpoint)%n",
                        rc, rc > 128 ? " (killed by signal " + (rc - 128) + ")" : ""), StandardCharsets.UTF_8,
                        java.nio.file.StandardOpenOption.APPEND);
            }
        } catch (IOException e) {
            error = "cannot start or follow the child JVM on " + host + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error = "interrupted";
        }
        return finish(sweep, new RunResult(t.index(), t.hash(), RunResult.FAILED, attempts, rc, error, seconds(t0), host));
    }

    /**
     * Waits while another process holds the run folder's lock: the child of an executor that died
     * can outlive it and still be running this run; once it ends (or dies) its lock is released.
     */
    static void waitForLock(Path runDir, Path log) throws IOException, InterruptedException {
        Path lock = runDir.resolve(Runner.LOCK);
        boolean told = false;
        while (Files.isRegularFile(lock)) {
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(lock, java.nio.file.StandardOpenOption.WRITE);
                 java.nio.channels.FileLock l = ch.tryLock()) {
                if (l != null) return;
            } catch (java.nio.file.NoSuchFileException e) {
                return;
            }
            if (!told) {
                Files.writeString(log, "=== pxprune sweep: another process holds " + lock + "; waiting for it to end\n",
                        StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
                told = true;
            }
            Thread.sleep(2000);
        }
    }

    /** the child's command: this JVM's java, the class path, the house JVM options, the thread count */
    static ProcessBuilder command(RunTask t, Options o, Path cfg, Path runs, Path log, String cudaDevices) {
        String java = o.java() != null ? o.java() : Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", o.classpath() != null ? o.classpath() : classpath(),
                "-Xss8m", "-Djava.awt.headless=true", "-Dorg.bytedeco.javacpp.maxBytes=0",
                "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0", "-Dpxprune.threads=" + o.threads()));
        cmd.addAll(o.jvmOptions());
        cmd.addAll(List.of(Main.class.getName(), "run", cfg.toString(), "--runs", runs.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Map<String, String> env = pb.environment();
        env.put("OMP_WAIT_POLICY", "PASSIVE");
        env.put("OMP_NUM_THREADS", String.valueOf(o.threads()));
        env.put("OPENBLAS_NUM_THREADS", "1");
        env.put("PXPRUNE_THREADS", String.valueOf(o.threads()));
        if (cudaDevices != null) env.put("CUDA_VISIBLE_DEVICES", cudaDevices);
        return pb;
    }

    /**
     * This JVM's class path, led by the location of pxprune's own classes when it is not on it
     * (a Spark executor loads the application jar through a class loader of its own).
     */
    static String classpath() {
        String cp = System.getProperty("java.class.path", "");
        try {
            var src = Main.class.getProtectionDomain().getCodeSource();
            if (src != null) {
                String own = Path.of(src.getLocation().toURI()).toString();
                if (!List.of(cp.split(File.pathSeparator)).contains(own)) cp = cp.isEmpty() ? own : own + File.pathSeparator + cp;
            }
        } catch (java.net.URISyntaxException | RuntimeException e) {
            // keep java.class.path
        }
        return cp;
    }

    /** the last non-blank line of a log (or a note that it is empty) */
    static String lastLine(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            for (int i = lines.size() - 1; i >= 0; i--) {
                String l = lines.get(i).strip();
                if (!l.isEmpty() && !l.startsWith("=== pxprune sweep:")) return l.length() > 500 ? l.substring(0, 500) + " ..." : l;
            }
            return "(the log " + log + " has no output of the child)";
        } catch (IOException | RuntimeException e) {
            return "(cannot read the log " + log + ": " + e.getMessage() + ")";
        }
    }

    private static RunResult finish(Path sweep, RunResult r) {
        status(sweep, r, -1);
        return r;
    }

    private static void status(Path sweep, RunResult r, long pid) {
        Map<String, Object> m = r.toMap();
        if (pid > 0) m.put("pid", pid);
        try {
            Path f = statusFile(sweep, r.hash());
            Files.createDirectories(f.getParent());
            Runner.writeAtomically(f, Json.pretty(m));
        } catch (IOException | RuntimeException e) {
            // progress only: the result itself goes back to the driver
        }
    }

    private static double seconds(long t0) { return (System.nanoTime() - t0) / 1e9; }

    private static volatile String host;

    static String host() {
        if (host == null) {
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                host = "localhost";
            }
        }
        return host;
    }
}
