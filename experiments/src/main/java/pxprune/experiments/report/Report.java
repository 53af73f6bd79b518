package pxprune.experiments.report;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import pxprune.experiments.plot.Chart;
import pxprune.experiments.plot.HeatMap;
import pxprune.experiments.report.RunFolders.Run;
import pxprune.experiments.train.RunConfig;
import pxprune.experiments.train.Runner;

/**
 * The report over finished runs: one markdown file ({@value #MARKDOWN}) and PNGs beside it, per
 * setting (model and dataset): test accuracy against density per method (mean and sample
 * standard deviation over the runs of a group, dense as the reference line), every layer's
 * density per method and density, layer collapse ({@link Collapse}), mask overlap between
 * methods at the same density and seed ({@link Jaccard}, px against px_datafree first), and the
 * NTK trace kept against density where NTK numbers exist ({@link NtkTable}).
 *
 * <p>A <em>group</em> is the runs of one (model, dataset, method, target density); its runs
 * normally differ only in the seed. Groups, or methods of one setting, that also differ in other
 * config keys (epochs, learning rate, ...) are named in the notes.
 */
public final class Report {
    public static final String MARKDOWN = "report.md";
    /** the order methods are listed in (others follow alphabetically) */
    static final List<String> METHOD_ORDER = List.of("px", "px_datafree", "synflow", "synflow_l2", "snip", "grasp", "magnitude", "random");

    /** what was written */
    public record Written(Path markdown, List<Path> pngs, int runs, int notes) {}

    /** the runs of one (method, target density) of a setting */
    record Group(String method, double density, List<Run> runs) {
        Stats acc() { return Stats.of(runs.stream().mapToDouble(Run::testAcc).toArray()); }

        Stats reached() { return Stats.of(runs.stream().mapToDouble(Run::density).toArray()); }

        long seeds() { return runs.stream().map(r -> r.config().seed()).distinct().count(); }
    }

    private Report() {}

    /**
     * Writes the report of the scan into out (which must exist and be writable).
     *
     * @param inputs the folders the runs were found under (named in the report)
     * @param ntk    NTK numbers by run (config hash or folder name) from --ntk, or null
     */
    public static Written write(RunFolders.Scan scan, List<Path> inputs, Map<String, Double> ntk, Path out) throws IOException {
        List<String> notes = new ArrayList<>(scan.notes());
        List<Run> runs = applyNtk(scan.runs(), ntk, notes);
        Map<String, List<Run>> settings = new TreeMap<>();
        for (Run r : runs) settings.computeIfAbsent(r.config().model() + " on " + r.config().dataset(), k -> new ArrayList<>()).add(r);
        List<Path> pngs = new ArrayList<>();
        StringBuilder md = new StringBuilder("# pxprune report\n\n");
        md.append(String.format(Locale.ROOT, "%d finished run%s found under %s%s.%n%n", runs.size(), runs.size() == 1 ? "" : "s",
                inputs.stream().map(p -> "`" + p + "`").collect(Collectors.joining(", ")),
                notes.isEmpty() ? "" : "; " + notes.size() + " note" + (notes.size() == 1 ? "" : "s") + " at the end (runs left out and why)"));
        md.append(DEFINITIONS);
        for (Map.Entry<String, List<Run>> s : settings.entrySet()) {
            String prefix = settings.size() == 1 ? "" : fileSafe(s.getKey().replace(" on ", "_")) + "_";
            setting(md, s.getKey(), s.getValue(), prefix, out, pngs, notes);
        }
        md.append("## Notes\n\n");
        if (notes.isEmpty()) md.append("None: every run folder found was read.\n");
        for (String n : notes) md.append("- ").append(n.replace("|", "\\|")).append('\n');
        Path file = out.resolve(MARKDOWN);
        Runner.writeAtomically(file, md.toString());
        return new Written(file, pngs, runs.size(), notes.size());
    }

