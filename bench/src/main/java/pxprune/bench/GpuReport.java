package pxprune.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import pxprune.core.io.Json;

/**
 * Writes {@code results.md} and {@code results.json} from what the parts of the GPU bundle's
 * {@code run.sh} left in its scratch folder: {@code machine.json} (GPU, driver, glibc, date, the
 * command; written by run.sh), {@code tests-MODULE.json} ({@link CudaTestMain}), {@code pxprune.json}
 * ({@link GpuBench}), {@code pytorch.json} ({@code pytorch_gpu_bench.py}) and {@code part-NAME.rc}
 * (each part's exit status; 124 = killed by its time limit). A missing file is reported as such: a
 * part that failed still lets the others report. results.md reads on its own: every failed test with
 * its message, every benchmark row of both sides with its figure or the reason it has none, and the
 * comparison with the targets.
 *
 * <p>Targets: ResNet-20 and ResNet-50 forward+backward &lt;= 1.2x PyTorch's time; PX 100 rounds
 * &lt;= 0.5x PyTorch's PX and &gt;= 20x faster than pxprune's CPU PX; a training epoch's images/s
 * &gt;= 0.8x PyTorch's.
 *
 * <p>Usage: {@code GpuReport PARTS_DIR [OUT_DIR]} (OUT_DIR default PARTS_DIR). Exit status 0 when every
 * test passed (and at least one ran or was reported), 1 otherwise.
 */
public final class GpuReport {
    private GpuReport() {}

    /** a compared figure: pxprune's row, the reference (PyTorch's row or pxprune's own CPU row), the target */
    record Target(String label, String ours, String refSide, String ref, boolean speedup, double bound, String unitWord) {}

    static final List<Target> TARGETS = List.of(
            new Target("ResNet-20 forward+backward", "resnet20_fwd_bwd", "pytorch", "resnet20_fwd_bwd", false, 1.2, "time"),
            new Target("ResNet-50 forward+backward", "resnet50_fwd_bwd", "pytorch", "resnet50_fwd_bwd", false, 1.2, "time"),
            new Target("PX 100 rounds vs PX in PyTorch", "px_gpu", "pytorch", "px", false, 0.5, "time"),
            new Target("PX 100 rounds vs pxprune's CPU PX", "px_gpu", "pxprune", "px_cpu", true, 20, "speed-up"),
            new Target("training epoch (images/s)", "train_epoch", "pytorch", "train_epoch", true, 0.8, "throughput"));

    public static void main(String[] args) throws IOException {
        if (args.length != 1 && args.length != 2) {
            System.err.println("usage: GpuReport PARTS_DIR [OUT_DIR]");
            System.exit(2);
        }
        Path parts = Path.of(args[0]);
        System.exit(write(parts, Path.of(args.length == 2 ? args[1] : args[0]), System.out));
    }

    /** {@link #write(Path, Path, java.io.PrintStream)} with the report beside the parts */
    static int write(Path dir, java.io.PrintStream print) throws IOException { return write(dir, dir, print); }

    /** the most lines of a failure's message that results.md shows */
    static final int MESSAGE_LINES = 12;

