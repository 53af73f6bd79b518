package pxprune.experiments.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The jobs of {@code ./pxprune run}: a base recipe and rows (method, density, rounds), each row an
 * ordinary run (its own folder, resumable), the table printed and written to the runs folder.
 * <ul>
 * <li>{@link #DIGITS} ({@code ./pxprune run} without a config): ResNet-20 on the embedded 8x8 digits,
 * trained dense and after pruning to density {@value #DENSITY} with px and synflow
 * ({@value #ROUNDS} rounds) and random (1 round), with the {@link Recipes#digits()} recipe; table
 * in {@code results.md} and {@code results.csv}.</li>
 * <li>{@link #SEG_DEMO} ({@code ./pxprune run seg_demo}): the small DeepLab on the embedded shapes
 * ({@link Recipes#segDemo()}), dense, px and synflow at density {@value #SEG_DENSITY} in
 * {@value #SEG_ROUNDS} rounds, random; the table has mIoU, pixel accuracy and each run's
 * predictions.png, in {@code results_seg_demo.md} and {@code results_seg_demo.csv}.</li>
 * </ul>
 */
public final class MainJob {
    public static final double DENSITY = 0.01;
    public static final int ROUNDS = 100;
    public static final double SEG_DENSITY = 0.01;
    public static final int SEG_ROUNDS = 10;
    /** the keys the job sets per row; overriding them is an error */
    public static final List<String> ROW_KEYS = List.of("method", "density", "rounds");

    /** one row of a job */
    public record Row(String method, double density, int rounds) {}

    /**
     * A job: its name, its base recipe, its rows and the name of its table files
     * ({@code <files>.md}, {@code <files>.csv} in the runs folder).
     */
    public record Job(String name, RunConfig base, List<Row> rows, String files) {
        public Job { rows = List.copyOf(rows); }

        /** the job's configs, in table order, from a base config (the job's recipe with any overrides) */
        public List<RunConfig> configs(RunConfig base) {
            List<RunConfig> out = new ArrayList<>();
            for (Row r : rows) out.add(row(base, r));
            return out;
        }
    }

    /** the default job (digits) */
    public static final Job DIGITS = new Job("digits", Recipes.digits(), List.of(new Row(RunConfig.DENSE, 1.0, 1),
            new Row("px", DENSITY, ROUNDS), new Row("synflow", DENSITY, ROUNDS), new Row("random", DENSITY, 1)), "results");

    /** the segmentation demo job */
    public static final Job SEG_DEMO = new Job("seg_demo", Recipes.segDemo(), List.of(new Row(RunConfig.DENSE, 1.0, 1),
            new Row("px", SEG_DENSITY, SEG_ROUNDS), new Row("synflow", SEG_DENSITY, SEG_ROUNDS), new Row("random", SEG_DENSITY, 1)),
            "results_seg_demo");

    private static final Map<String, Job> JOBS = Map.of(SEG_DEMO.name(), SEG_DEMO);

    private MainJob() {}

    /** the job run by {@code pxprune run NAME} (only seg_demo; a recipe name otherwise means one run), if any */
    public static Optional<Job> named(String name) { return Optional.ofNullable(JOBS.get(name)); }

    /** the digits job's configs, in table order, from a base config (the digits recipe with any overrides) */
    public static List<RunConfig> configs(RunConfig base) { return DIGITS.configs(base); }

    private static RunConfig row(RunConfig base, Row r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", r.method());
        m.put("density", r.density());
        m.put("rounds", (long) r.rounds());
        return base.with(m);
    }

    /** runs (or resumes) every row of the digits job, then prints and writes the table; returns the outcomes */
    public static List<Runner.Outcome> run(RunConfig base, Path runs, PrintStream out, PrintStream log) throws IOException {
        return run(DIGITS, base, runs, out, log);
    }

    /** runs (or resumes) every row of the job from the base config, then prints and writes the table; returns the outcomes */
    public static List<Runner.Outcome> run(Job job, RunConfig base, Path runs, PrintStream out, PrintStream log) throws IOException {
        long t0 = System.nanoTime();
        List<Runner.Outcome> rows = new ArrayList<>();
        for (RunConfig c : job.configs(base)) rows.add(Runner.run(c, runs, log));
        double total = (System.nanoTime() - t0) / 1e9;
        boolean seg = base.segmentation();
        String md = seg ? segMarkdown(base, rows, runs) : markdown(base, rows, runs);
        Files.createDirectories(runs);
        Path mdFile = runs.resolve(job.files() + ".md"), csvFile = runs.resolve(job.files() + ".csv");
        Runner.writeAtomically(mdFile, md);
        Runner.writeAtomically(csvFile, seg ? segCsv(rows) : csv(rows));
        out.print(md);
        out.printf(Locale.ROOT, "%nwall time of this invocation: %.1fs; table also in %s and %s%n", total, mdFile, csvFile);
        return rows;
    }

    static String markdown(RunConfig base, List<Runner.Outcome> rows, Path runs) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s on %s, %d epochs, seed %d (run folders under %s/)%n%n", base.model(), base.dataset(),
                base.epochs(), base.seed(), runs));
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

    static String segMarkdown(RunConfig base, List<Runner.Outcome> rows, Path runs) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s on %s, %d epochs, seed %d (run folders under %s/)%n%n", base.model(), base.dataset(),
                base.epochs(), base.seed(), runs));
        sb.append("| method | density reached | test mIoU | pixel accuracy | pruning seconds | training seconds | predictions |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---|\n");
        for (Runner.Outcome o : rows)
            sb.append(String.format(Locale.ROOT, "| %s | %.4f | %.2f%% | %.2f%% | %.1f | %.1f | %s |%n", o.config().method(), o.density(),
                    100 * o.testMiou(), 100 * o.testAcc(), o.pruningSeconds(), o.trainingSeconds(),
                    o.dir().resolve(Runner.PREDICTIONS)));
        return sb.toString();
    }

    static String segCsv(List<Runner.Outcome> rows) {
        StringBuilder sb = new StringBuilder("method,density,test_miou,test_pixel_acc,pruning_seconds,training_seconds,run,predictions\n");
        for (Runner.Outcome o : rows)
            sb.append(String.format(Locale.ROOT, "%s,%.6f,%.6f,%.6f,%.3f,%.3f,%s,%s%n", o.config().method(), o.density(), o.testMiou(),
                    o.testAcc(), o.pruningSeconds(), o.trainingSeconds(), o.config().hash(), o.dir().resolve(Runner.PREDICTIONS)));
        return sb.toString();
    }
}