    static final String DEFINITIONS = """
            Definitions. *density* is the fraction of prunable weights kept (target: the config's; reached: the masks').
            A group is the runs of one model, dataset, method and target density; accuracy is the test accuracy at
            the end of training, given as the mean over the group's runs ± the sample standard deviation
            (sqrt(sum (x - mean)^2 / (n - 1)); "-" for a single run) and the range min - max.
            *Layers emptied*: prunable layers with density 0. *Residual branches emptied*: residual blocks
            (found by type in the model) whose own convolutions (conv1 -> conv2 [-> conv3], not the shortcut) keep
            no path of kept weights from the block's input to its output at the block's input size, so the block
            passes only its shortcut. *Outputs reachable*: output units that some input-output path of kept weights
            reaches (the pruner's connectivity check). *Jaccard*: |A and B| / |A or B| of the kept weights of two
            methods' masks at the same target density and seed (the same initial weights), mean over seeds;
            two independent random masks of density d overlap by d / (2 - d) ("chance").

            """;

    // ------------------------------------------------------------------ one setting
    private static void setting(StringBuilder md, String title, List<Run> runs, String prefix, Path out, List<Path> pngs,
                                List<String> notes) throws IOException {
        List<Run> dense = runs.stream().filter(r -> r.method().equals(RunConfig.DENSE)).toList();
        List<Group> groups = groups(runs.stream().filter(r -> !r.method().equals(RunConfig.DENSE)).toList());
        md.append("## ").append(title).append("\n\n");
        for (Group g : groups) {
            var diff = RunFolders.differing(g.runs().stream().map(Run::config).toList(), Set.of("seed"));
            if (!diff.isEmpty()) notes.add(title + ", " + g.method() + " at density " + RunFolders.num(g.density())
                    + ": the group's runs differ in more than the seed: " + diff);
        }
        var across = RunFolders.differing(runs.stream().map(Run::config).toList(), Set.of("seed", "method", "density", "rounds"));
        if (!across.isEmpty()) notes.add(title + ": the runs differ in more than method, density, rounds and seed: " + across
                + "; the methods are compared across those differences");

        // accuracy
        md.append("### Test accuracy\n\n");
        md.append("| method | target density | runs | seeds | density reached | test accuracy (mean ± std) | min - max |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|\n");
        Stats ds = Stats.of(dense.stream().mapToDouble(Run::testAcc).toArray());
        if (!dense.isEmpty())
            md.append(String.format(Locale.ROOT, "| **dense** | 1 | %d | %d | 1 | %s | %s |%n", dense.size(),
                    dense.stream().map(r -> r.config().seed()).distinct().count(), accCell(ds), rangeCell(ds)));
        for (Group g : groups)
            md.append(String.format(Locale.ROOT, "| %s | %s | %d | %d | %.6f | %s | %s |%n", g.method(), RunFolders.num(g.density()),
                    g.runs().size(), g.seeds(), g.reached().mean(), accCell(g.acc()), rangeCell(g.acc())));
        Path acc = out.resolve(prefix + "accuracy.png");
        accuracyChart(title, groups, dense.isEmpty() ? null : ds, acc);
        pngs.add(acc);
        md.append("\n![test accuracy against density](").append(acc.getFileName()).append(")\n\n");

        // per-layer density
        md.append("### Per-layer density\n\n");
        md.append("Rows: prunable layers in model order; columns: target densities; value: the layer's density, mean over the runs "
                + "(0, an emptied layer, is black).\n\n");
        for (String m : methods(groups)) {
            List<Group> gs = groups.stream().filter(g -> g.method().equals(m)).toList();
            Path png = out.resolve(prefix + "heatmap_" + fileSafe(m) + ".png");
            layerHeatMap(title + ", " + m, gs, png);
            pngs.add(png);
            md.append("![per-layer density, ").append(m).append("](").append(png.getFileName()).append(")\n\n");
        }

        collapse(md, groups);
        jaccard(md, title, groups, prefix, out, pngs);
        ntk(md, title, groups, prefix, out, pngs);
    }