    /**
     * reads the parts' files in {@code out} (the parts folder), writes results.md and results.json to
     * {@code dest}, prints results.md; 0 when every test passed
     */
    static int write(Path out, Path dest, java.io.PrintStream print) throws IOException {
        Files.createDirectories(dest);
        readLogs(out);
        Map<String, Object> machine = read(out.resolve("machine.json"));
        Map<String, Object> ours = read(out.resolve("pxprune.json")), torch = read(out.resolve("pytorch.json"));
        Map<String, Map<String, Object>> oursRows = rows(ours), torchRows = rows(torch);

        // ---- tests
        List<Map<String, Object>> modules = new ArrayList<>();
        int passed = 0, failed = 0, skipped = 0;
        List<String> failures = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(out)) {
            files = s.filter(p -> p.getFileName().toString().matches("tests-.+\\.json")).sorted().toList();
        }
        for (Path f : files) {
            Map<String, Object> t = read(f);
            if (t == null) continue;
            String module = String.valueOf(t.get("module"));
            @SuppressWarnings("unchecked") Map<String, Object> c = (Map<String, Object>) t.get("counts");
            // aborted = a failed assumption (e.g. an emulator-only test on a GPU): skipped, not failed
            int p = num(c.get("passed")), fl = num(c.get("failed")), sk = num(c.get("skipped")) + num(c.get("aborted"));
            boolean finished = Boolean.TRUE.equals(t.get("finished"));
            String rc = partRc(out, "tests-" + module);
            if (!finished) {
                fl++;
                failures.add(module + ": did not finish" + (rc.equals("124") ? " (killed by its time limit)" : rc.isEmpty() ? "" : " (exit status " + rc + ")"));
            }
            passed += p; failed += fl; skipped += sk;
            @SuppressWarnings("unchecked") List<Map<String, Object>> tests = (List<Map<String, Object>>) t.get("tests");
            for (Map<String, Object> e : tests)
                if ("failed".equals(e.get("status")))
                    failures.add(module + " " + e.get("name") + ": " + message(String.valueOf(e.get("message"))));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("module", module); m.put("passed", p); m.put("failed", fl); m.put("skipped", sk); m.put("finished", finished);
            modules.add(m);
        }
        boolean testsOk = failed == 0 && !modules.isEmpty() && passed > 0;
        boolean quick = Boolean.TRUE.equals(machine == null ? null : machine.get("quick"));
        if (modules.isEmpty()) failures.add("no test results (tests-*.json) in " + out + (partRc(out, "tests").isEmpty() ? "" : "; tests part exit status " + partRc(out, "tests")));
        else if (passed == 0) failures.add("no cuda-tagged test passed (all skipped: is the CUDA backend usable? see the skip reasons)");

        // ---- figures
        List<Map<String, Object>> compared = new ArrayList<>();
        StringBuilder table = new StringBuilder();
        table.append("| workload | pxprune (CUDA) | reference | reference figure | ratio | target | met |\n|---|---:|---|---:|---:|---:|---|\n");
        for (Target t : TARGETS) {
            Map<String, Object> a = oursRows.get(t.ours());
            Map<String, Object> b = (t.refSide().equals("pytorch") ? torchRows : oursRows).get(t.ref());
            Double va = value(a), vb = value(b);
            String refName = t.refSide().equals("pytorch") ? "PyTorch " + (torch == null ? "" : torch.getOrDefault("torch", "")) : "pxprune CPU";
            Double ratio = null;
            if (va != null && vb != null) ratio = t.speedup() ? (t.unitWord().equals("speed-up") ? vb / va : va / vb) : va / vb;
            String met;
            if (ratio == null && quick) met = "not measured: --quick runs the tests only";
            else if (ratio == null) {
                List<String> why = new ArrayList<>();
                if (va == null) why.add(why(a, ours, "pxprune.json", partRc(out, "bench"), t.ours()));
                boolean py = t.refSide().equals("pytorch");
                if (vb == null) why.add("reference: " + why(b, py ? torch : ours, py ? "pytorch.json" : "pxprune.json", partRc(out, py ? "pytorch" : "bench"), t.ref()));
                met = "not measured: " + String.join("; ", why);
            }
            else met = (t.speedup() ? ratio >= t.bound() : ratio <= t.bound()) ? "met" : "missed";
            String target = (t.speedup() ? ">= " : "<= ") + bound(t.bound()) + (t.unitWord().equals("speed-up") ? "x faster" : "x");
            table.append("| ").append(t.label()).append(a == null ? "" : " (" + a.get("what") + ")").append(" | ")
                    .append(show(a)).append(" | ").append(refName).append(" | ").append(show(b)).append(" | ")
                    .append(ratio == null ? "" : String.format(Locale.ROOT, "%.2f", ratio)).append(" | ").append(target).append(" | ")
                    .append(met).append(notes(a, b)).append(" |\n");
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("workload", t.label()); c.put("pxprune", va); c.put("reference", refName); c.put("reference_value", vb);
            c.put("ratio", ratio); c.put("target", target); c.put("met", met);
            compared.add(c);
        }

