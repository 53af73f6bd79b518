package pxprune.experiments.sweep;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import pxprune.experiments.train.Runner;

/**
 * A sweep from start to table: expands the grid, writes every valid point's full config to
 * {@code <sweep>/configs/<hash>.json}, hands the points whose run folder is not finished to an
 * executor (embedded child JVMs or Spark), follows the progress and writes
 * {@code <sweep>/results.csv} and {@code results.md}. The sweep folder is
 * {@code <runs>/sweeps/<name>/}; the runs are the ordinary run folders {@code <runs>/<hash>/},
 * so a finished run is never computed again, by this sweep or any other, and a sweep run again
 * runs only what is missing.
 */
public final class Sweep {
    private Sweep() {}

    /** the counts of a finished sweep */
    public record Summary(Path dir, int total, int done, int failed, double seconds) {}

    public static Path folder(Path runs, SweepSpec spec) { return runs.resolve("sweeps").resolve(spec.name()); }

    /** prints the grid points with their run folders and whether each is done, to run, or invalid; writes nothing */
    public static void dryRun(SweepSpec spec, Path runs, PrintStream out) {
        List<SweepPoint> points = spec.points();
        int done = 0, todo = 0, bad = 0;
        out.printf("sweep %s: %d grid points over %s; runs in %s, sweep folder %s%n", spec.name(), points.size(),
                String.join(" x ", spec.grid().keySet()), runs, folder(runs, spec));
        for (SweepPoint p : points) {
            String state;
            if (!p.valid()) { state = "INVALID: " + p.error(); bad++; }
            else if (ChildRun.finished(runs.resolve(p.hash()))) { state = "done (earlier)"; done++; }
            else if (Files.isDirectory(runs.resolve(p.hash()))) { state = "to run (resumes its folder)"; todo++; }
            else { state = "to run"; todo++; }
            out.printf("%4d  %s  %-40s  %s%n", p.index(), p.hash().length() == 1 ? "-           " : p.hash(), p.label(), state);
        }
        out.printf("%d to run, %d done earlier, %d invalid (reported as failed)%n", todo, done, bad);
    }

    /** runs the sweep with the executor; the table goes to out, progress to err */
    public static Summary run(SweepSpec spec, Path runs, SweepExecutor ex, ChildRun.Options opts, PrintStream out, PrintStream err)
            throws Exception {
        long t0 = System.nanoTime();
        List<SweepPoint> points = spec.points();
        Path dir = folder(runs, spec);
        Files.createDirectories(dir.resolve(ChildRun.CONFIGS));
        Files.createDirectories(dir.resolve(ChildRun.LOGS));
        Path status = dir.resolve(ChildRun.STATUS);
        if (Files.isDirectory(status)) try (Stream<Path> s = Files.list(status)) {
            for (Path p : s.toList()) Files.deleteIfExists(p); // states of an earlier invocation
        }
        Files.createDirectories(status);
        Runner.writeAtomically(dir.resolve("sweep.json"), spec.toJson());

        List<RunTask> tasks = new ArrayList<>();
        List<String> hashes = new ArrayList<>();
        List<RunResult> earlier = new ArrayList<>(); // done before this sweep: never given to the executor
        int invalid = 0;
        for (SweepPoint p : points) {
            if (!p.valid()) {
                invalid++;
                err.printf("[sweep %s] grid point %d (%s) cannot run: %s%n", spec.name(), p.index(), p.label(), p.error());
                continue;
            }
            Path cfg = ChildRun.configFile(dir, p.hash());
            String json = p.config().prettyJson();
            if (!Files.isRegularFile(cfg) || !Files.readString(cfg).equals(json)) Runner.writeAtomically(cfg, json);
            hashes.add(p.hash());
            if (ChildRun.finished(runs.resolve(p.hash()))) earlier.add(ChildRun.execute(RunTask.of(p, runs, dir), opts, null)); // no process
            else tasks.add(RunTask.of(p, runs, dir));
        }
        err.printf(Locale.ROOT, "[sweep %s] %d grid points: %d to run, %d done earlier, %d invalid; on %s, %d thread(s) per run, "
                + "up to %d attempt(s) each; logs in %s%n", spec.name(), points.size(), tasks.size(), earlier.size(), invalid, ex.describe(),
                opts.threads(), opts.retries() + 1, dir.resolve(ChildRun.LOGS));

        List<RunResult> results = new ArrayList<>(earlier);
        try (Progress pr = new Progress(spec.name(), dir, hashes, invalid, ex.slots(), err)) {
            if (!tasks.isEmpty()) results.addAll(ex.run(tasks, opts));
            else ex.run(List.of(), opts); // lets the executor release what it holds
        }
        Map<Integer, RunResult> byIndex = new HashMap<>();
        for (RunResult r : results) byIndex.put(r.index(), r);
        List<Results.Row> rows = Results.rows(points, byIndex, runs);
        int done = (int) rows.stream().filter(r -> RunResult.DONE.equals(r.status())).count();
        int failed = points.size() - done;
        double secs = (System.nanoTime() - t0) / 1e9;
        String header = String.format(Locale.ROOT, "%d grid points: %d done, %d failed; %s; %d thread(s) per run; wall %.1fs", points.size(),
                done, failed, ex.describe(), opts.threads(), secs);
        String md = Results.write(dir, spec, rows, runs, header);
        out.print(md);
        out.printf(Locale.ROOT, "%nsweep %s: %d done, %d failed, wall %.1fs; table in %s and %s%n", spec.name(), done, failed, secs,
                dir.resolve("results.md"), dir.resolve("results.csv"));
        return new Summary(dir, points.size(), done, failed, secs);
    }
}