    /**
     * The groups of runs by (method, target density): methods in {@link #METHOD_ORDER}, densities
     * high to low. Where the runs of one method differ in other config keys than the seed and the
     * density (e.g. GraSP with 1 and with 100 rounds), each variant is a method of its own,
     * labelled with those keys: {@code grasp (rounds=1)}.
     */
    static List<Group> groups(List<Run> runs) {
        Map<String, Map<Double, List<Run>>> by = new TreeMap<>(methodOrder());
        Map<String, List<RunConfig>> perMethod = new LinkedHashMap<>();
        for (Run r : runs) perMethod.computeIfAbsent(r.method(), k -> new ArrayList<>()).add(r.config());
        Map<String, Set<String>> variantKeys = new LinkedHashMap<>();
        perMethod.forEach((m, cs) -> variantKeys.put(m, RunFolders.differing(cs, Set.of("seed", "density", "method")).keySet()));
        for (Run r : runs) {
            Map<String, Object> c = r.config().toMap();
            List<String> kv = new ArrayList<>();
            for (String k : variantKeys.get(r.method())) kv.add(k + "=" + c.get(k));
            String label = kv.isEmpty() ? r.method() : r.method() + " (" + String.join(", ", kv) + ")";
            by.computeIfAbsent(label, k -> new TreeMap<>(Comparator.reverseOrder()))
                    .computeIfAbsent(r.config().density(), k -> new ArrayList<>()).add(r);
        }
        List<Group> out = new ArrayList<>();
        by.forEach((m, ds) -> ds.forEach((d, rs) -> out.add(new Group(m, d, List.copyOf(rs)))));
        return out;
    }

    /** by base method (the label before a variant's " (...)") in {@link #METHOD_ORDER}, then by label */
    static Comparator<String> methodOrder() {
        return Comparator.<String>comparingInt(m -> {
            String base = m.contains(" (") ? m.substring(0, m.indexOf(" (")) : m;
            return METHOD_ORDER.contains(base) ? METHOD_ORDER.indexOf(base) : METHOD_ORDER.size();
        }).thenComparing(Comparator.naturalOrder());
    }

    private static List<String> methods(List<Group> groups) {
        return groups.stream().map(Group::method).distinct().toList();
    }

    private static String accCell(Stats s) {
        if (s.n() == 0) return "-";
        return String.format(Locale.ROOT, "%.2f%% ± %s", 100 * s.mean(), s.n() < 2 ? "-" : String.format(Locale.ROOT, "%.2f", 100 * s.std()));
    }

    private static String rangeCell(Stats s) {
        return s.n() == 0 ? "-" : String.format(Locale.ROOT, "%.2f%% - %.2f%%", 100 * s.min(), 100 * s.max());
    }

    private static void accuracyChart(String title, List<Group> groups, Stats dense, Path png) throws IOException {
        Chart c = new Chart(title + ": test accuracy (mean ± std over runs)", "density (fraction of weights kept)", "test accuracy (%)").logX();
        List<String> ms = methods(groups);
        for (int k = 0; k < ms.size(); k++) {
            String m = ms.get(k);
            List<Group> gs = groups.stream().filter(g -> g.method().equals(m)).toList();
            double[] x = gs.stream().mapToDouble(Group::density).toArray();
            double[] y = gs.stream().mapToDouble(g -> 100 * g.acc().mean()).toArray();
            double[] e = gs.stream().mapToDouble(g -> 100 * g.acc().stdOrZero()).toArray();
            c.series(m, x, y).errors(e).markers().color(Chart.palette(k, ms.size()));
        }
        if (dense != null) {
            double lo = groups.stream().mapToDouble(Group::density).min().orElse(1);
            c.series("dense", new double[] {Math.min(lo, 1), 1}, new double[] {100 * dense.mean(), 100 * dense.mean()}).thick()
                    .color(Color.GRAY).note(String.format(Locale.ROOT, " %.2f%%", 100 * dense.mean()));
        }
        c.write(png);
    }

