package pxprune.px.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The default job of {@code ./pxprune run}: ResNet-20 on the embedded 8x8 digits, trained dense and
 * after pruning to density {@value #DENSITY} with px and synflow ({@value #ROUNDS} rounds) and
 * random (1 round), with the {@link Recipes#digits()} recipe. Each row is an ordinary run (its own
 * folder, resumable); the table goes to the terminal and to {@code results.md} and
 * {@code results.csv} in the runs folder.
 */
public final class MainJob {
    public static final double DENSITY = 0.01;
    public static final int ROUNDS = 100;
    /** the keys the job sets per row; overriding them is an error */
    public static final List<String> ROW_KEYS = List.of("method", "density", "rounds");

    private MainJob() {}

    /** the job's configs, in table order, from a base config (the digits recipe with any overrides) */
    public static List<RunConfig> configs(RunConfig base) {
        List<RunConfig> out = new ArrayList<>();
        out.add(row(base, RunConfig.DENSE, 1.0, 1));
        out.add(row(base, "px", DENSITY, ROUNDS));
        out.add(row(base, "synflow", DENSITY, ROUNDS));
        out.add(row(base, "random", DENSITY, 1));
        return out;
    }

    private static RunConfig row(RunConfig base, String method, double density, int rounds) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", method);
        m.put("density", density);
        m.put("rounds", (long) rounds);
        return base.with(m);
    }

    /** runs (or resumes) every row, then prints and writes the table; returns the outcomes */
    public static List<Runner.Outcome> run(RunConfig base, Path runs, PrintStream out, PrintStream log) throws IOException {
        long t0 = System.nanoTime();
        List<Runner.Outcome> rows = new ArrayList<>();
        for (RunConfig c : configs(base)) rows.add(Runner.run(c, runs, log));
        double total = (System.nanoTime() - t0) / 1e9;
        String md = markdown(base, rows);
        Files.createDirectories(runs);
        Runner.writeAtomically(runs.resolve("results.md"), md);
        Runner.writeAtomically(runs.resolve("results.csv"), csv(rows));
        out.print(md);
        out.printf(Locale.ROOT, "%nwall time of this invocation: %.1fs; table also in %s and %s%n", total,
                runs.resolve("results.md"), runs.resolve("results.csv"));
        return rows;
    }

    static String markdown(RunConfig base, List<Runner.Outcome> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s on %s, %d epochs, seed %d (run folders under runs/)%n%n", base.model(), base.dataset(),
                base.epochs(), base.seed()));
        sb.append("| method | density reached | test accuracy | pruning seconds | training seconds | run |\n");
        sb.append("|---|---:|---:|---:|---:|---|\n");
        for (Runner.Outcome o : rows)
            sb.append(String.format(Locale.ROOT, "| %s | %.4f | %.2f%% | %.1f | %.1f | %s |%n", o.config().method(), o.density(),
                    100 * o.testAcc(), o.pruningSeconds(), o.trainingSeconds(), o.config().hash()));
        return sb.toString();
    }

    static String csv(List<Runner.Outcome> rows) {
        StringBuilder sb = new StringBuilder("method,density,test_acc,pruning_seconds,training_seconds,run\n");
        for (Runner.Outcome o : rows)
            sb.append(String.format(Locale.ROOT, "%s,%.6f,%.6f,%.3f,%.3f,%s%n", o.config().method(), o.density(), o.testAcc(),
                    o.pruningSeconds(), o.trainingSeconds(), o.config().hash()));
        return sb.toString();
    }
}
