package pxprune.experiments.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import pxprune.experiments.report.NtkTable;
import pxprune.experiments.report.Report;
import pxprune.experiments.report.RunFolders;

/**
 * {@code pxprune report RUNS... [--out DIR] [--ntk FILE.csv]}: the report over every finished run
 * folder found below the given folders ({@link RunFolders}), written as {@code DIR/report.md} and
 * PNGs beside it ({@link Report}). Run folders that are unfinished or broken are left out with a
 * note (in the report and on stderr); a missing folder, no finished run at all, or a bad --ntk file
 * is a usage error (exit 2).
 */
final class ReportCommand {
    static final String USAGE_LINE = "pxprune report RUNS... [--out DIR] [--ntk FILE.csv ...]";

    private ReportCommand() {}

    static void run(String[] args, PrintStream out, PrintStream err) throws IOException {
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("out", "report");
        opts.put("ntk", "ntk.csv");
        Args a = new Args("report", args, 1, opts, Set.of(), Set.of("ntk"));
        if (a.positional().isEmpty())
            throw new UsageException("'report' needs at least one folder of runs, e.g. pxprune report runs; usage: " + USAGE_LINE);
        List<Path> roots = new ArrayList<>();
        for (String s : a.positional()) {
            Path p = Path.of(s);
            if (!Files.isDirectory(p))
                throw new UsageException("report: " + p + (Files.exists(p) ? " is not a folder" : " does not exist")
                        + "; give run folders or folders that contain them (e.g. runs)");
            roots.add(p);
        }
        Map<String, Double> ntk = null;
        for (String name : a.all("ntk")) { // one table per --ntk (e.g. the ntk command's ntk.csv of each seed)
            Path f = Path.of(name);
            if (!Files.isRegularFile(f))
                throw new UsageException("--ntk " + f + ": " + (Files.exists(f) ? "is not a regular file" : "no such file")
                        + "; give the ntk.csv written by pxprune ntk --run");
            try {
                if (ntk == null) ntk = new LinkedHashMap<>();
                ntk.putAll(NtkTable.readTable(f));
            } catch (IllegalArgumentException | IOException e) {
                throw new UsageException("--ntk " + Main.oneLine(String.valueOf(e.getMessage()))
                        + "; give a CSV with columns run (config hash or run folder name) and trace_kept");
            }
        }
        Path dir = Path.of(a.string("out", "report"));
        OutputDir.prepare(dir, "--out");
        RunFolders.Scan scan = RunFolders.scan(roots);
        if (scan.runs().isEmpty())
            throw new UsageException("report: no finished run under " + String.join(", ", a.positional())
                    + " (a run folder has config.json and summary.json" + (scan.notes().isEmpty() ? "" : "; " + scan.notes().size()
                    + " folder(s) left out, the first: " + Main.oneLine(scan.notes().get(0))) + "); give the folder that "
                    + "`pxprune run --runs` wrote, e.g. runs");
        for (String n : scan.notes()) err.println("pxprune report: note: " + Main.oneLine(n));
        Files.createDirectories(dir);
        Report.Written w = Report.write(scan, roots, ntk, dir);
        out.println("report of " + w.runs() + " run" + (w.runs() == 1 ? "" : "s") + " written to " + w.markdown() + " with "
                + w.pngs().size() + " PNG" + (w.pngs().size() == 1 ? "" : "s") + (w.notes() == 0 ? "" : "; " + w.notes() + " note"
                + (w.notes() == 1 ? "" : "s") + " at its end"));
    }
}