    private static void layerHeatMap(String title, List<Group> gs, Path png) throws IOException {
        List<String> layers = gs.get(0).runs().get(0).layers();
        double[][] v = new double[layers.size()][gs.size()];
        double minPos = 1;
        for (int c = 0; c < gs.size(); c++) {
            List<Run> rs = gs.get(c).runs();
            for (int r = 0; r < layers.size(); r++) {
                double s = 0;
                for (Run run : rs) s += run.layerDensity()[r];
                v[r][c] = s / rs.size();
                if (v[r][c] > 0) minPos = Math.min(minPos, v[r][c]);
            }
        }
        double lo = Math.max(-6, Math.min(-1, Math.floor(Math.log10(minPos))));
        new HeatMap(title + ": layer density (mean over runs)", layers,
                gs.stream().map(g -> RunFolders.num(g.density())).toList(), v, lo).write(png);
    }

    // ------------------------------------------------------------------ collapse
    private static void collapse(StringBuilder md, List<Group> groups) {
        if (groups.isEmpty() || groups.stream().allMatch(g -> g.runs().stream().allMatch(r -> r.collapse() == null))) return;
        Collapse any = groups.stream().flatMap(g -> g.runs().stream()).map(Run::collapse).filter(c -> c != null).findFirst().get();
        md.append("### Layer collapse\n\n");
        md.append("A cell gives the value of every run of the group when they agree, else the range and each run's value (by seed).\n\n");
        md.append(String.format(Locale.ROOT, "| method | target density | runs | layers emptied (of %d) | residual branches emptied (of %d) "
                + "| outputs reachable (of %d) | emptied |%n|---|---:|---:|---:|---:|---:|---|%n", any.layers(), any.branches(), any.outputs()));
        for (Group g : groups) {
            List<Run> rs = g.runs().stream().filter(r -> r.collapse() != null)
                    .sorted(Comparator.comparingLong(r -> r.config().seed())).toList();
            if (rs.isEmpty()) continue;
            String list = emptied(rs);
            md.append(String.format(Locale.ROOT, "| %s | %s | %d | %s | %s | %s | %s |%n", g.method(), RunFolders.num(g.density()), rs.size(),
                    agree(rs, r -> r.collapse().emptyLayers().size()), agree(rs, r -> r.collapse().emptyBranches().size()),
                    agree(rs, r -> r.collapse().reachable()), list));
        }
        md.append('\n');
    }

    /** "branches: blocks.7, blocks.8; layers: blocks.7.conv1 (1 of 2), ..." (".weight" left out), or "-" */
    static String emptied(List<Run> rs) {
        Map<String, Integer> branches = new LinkedHashMap<>(), layers = new LinkedHashMap<>();
        for (Run r : rs) {
            for (String b : r.collapse().emptyBranches()) branches.merge(b, 1, Integer::sum);
            for (String l : r.collapse().emptyLayers()) layers.merge(l.endsWith(".weight") ? l.substring(0, l.length() - 7) : l, 1, Integer::sum);
        }
        List<String> parts = new ArrayList<>();
        if (!branches.isEmpty()) parts.add("branches: " + names(branches, rs.size(), 16));
        if (!layers.isEmpty()) parts.add("layers: " + names(layers, rs.size(), 12));
        return parts.isEmpty() ? "-" : String.join("; ", parts);
    }

    private static String names(Map<String, Integer> counts, int runs, int max) {
        List<String> out = new ArrayList<>();
        counts.forEach((n, k) -> out.add(n + (k == runs ? "" : " (" + k + " of " + runs + ")")));
        return out.size() <= max ? String.join(", ", out) : String.join(", ", out.subList(0, max)) + ", +" + (out.size() - max) + " more";
    }

    /** "3" when every run says 3, else "2 - 4 (2, 3, 4)" in the runs' order */
    static String agree(List<Run> rs, java.util.function.ToIntFunction<Run> f) {
        int[] v = rs.stream().mapToInt(f).toArray();
        int lo = java.util.Arrays.stream(v).min().orElse(0), hi = java.util.Arrays.stream(v).max().orElse(0);
        if (lo == hi) return Integer.toString(lo);
        return lo + " - " + hi + " (" + java.util.Arrays.stream(v).mapToObj(Integer::toString).collect(Collectors.joining(", ")) + ")";
    }

