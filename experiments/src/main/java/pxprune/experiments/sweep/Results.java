package pxprune.experiments.sweep;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import pxprune.core.io.Json;
import pxprune.experiments.train.Runner;

/**
 * The table of a sweep, {@code results.csv} and {@code results.md} in the sweep folder: one row per
 * grid point with its grid values, config hash (its run folder), status, the density reached, the
 * test accuracy, the pruning and training seconds (from the run folder's summary.json), the wall
 * seconds and child processes of this sweep, and the error of a failed run. When the grid has a
 * {@code seed} key, results.md adds accuracy against the other grid values over the seeds (mean,
 * standard deviation, min, max of the done runs).
 */
public final class Results {
    private Results() {}

    /** one row: the point, its result (null: not run), its summary (null: not done) */
    record Row(SweepPoint point, RunResult result, Map<String, Object> summary) {
        String status() {
            if (!point.valid()) return point.error().startsWith("the same config") ? "duplicate" : "invalid";
            if (result == null) return "not run";
            return result.done() && summary != null ? RunResult.DONE : RunResult.FAILED;
        }

        String error() {
            if (!point.valid()) return point.error();
            if (result == null) return "";
            if (result.done() && summary == null) return "summary.json is missing or unreadable";
            return result.error() == null ? "" : result.error();
        }

        double num(String k) {
            Object v = summary == null ? null : summary.get(k);
            return v instanceof Number n ? n.doubleValue() : Double.NaN;
        }
    }

    static List<Row> rows(List<SweepPoint> points, Map<Integer, RunResult> results, Path runs) {
        List<Row> rows = new ArrayList<>();
        for (SweepPoint p : points) {
            RunResult r = results.get(p.index());
            Map<String, Object> s = null;
            if (p.valid() && r != null && r.done()) s = summary(runs.resolve(p.hash()));
            rows.add(new Row(p, r, s));
        }
        return rows;
    }