        StringBuilder md = new StringBuilder();
        md.append("## GPU run: ").append(get(machine, "date")).append("\n\n");
        md.append("Device: ").append(get(machine, "gpu")).append(", driver ").append(get(machine, "driver")).append(", ")
                .append(get(machine, "memory")).append("; host: ").append(get(machine, "cpu")).append(".\n");
        md.append("Bundle: ").append(get(machine, "bundle")).append("; C library: ").append(get(machine, "glibc")).append(".\n");
        md.append("Command: `").append(get(machine, "command")).append("`").append(Boolean.TRUE.equals(machine == null ? null : machine.get("smoke"))
                ? " (**smoke run: tiny sizes against the CPU emulator; the figures measure nothing**)" : "").append(".\n");
        md.append("pxprune: Java ").append(ours == null ? "?" : get(map(ours.get("meta")), "java")).append(", CUDA backend: ")
                .append(ours == null ? "?" : get(map(ours.get("meta")), "cuda")).append(". PyTorch: ")
                .append(torch == null ? "not run" : "torch " + torch.get("torch") + " on " + torch.get("device") + ", Python " + torch.get("python"))
                .append(". FP32, TF32 off on both sides; ").append(Boolean.TRUE.equals(machine == null ? null : machine.get("smoke"))
                        ? "pxprune: one repetition, no warm-up (smoke)" : "medians of repetitions after a warm-up, synchronised").append(".\n\n");
        md.append("Tests (`cuda`-tagged, every module): ").append(passed).append(" passed, ").append(failed).append(" failed, ")
                .append(skipped).append(" skipped").append(testsOk ? "." : " - **not all passed**.").append("\n");
        for (Map<String, Object> m : modules)
            md.append("- ").append(m.get("module")).append(": ").append(m.get("passed")).append(" passed, ").append(m.get("failed"))
                    .append(" failed, ").append(m.get("skipped")).append(" skipped\n");
        for (String f : failures) md.append("- FAILED ").append(f.replace("\n", "\n  ")).append("\n");
        List<String> mismatch = sizeMismatches(ours, torch);
        if (!mismatch.isEmpty()) md.append("\n**The two sides ran different sizes**: ").append(String.join(", ", mismatch)).append("\n");
        md.append("\n").append(table);
        md.append("\nEvery benchmark row:\n\n| side | row | figure | status | note |\n|---|---|---:|---|---|\n");
        for (var side : List.of(Map.entry("pxprune", oursRows), Map.entry("PyTorch", torchRows)))
            for (Map<String, Object> r : side.getValue().values())
                md.append("| ").append(side.getKey()).append(" | ").append(r.get("key")).append(" | ").append(show(r)).append(" | ")
                        .append(r.get("status")).append(" | ").append(String.valueOf(r.get("note")).replace("|", "\\|")).append(" |\n");
        if (oursRows.isEmpty()) md.append("| pxprune | - | - | ").append(quick ? "not run" : "missing").append(" | ")
                .append(quick ? "--quick runs the tests only" : why(null, ours, "pxprune.json", partRc(out, "bench"), "rows")).append(" |\n");
        if (torchRows.isEmpty()) md.append("| PyTorch | - | - | ").append(quick ? "not run" : "missing").append(" | ")
                .append(quick ? "--quick runs the tests only" : why(null, torch, "pytorch.json", partRc(out, "pytorch"), "rows")).append(" |\n");
        Files.writeString(dest.resolve("results.md"), md);

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("machine", machine);
        Map<String, Object> tj = new LinkedHashMap<>();
        tj.put("passed", passed); tj.put("failed", failed); tj.put("skipped", skipped); tj.put("all_passed", testsOk);
        tj.put("modules", modules); tj.put("failures", failures);
        json.put("tests", tj);
        json.put("compared", compared);
        json.put("size_mismatches", mismatch);
        json.put("pxprune", ours);
        json.put("pytorch", torch);
        Files.writeString(dest.resolve("results.json"), Json.pretty(json));
        print.print(md);
        return testsOk ? 0 : 1;
    }

    /** a failure's message: its first MESSAGE_LINES lines (the rest is in results.json and the logs) */
    static String message(String m) {
        String[] lines = m.strip().split("\n");
        if (lines.length <= MESSAGE_LINES) return String.join("\n", lines);
        return String.join("\n", java.util.Arrays.copyOf(lines, MESSAGE_LINES)) + "\n(" + (lines.length - MESSAGE_LINES)
                + " more lines in results.json)";
    }

    /** by part file (pxprune.json, pytorch.json): the last line of its log in the scratch folder's logs/, when there is one */
    private static final Map<String, String> lastLog = new java.util.concurrent.ConcurrentHashMap<>();

    private static void readLogs(Path parts) {
        lastLog.clear();
        Path logs = parts.toAbsolutePath().resolveSibling("logs");
        for (var e : Map.of("pxprune.json", "bench.log", "pytorch.json", "pytorch.log").entrySet()) {
            try {
                Path f = logs.resolve(e.getValue());
                if (!Files.isRegularFile(f)) continue;
                List<String> lines = Files.readAllLines(f).stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
                if (!lines.isEmpty()) lastLog.put(e.getKey(), lines.get(lines.size() - 1).replace("|", "\\|"));
            } catch (IOException | RuntimeException ignored) {
                // no log line: the reason says less
            }
        }
    }

    static Map<String, Object> read(Path p) {
        try {
            return Files.isRegularFile(p) ? Json.parseObject(Files.readString(p)) : null;
        } catch (IOException | RuntimeException e) {
            System.err.println("GpuReport: cannot read " + p + ": " + e.getMessage());
            return null;
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) { return o instanceof Map ? (Map<String, Object>) o : Map.of(); }

    static Map<String, Map<String, Object>> rows(Map<String, Object> side) {
        Map<String, Map<String, Object>> m = new LinkedHashMap<>();
        if (side != null && side.get("rows") instanceof List<?> l)
            for (Object o : l) m.put(String.valueOf(map(o).get("key")), map(o));
        return m;
    }

    static String partRc(Path out, String part) {
        try {
            Path p = out.resolve("part-" + part + ".rc");
            return Files.isRegularFile(p) ? Files.readString(p).trim() : "";
        } catch (IOException e) {
            return "";
        }
    }

    static Double value(Map<String, Object> row) {
        return row != null && row.get("value") instanceof Number n && Double.isFinite(n.doubleValue()) ? n.doubleValue() : null;
    }

    static String why(Map<String, Object> row, Map<String, Object> side, String file, String rc, String key) {
        if (side == null) return file + " missing" + (rc.isEmpty() ? "" : " (exit status " + rc + (rc.equals("124") ? ": time limit" : "") + ")")
                + (lastLog.get(file) == null ? "" : "; its log ends: " + lastLog.get(file));
        if (row == null) return key + " not in " + file + (Boolean.TRUE.equals(side.get("finished")) ? "" : " (the part did not finish"
                + (rc.equals("124") ? ": time limit" : rc.isEmpty() ? "" : ", exit status " + rc) + ")");
        return String.valueOf(row.get("note")).replace("|", "\\|");
    }

    static String show(Map<String, Object> row) {
        Double v = value(row);
        return v == null ? "-" : fmt(v) + " " + row.get("unit");
    }

    static String notes(Map<String, Object> a, Map<String, Object> b) {
        List<String> n = new ArrayList<>();
        if (value(a) != null && a.get("note") != null && !String.valueOf(a.get("note")).isEmpty()) n.add("pxprune: " + a.get("note"));
        if (value(b) != null && b.get("note") != null && !String.valueOf(b.get("note")).isEmpty()) n.add("reference: " + b.get("note"));
        return n.isEmpty() ? "" : " (" + String.join("; ", n).replace("|", "\\|") + ")";
    }

    /** a bound as the targets write it: 1.2, 0.5, 20 */
    static String bound(double v) { return new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString(); }

    /** the size keys on which the two sides disagree (both must run the same workloads) */
    static List<String> sizeMismatches(Map<String, Object> ours, Map<String, Object> torch) {
        List<String> bad = new ArrayList<>();
        if (ours == null || torch == null) return bad;
        Map<String, Object> a = map(map(ours.get("meta")).get("sizes")), b = map(torch.get("sizes"));
        for (var e : a.entrySet()) {
            Object o = b.get(e.getKey());
            if (!(e.getValue() instanceof Number x && o instanceof Number y && x.doubleValue() == y.doubleValue()))
                bad.add(e.getKey() + " " + e.getValue() + " (pxprune) vs " + o + " (PyTorch)");
        }
        return bad;
    }

    static int num(Object o) { return o instanceof Number n ? n.intValue() : 0; }

    static String get(Map<String, Object> m, String k) { return m == null || m.get(k) == null ? "?" : String.valueOf(m.get(k)); }

    static String fmt(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : v >= 1 ? String.format(Locale.ROOT, "%.2f", v) : String.format(Locale.ROOT, "%.3g", v);
    }
}