    // ------------------------------------------------------------------ Jaccard
    /** (method a, method b) with a before b -&gt; target density -&gt; Jaccard per seed (first run of each seed) */
    static Map<List<String>, Map<Double, Stats>> jaccard(List<Group> groups) {
        List<String> ms = methods(groups);
        Map<List<String>, Map<Double, Stats>> out = new LinkedHashMap<>();
        for (int i = 0; i < ms.size(); i++)
            for (int j = i + 1; j < ms.size(); j++) {
                String a = ms.get(i), b = ms.get(j);
                Map<Double, Stats> byD = new TreeMap<>(Comparator.reverseOrder());
                for (Group ga : groups) {
                    if (!ga.method().equals(a)) continue;
                    Group gb = groups.stream().filter(g -> g.method().equals(b) && g.density() == ga.density()).findFirst().orElse(null);
                    if (gb == null) continue;
                    Map<Long, Run> sa = bySeed(ga.runs()), sb = bySeed(gb.runs());
                    List<Double> js = new ArrayList<>();
                    sa.forEach((seed, ra) -> {
                        Run rb = sb.get(seed);
                        if (rb != null && ra.bits().length == rb.bits().length) js.add(Jaccard.of(ra.bits(), rb.bits()));
                    });
                    if (!js.isEmpty()) byD.put(ga.density(), Stats.of(js.stream().mapToDouble(Double::doubleValue).toArray()));
                }
                if (!byD.isEmpty()) out.put(List.of(a, b), byD);
            }
        return out;
    }

    private static Map<Long, Run> bySeed(List<Run> rs) {
        Map<Long, Run> m = new TreeMap<>();
        for (Run r : rs) m.putIfAbsent(r.config().seed(), r);
        return m;
    }

    private static void jaccard(StringBuilder md, String title, List<Group> groups, String prefix, Path out, List<Path> pngs)
            throws IOException {
        Map<List<String>, Map<Double, Stats>> j = jaccard(groups);
        if (j.isEmpty()) return;
        md.append("### Mask overlap (Jaccard)\n\n");
        Map<Double, Stats> pp = j.get(List.of("px", "px_datafree"));
        if (pp != null) {
            md.append("**px against px_datafree** (the data-driven and the data-free PX at the same initialisation):\n\n");
            md.append("| target density | seeds | Jaccard (mean ± std) | chance d/(2-d) |\n|---:|---:|---:|---:|\n");
            pp.forEach((d, s) -> md.append(String.format(Locale.ROOT, "| %s | %d | **%s** | %.4f |%n", RunFolders.num(d), s.n(), jCell(s),
                    Jaccard.chance(d))));
            md.append('\n');
        }
        Set<Double> ds = new TreeSet<>(Comparator.reverseOrder());
        j.values().forEach(m -> ds.addAll(m.keySet()));
        List<Double> cols = List.copyOf(ds);
        md.append("Every pair of methods (mean ± std over the seeds both have; the last row is chance):\n\n| pair |");
        for (double d : cols) md.append(' ').append(RunFolders.num(d)).append(" |");
        md.append("\n|---|").append("---:|".repeat(cols.size())).append('\n');
        List<String> rows = new ArrayList<>();
        double[][] v = new double[j.size()][cols.size()];
        int r = 0;
        for (Map.Entry<List<String>, Map<Double, Stats>> e : j.entrySet()) {
            String name = e.getKey().get(0) + " / " + e.getKey().get(1);
            boolean hi = e.getKey().equals(List.of("px", "px_datafree"));
            rows.add(name);
            md.append("| ").append(hi ? "**" + name + "**" : name).append(" |");
            for (int c = 0; c < cols.size(); c++) {
                Stats s = e.getValue().get(cols.get(c));
                v[r][c] = s == null ? Double.NaN : s.mean();
                md.append(' ').append(s == null ? "" : hi ? "**" + jCell(s) + "**" : jCell(s)).append(" |");
            }
            md.append('\n');
            r++;
        }
        md.append("| *chance* |");
        for (double d : cols) md.append(String.format(Locale.ROOT, " *%.4f* |", Jaccard.chance(d)));
        md.append("\n\n");
        Path png = out.resolve(prefix + "jaccard.png");
        double min = 1;
        for (double[] row : v) for (double x : row) if (x > 0) min = Math.min(min, x);
        new HeatMap(title + ": mask overlap (Jaccard) per pair of methods", rows, cols.stream().map(RunFolders::num).toList(), v,
                Math.max(-6, Math.min(-1, Math.floor(Math.log10(min))))).write(png);
        pngs.add(png);
        md.append("![Jaccard overlap between methods](").append(png.getFileName()).append(")\n\n");
    }

