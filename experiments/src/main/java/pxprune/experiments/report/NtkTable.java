package pxprune.experiments.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * NTK numbers for the report, read from CSV files (the report computes none itself). The one
 * number used is {@code trace_kept}: the trace of the pruned network's NTK as a fraction of the
 * dense one's (the {@code ntk} command's output). Two places:
 * <ul>
 * <li>{@code ntk.csv} in a run folder: a header naming a {@code trace_kept} column, then one row
 *     per measurement; the run's number is the mean of its rows (other columns are ignored);
 * <li>{@code --ntk FILE.csv}: the same, plus a {@code run} (or {@code hash}) column naming each
 *     row's run by its config hash or its folder's name; it overrides a run folder's own file.
 * </ul>
 * In both, a row whose {@code run} column is empty is not a run's (the {@code ntk} command's
 * dense reference row) and is skipped.
 * Plain comma-separated values, no quoting; a bad file is refused naming the file, the line and
 * the column.
 */
public final class NtkTable {
    public static final String TRACE = "trace_kept";

    private NtkTable() {}

    /** the mean trace_kept of a run folder's ntk.csv */
    public static double readOwn(Path csv) throws IOException {
        List<String[]> rows = new ArrayList<>();
        int col = columns(csv, rows, TRACE), id = index(csv, "run");
        double sum = 0;
        int n = 0;
        for (int i = 0; i < rows.size(); i++) {
            if (id >= 0 && rows.get(i)[id].isBlank()) continue;
            sum += value(csv, rows.get(i), col, i + 2);
            n++;
        }
        if (n == 0) throw new IllegalArgumentException(csv + " has no row of a run (every 'run' cell is empty); give the ntk.csv of a run");
        return sum / n;
    }

    /** run (hash or folder name) -&gt; mean trace_kept, from a table naming runs */
    public static Map<String, Double> readTable(Path csv) throws IOException {
        List<String[]> rows = new ArrayList<>();
        int col = columns(csv, rows, TRACE);
        int id = index(csv, "run");
        if (id < 0) id = index(csv, "hash");
        if (id < 0) throw new IllegalArgumentException(csv + " has no 'run' (or 'hash') column naming each row's run; add one with "
                + "the run's config hash, e.g. run,density,trace_kept");
        Map<String, double[]> acc = new LinkedHashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            String run = rows.get(i)[id].strip();
            if (run.isEmpty()) continue; // not a run's row (the dense reference)
            double v = value(csv, rows.get(i), col, i + 2);
            double[] a = acc.computeIfAbsent(run, k -> new double[2]);
            a[0] += v;
            a[1]++;
        }
        Map<String, Double> out = new LinkedHashMap<>();
        acc.forEach((k, a) -> out.put(k, a[0] / a[1]));
        return out;
    }

    /** reads header and rows; returns the index of column want */
    private static int columns(Path csv, List<String[]> rows, String want) throws IOException {
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        lines.removeIf(String::isBlank);
        if (lines.isEmpty()) throw new IllegalArgumentException(csv + " is empty; expected a header with " + want + " and rows");
        String[] head = split(lines.get(0));
        int col = -1;
        for (int i = 0; i < head.length; i++) if (head[i].strip().equals(want)) col = i;
        if (col < 0) throw new IllegalArgumentException(csv + " has no column '" + want + "' (header: " + lines.get(0).strip() + ")");
        for (int i = 1; i < lines.size(); i++) {
            String[] r = split(lines.get(i));
            if (r.length != head.length)
                throw new IllegalArgumentException(csv + " line " + (i + 1) + " has " + r.length + " fields, the header " + head.length);
            rows.add(r);
        }
        if (rows.isEmpty()) throw new IllegalArgumentException(csv + " has a header but no rows");
        return col;
    }

    private static int index(Path csv, String name) throws IOException {
        String[] head = split(Files.readAllLines(csv, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).findFirst().orElse(""));
        for (int i = 0; i < head.length; i++) if (head[i].strip().equals(name)) return i;
        return -1;
    }

    private static String[] split(String line) { return line.split(",", -1); }

    private static double value(Path csv, String[] row, int col, int line) {
        String v = row[col].strip();
        double d;
        try {
            d = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            d = Double.NaN;
        }
        if (!Double.isFinite(d) || d < 0)
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s line %d: %s is '%s', expected a finite number >= 0",
                    csv, line, TRACE, v));
        return d;
    }
}