    private static Map<String, Object> summary(Path dir) {
        try {
            return Json.parseObject(Files.readString(dir.resolve(Runner.SUMMARY), StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** writes results.csv and results.md into the sweep folder; returns the markdown */
    static String write(Path sweepDir, SweepSpec spec, List<Row> rows, Path runs, String header) throws IOException {
        String md = markdown(spec, rows, runs, header), csv = csv(spec, rows);
        Runner.writeAtomically(sweepDir.resolve("results.csv"), csv);
        Runner.writeAtomically(sweepDir.resolve("results.md"), md);
        return md;
    }

    static String csv(SweepSpec spec, List<Row> rows) {
        StringBuilder sb = new StringBuilder("index");
        for (String k : spec.grid().keySet()) sb.append(',').append(k);
        sb.append(",hash,status,density_reached,test_acc,pruning_seconds,training_seconds,wall_seconds,attempts,error\n");
        for (Row r : rows) {
            sb.append(r.point().index());
            for (Object v : r.point().values().values()) sb.append(',').append(cell(SweepPoint.text(v)));
            sb.append(',').append(r.point().hash()).append(',').append(r.status());
            sb.append(',').append(f(r.num("density"), "%.6f")).append(',').append(f(r.num("test_acc"), "%.6f"));
            sb.append(',').append(f(r.num("pruning_seconds"), "%.3f")).append(',').append(f(r.num("training_seconds"), "%.3f"));
            sb.append(',').append(r.result() == null ? "" : f(r.result().wallSeconds(), "%.3f"));
            sb.append(',').append(r.result() == null ? "" : String.valueOf(r.result().attempts()));
            sb.append(',').append(cell(r.error())).append('\n');
        }
        return sb.toString();
    }

    static String markdown(SweepSpec spec, List<Row> rows, Path runs, String header) {
        StringBuilder sb = new StringBuilder();
        sb.append("# sweep ").append(spec.name()).append("\n\n").append(header).append("\n\n");
        sb.append("base: `").append(Json.write(spec.base())).append("`; run folders under `").append(runs).append("/<run>`\n\n");
        sb.append("| # |");
        for (String k : spec.grid().keySet()) sb.append(' ').append(k).append(" |");
        sb.append(" run | status | density reached | test accuracy | pruning s | training s | attempts | error |\n|---:|");
        for (int i = 0; i < spec.grid().size(); i++) sb.append("---|");
        sb.append("---|---|---:|---:|---:|---:|---:|---|\n");
        for (Row r : rows) {
            sb.append("| ").append(r.point().index()).append(" |");
            for (Object v : r.point().values().values()) sb.append(' ').append(md(SweepPoint.text(v))).append(" |");
            sb.append(' ').append(r.point().hash()).append(" | ").append(r.status()).append(" | ").append(f(r.num("density"), "%.4f"))
                    .append(" | ").append(Double.isNaN(r.num("test_acc")) ? "" : f(100 * r.num("test_acc"), "%.2f") + "%")
                    .append(" | ").append(f(r.num("pruning_seconds"), "%.1f")).append(" | ").append(f(r.num("training_seconds"), "%.1f"))
                    .append(" | ").append(r.result() == null ? "" : r.result().attempts()).append(" | ").append(md(r.error())).append(" |\n");
        }
        if (spec.grid().containsKey("seed")) sb.append(overSeeds(spec, rows));
        return sb.toString();
    }

    /** accuracy against the other grid values, over the seeds (done runs only) */
    static String overSeeds(SweepSpec spec, List<Row> rows) {
        List<String> keys = new ArrayList<>(spec.grid().keySet());
        keys.remove("seed");
        Map<List<String>, List<Row>> groups = new LinkedHashMap<>();
        for (Row r : rows) {
            if (!RunResult.DONE.equals(r.status())) continue;
            List<String> k = new ArrayList<>();
            for (String key : keys) k.add(SweepPoint.text(r.point().values().get(key)));
            groups.computeIfAbsent(k, x -> new ArrayList<>()).add(r);
        }
        if (groups.isEmpty()) return "";
        StringBuilder sb = new StringBuilder("\n## test accuracy over the seeds\n\n|");
        for (String k : keys) sb.append(' ').append(k).append(" |");
        sb.append(" seeds | density reached | mean | std | min | max |\n|");
        for (int i = 0; i < keys.size(); i++) sb.append("---|");
        sb.append("---:|---:|---:|---:|---:|---:|\n");
        for (Map.Entry<List<String>, List<Row>> g : groups.entrySet()) {
            double[] acc = g.getValue().stream().mapToDouble(r -> 100 * r.num("test_acc")).toArray();
            double dens = g.getValue().stream().mapToDouble(r -> r.num("density")).average().orElse(Double.NaN);
            double mean = java.util.Arrays.stream(acc).average().orElse(Double.NaN);
            double var = 0;
            for (double a : acc) var += (a - mean) * (a - mean);
            double std = acc.length > 1 ? Math.sqrt(var / (acc.length - 1)) : 0;
            sb.append('|');
            for (String v : g.getKey()) sb.append(' ').append(md(v)).append(" |");
            sb.append(String.format(Locale.ROOT, " %d | %.4f | %.2f%% | %.2f | %.2f%% | %.2f%% |%n", acc.length, dens, mean, std,
                    java.util.Arrays.stream(acc).min().orElse(Double.NaN), java.util.Arrays.stream(acc).max().orElse(Double.NaN)));
        }
        return sb.toString();
    }

    private static String f(double v, String fmt) { return Double.isNaN(v) ? "" : String.format(Locale.ROOT, fmt, v); }

    /** a CSV cell, quoted when it holds a comma, quote or line break */
    static String cell(String s) {
        if (s == null) return "";
        if (s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r")) return "\"" + s.replace("\"", "\"\"") + "\"";
        return s;
    }

    private static String md(String s) { return s == null ? "" : s.replace("|", "\\|").replaceAll("\\R", " "); }
}