    private static String jCell(Stats s) {
        return String.format(Locale.ROOT, "%.4f", s.mean()) + (s.n() > 1 ? String.format(Locale.ROOT, " ± %.4f", s.std()) : "");
    }

    // ------------------------------------------------------------------ NTK
    /** the runs with NTK numbers of the --ntk table (by config hash or folder name) in place of their own */
    static List<Run> applyNtk(List<Run> runs, Map<String, Double> table, List<String> notes) {
        if (table == null) return runs;
        Set<String> used = new LinkedHashSet<>();
        List<Run> out = new ArrayList<>();
        for (Run r : runs) {
            String key = table.containsKey(r.hash()) ? r.hash() : table.containsKey(r.dir().getFileName().toString())
                    ? r.dir().getFileName().toString() : null;
            if (key == null) { out.add(r); continue; }
            used.add(key);
            out.add(r.withNtk(table.get(key)));
        }
        for (String k : table.keySet())
            if (!used.contains(k)) notes.add("--ntk: run '" + k + "' is none of the finished runs found; its row is not used");
        return out;
    }

    private static void ntk(StringBuilder md, String title, List<Group> groups, String prefix, Path out, List<Path> pngs)
            throws IOException {
        if (groups.stream().flatMap(g -> g.runs().stream()).noneMatch(r -> !Double.isNaN(r.ntkTraceKept()))) return;
        md.append("### NTK trace kept\n\nThe trace of the pruned network's NTK as a fraction of the dense one's (from `ntk.csv` files "
                + "or --ntk), mean ± std over the runs that have it.\n\n");
        md.append("| method | target density | runs with NTK | trace kept (mean ± std) |\n|---|---:|---:|---:|\n");
        Chart c = new Chart(title + ": NTK trace kept", "density (fraction of weights kept)", "trace kept").logX();
        List<String> ms = methods(groups);
        boolean anyPositive = false, anyZero = false;
        for (int k = 0; k < ms.size(); k++) {
            List<Double> x = new ArrayList<>(), y = new ArrayList<>(), e = new ArrayList<>();
            for (Group g : groups) {
                if (!g.method().equals(ms.get(k))) continue;
                Stats s = Stats.of(g.runs().stream().mapToDouble(Run::ntkTraceKept).toArray());
                if (s.n() == 0) continue;
                md.append(String.format(Locale.ROOT, "| %s | %s | %d | %.4g%s |%n", g.method(), RunFolders.num(g.density()), s.n(), s.mean(),
                        s.n() > 1 ? String.format(Locale.ROOT, " ± %.4g", s.std()) : ""));
                x.add(g.density());
                y.add(s.mean());
                e.add(s.stdOrZero());
                anyPositive |= s.mean() > 0;
                anyZero |= s.mean() <= 0;
            }
            if (!x.isEmpty()) c.series(ms.get(k), toArray(x), toArray(y)).errors(toArray(e)).markers().color(Chart.palette(k, ms.size()));
        }
        if (anyPositive) c.logY(); // the traces kept span many decades
        Path png = out.resolve(prefix + "ntk.png");
        c.write(png);
        pngs.add(png);
        md.append("\n![NTK trace kept against density](").append(png.getFileName()).append(")\n\n");
        if (anyPositive && anyZero) md.append("A trace kept of 0 (no kept path reaches an output) has no place on the chart's log scale and is "
                + "left out of it; the table has it.\n\n");
    }

    private static double[] toArray(List<Double> l) { return l.stream().mapToDouble(Double::doubleValue).toArray(); }

    static String fileSafe(String s) { return s.replaceAll("[^A-Za-z0-9._-]", "_"); }
}
