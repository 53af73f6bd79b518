package pxprune.experiments.sweep;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import pxprune.core.io.Json;

/**
 * The progress of a sweep, from the status files its runs write ({@link ChildRun}) wherever they
 * run: one line on stderr whenever the counts change (and every 30 s), with runs done, running,
 * failed and waiting, and an estimate of the time left (the mean wall time of the runs finished in
 * this sweep, times the runs left, over the runs that go at once).
 */
public final class Progress implements AutoCloseable {
    private final Path sweepDir;
    private final List<String> hashes;
    private final int invalid, slots;
    private final PrintStream err;
    private final String name;
    private final long t0 = System.nanoTime();
    private final Thread poller;
    private volatile boolean stop;
    private String lastLine = "";
    private long lastPrint;

    public Progress(String name, Path sweepDir, List<String> hashes, int invalid, int slots, PrintStream err) {
        this.name = name;
        this.sweepDir = sweepDir;
        this.hashes = List.copyOf(hashes);
        this.invalid = invalid;
        this.slots = Math.max(1, slots);
        this.err = err;
        poller = new Thread(this::poll, "pxprune-sweep-progress");
        poller.setDaemon(true);
        poller.start();
    }

    private void poll() {
        while (!stop) {
            tick(false);
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** reads the status files and prints a line if the counts changed (or force, or 30 s passed) */
    synchronized void tick(boolean force) {
        int done = 0, failed = invalid, running = 0, ran = 0;
        double ranSeconds = 0;
        for (String h : hashes) {
            Map<String, Object> s = read(ChildRun.statusFile(sweepDir, h));
            if (s == null) continue;
            Object st = s.get("status");
            if (RunResult.DONE.equals(st)) done++;
            else if (RunResult.FAILED.equals(st)) failed++;
            else if (RunResult.RUNNING.equals(st)) running++;
            if ((RunResult.DONE.equals(st) || RunResult.FAILED.equals(st)) && s.get("attempts") instanceof Number a && a.intValue() > 0
                    && s.get("wall_seconds") instanceof Number w) {
                ran++;
                ranSeconds += w.doubleValue();
            }
        }
        int waiting = hashes.size() + invalid - done - failed - running;
        double elapsed = (System.nanoTime() - t0) / 1e9;
        String left;
        if (waiting + running == 0) left = "none left";
        else if (ran == 0) left = "time left: estimated after the first run";
        else left = String.format(Locale.ROOT, "about %s left", duration(ranSeconds / ran * (waiting + 0.5 * running) / Math.min(slots,
                waiting + running)));
        String line = String.format(Locale.ROOT, "[sweep %s] %d/%d done, %d running, %d failed, %d waiting; %s elapsed, %s", name, done,
                hashes.size() + invalid, running, failed, waiting, duration(elapsed), left);
        String key = line.substring(0, line.indexOf(';'));
        long now = System.nanoTime();
        if (force || !key.equals(lastLine) || now - lastPrint > 30e9) {
            err.println(line);
            err.flush();
            lastLine = key;
            lastPrint = now;
        }
    }

    private static Map<String, Object> read(Path f) {
        try {
            return Files.isRegularFile(f) ? Json.parseObject(Files.readString(f, StandardCharsets.UTF_8)) : null;
        } catch (Exception e) {
            return null; // being replaced right now: read it next time
        }
    }

    static String duration(double s) {
        long x = Math.round(s);
        if (x < 60) return x + "s";
        if (x < 3600) return (x / 60) + "m" + String.format("%02d", x % 60) + "s";
        return (x / 3600) + "h" + String.format("%02d", (x % 3600) / 60) + "m";
    }

    @Override
    public void close() {
        stop = true;
        poller.interrupt();
        try {
            poller.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        tick(false); // the final counts, unless the last line already shows them
    }
}
