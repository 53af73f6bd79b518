package pxprune.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import pxprune.core.io.Json;
import pxprune.kernels.CpuBackend;
import pxprune.experiments.cli.Main;
import pxprune.experiments.cli.OutputDir;
import pxprune.experiments.cli.UsageException;
import pxprune.experiments.train.Devices;
import pxprune.kernels.DeviceId;

/**
 * Runs every benchmark once (JMH, one fork each), then PyTorch's figures for the same models,
 * shapes and thread count ({@code bench/pytorch_bench.py}, when a python3 with torch is found: see
 * {@link PyTorchRef}), and the PX authors' code and Synaptic-Flow's SynFlow on PxBench's workload
 * when their checkouts are named ({@link AuthorsRef}); prints one table with each pxprune figure
 * next to PyTorch's from the same run and their ratio, one with PX and SynFlow next to the reference
 * implementations, a per-layer profile of ResNet-20's convolutions, and the ratios the project
 * tracks; writes them to {@code bench-results/bench.json} and {@code bench-results/bench.md}. Each
 * time is the fastest measurement iteration's mean time per call, on both sides. Every figure is
 * measured in the run; a comparison that could not be made says "not run" and why.
 * Usage: {@code BenchMain [OUT_DIR] [JMH include regex] [--device cpu|cuda|cuda:N] [--px-authors DIR]
 * [--synflow DIR]}: the device ({@link DeviceId}, default cpu) is checked here (exit 2 with the
 * reason when it cannot be used) and passed to every benchmark fork as {@value #DEVICE_PROPERTY}
 * (read it with {@link #device()}) and to {@link GpuBench} as its {@code --device}; the checkouts
 * (default {@code $PXPRUNE_PX_AUTHORS}, {@code $PXPRUNE_SYNFLOW}) are checked here too. On CUDA the JMH benchmarks (the CPU backend's) are refused
 * with one line and {@link GpuBench}'s rows run on the device instead, followed by {@link GpuReport}'s table.
 */
public final class BenchMain {
    static final String USAGE = "usage: bench [OUT_DIR] [INCLUDE] [--device D] [--px-authors DIR] [--synflow DIR]";

    /** what --help prints */
    static final String HELP = USAGE.replace("usage: bench", "usage: pxprune bench") + """

              every JMH benchmark of module bench whose name matches INCLUDE (a regular expression, default
              every one), then PyTorch's figures for the same models and shapes (bench/pytorch_bench.py with
              PXPRUNE_PYTHON) and, given their checkouts, the PX authors' code (--px-authors DIR or
              PXPRUNE_PX_AUTHORS) and Synaptic-Flow's SynFlow (--synflow DIR or PXPRUNE_SYNFLOW), all in the
              same run; one table on the terminal, OUT_DIR (default bench-results) gets bench.md and bench.json.
              --device cuda|cuda:N: the GPU benchmarks instead (the JMH ones measure the CPU backend).
              bench/README.md says what each benchmark measures.
            """;

    /** ResNet-20's convolutions (KernelBench's layer names) and how many times each occurs in the network */
    static final Map<String, Integer> RESNET20_CONVS = new LinkedHashMap<>();
    static {
        RESNET20_CONVS.put("3-16-32-1", 1);
        RESNET20_CONVS.put("16-16-32-1", 6);
        RESNET20_CONVS.put("16-32-32-2", 1);
        RESNET20_CONVS.put("16-32-32-2-1", 1);
        RESNET20_CONVS.put("32-32-16-1", 5);
        RESNET20_CONVS.put("32-64-16-2", 1);
        RESNET20_CONVS.put("32-64-16-2-1", 1);
        RESNET20_CONVS.put("64-64-8-1", 5);
    }

    /** the system property that carries --device into the benchmark forks (cpu, cuda or cuda:N) */
    public static final String DEVICE_PROPERTY = "pxprune.bench.device";

    /** the device the benchmarks of this JVM run on: BenchMain's --device, passed to the forks; cpu by default */
    public static DeviceId device() { return DeviceId.parse(System.getProperty(DEVICE_PROPERTY, "cpu")); }

    /** the command line: output folder, JMH include pattern, device (as written), the reference implementations' checkouts */
    record Cli(Path out, String include, String device, Map<AuthorsRef.Code, Path> checkouts) {}

    static Cli parse(String[] args) { return parse(args, System.getenv()); }

    /**
     * parses [OUT_DIR] [INCLUDE] [--device D] [--px-authors DIR] [--synflow DIR] (each also as
     * --opt=V), the checkouts defaulting to env's PXPRUNE_PX_AUTHORS and PXPRUNE_SYNFLOW; a bad value
     * is a UsageException naming the option (or variable), the value and the fix
     */
    static Cli parse(String[] args, Map<String, String> env) {
        List<String> positional = new ArrayList<>();
        Map<String, String> options = new LinkedHashMap<>();
        List<String> known = new ArrayList<>(List.of("--device"));
        for (AuthorsRef.Code c : AuthorsRef.Code.values()) known.add(c.option);
        for (int i = 0; i < args.length; i++) {
            String a = args[i], name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a, v;
            if (!a.startsWith("--")) {
                positional.add(a);
                continue;
            }
            if (!known.contains(name)) throw new UsageException("unknown option " + a + " for bench; " + USAGE);
            if (a.contains("=")) v = a.substring(a.indexOf('=') + 1);
            else if (i + 1 < args.length) v = args[++i];
            else throw new UsageException(name + " needs a value: " + (name.equals("--device") ? DeviceId.FORMS : "a folder"));
            if (options.put(name, v) != null) throw new UsageException(name + " is given twice; give it once");
        }
        if (positional.size() > 2)
            throw new UsageException("unexpected argument '" + positional.get(2) + "' for bench; " + USAGE);
        Map<AuthorsRef.Code, Path> checkouts = new LinkedHashMap<>();
        for (AuthorsRef.Code c : AuthorsRef.Code.values()) {
            String dir = options.get(c.option), from = c.option;
            if (dir == null && env.get(c.env) != null && !env.get(c.env).isBlank()) {
                dir = env.get(c.env);
                from = c.env;
            }
            if (dir != null) checkouts.put(c, c.checkout(from, dir));
        }
        String device = options.get("--device");
        String d;
        try {
            d = DeviceId.checked(device == null ? "cpu" : device);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--device " + device + ": " + e.getMessage());
        }
        return new Cli(Path.of(positional.isEmpty() ? "bench-results" : positional.get(0)),
                positional.size() > 1 ? positional.get(1) : "pxprune\\.bench\\..*", d, checkouts);
    }

    /** the JVM options of every fork: the native-memory settings of the benchmarks' @Fork and the device */
    static String[] forkOptions(DeviceId d) {
        List<String> o = new ArrayList<>(List.of("-Dorg.bytedeco.javacpp.maxBytes=0", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0",
                "-D" + DEVICE_PROPERTY + "=" + d));
        for (String p : new String[] {"pxprune.cuda.libs", "pxprune.threads"})
            if (System.getProperty(p) != null) o.add("-D" + p + "=" + System.getProperty(p));
        return o.toArray(String[]::new);
    }

    public static void main(String[] args) throws Exception {
        if (java.util.Arrays.stream(args).anyMatch(a -> a.equals("--help") || a.equals("-h"))) {
            System.out.print(HELP);
            return;
        }
        Cli cli;
        DeviceId device;
        try {
            cli = parse(args);
            try {
                device = Devices.activate(cli.device());
            } catch (IllegalArgumentException e) {
                throw new UsageException("--device " + cli.device() + ": " + e.getMessage());
            }
            OutputDir.prepare(cli.out(), "OUT_DIR"); // before the benchmarks: an unwritable folder fails at once
            Files.createDirectories(cli.out());
        } catch (UsageException e) {
            System.err.println("pxprune: bench: " + Main.oneLine(e.getMessage()));
            System.exit(2);
            return;
        }
        Path out = cli.out();
        if (device.kind() != pxprune.kernels.Device.CPU) {
            // the JMH benchmarks and MemoryBench are the CPU backend's (native memory, OpenBLAS, threads); on CUDA the
            // device's own benchmarks run: GpuBench's rows, each in a JVM of its own, then GpuReport's table
            System.err.println("pxprune: bench --device " + cli.device() + ": the JMH benchmarks and MemoryBench measure the CPU backend "
                    + "and do not run on CUDA; running the GPU benchmarks (pxprune.bench.GpuBench) into " + out + " instead");
            GpuBench.main(new String[] {out.toString(), "--budget-s", "600", "--device", device.toString()});
            GpuReport.write(out, System.out);
            return;
        }
        String include = cli.include();
        Collection<RunResult> results;
        try {
            results = new Runner(new OptionsBuilder().include(include).jvmArgsAppend(forkOptions(device))
                    .result(out.resolve("jmh.json").toString()).resultFormat(org.openjdk.jmh.results.format.ResultFormatType.JSON)
                    .build()).run();
        } catch (org.openjdk.jmh.runner.NoBenchmarksException e) {
            results = List.of(); // the pattern names no JMH benchmark (e.g. MemoryBench alone)
        }
        Map<String, Double> ms = new LinkedHashMap<>(); // key: benchmark[params] -> milliseconds
        for (RunResult r : results) {
            String key = r.getParams().getBenchmark().replace("pxprune.bench.", "");
            for (String p : r.getParams().getParamsKeys()) key += " " + p + "=" + r.getParams().getParam(p);
            // the fastest measurement iteration: on a shared machine the least disturbed one (the
            // PyTorch script reports its fastest round the same way); the mean stays in jmh.json
            double v = r.getPrimaryResult().getStatistics().getMin();
            String unit = r.getPrimaryResult().getScoreUnit();
            ms.put(key, unit.startsWith("s/") ? v * 1000 : unit.startsWith("us/") ? v / 1000 : v);
        }
        int threads = CpuBackend.INSTANCE.threads();
        // the reference implementations next, the closest to PxBench's machine load that the run allows
        List<AuthorsRef.Result> refs = new ArrayList<>();
        AuthorsRef.Model ourModel = null;
        for (AuthorsRef.Code c : AuthorsRef.Code.values()) {
            if (!ms.containsKey(c.benchmark)) continue;
            Path repo = cli.checkouts().get(c);
            if (device.kind() != pxprune.kernels.Device.CPU)
                refs.add(AuthorsRef.Result.notRun(c, "not run: the script times it on the CPU, and this run's " + c.benchmark + " ran on "
                        + cli.device()));
            else if (repo == null) refs.add(AuthorsRef.Result.notRun(c, c.howToEnable()));
            else {
                if (ourModel == null) ourModel = AuthorsRef.Model.ofPxBench();
                refs.add(AuthorsRef.measure(c, repo, threads, ourModel));
            }
        }
        // peak memory per image (bytes: no timing, so in this JVM, on the CPU)
        java.util.regex.Pattern inc = java.util.regex.Pattern.compile(include);
        boolean memory = device.kind() == pxprune.kernels.Device.CPU && inc.matcher("pxprune.bench.MemoryBench").find();
        Map<String, Double> mib = memory ? MemoryBench.measure(java.util.regex.Pattern.compile(include.replace("pxprune\\.bench\\.", ""))) : Map.of();
        // right after ours, so that both see the same machine load
        PyTorchRef pt = PyTorchRef.measure(include.replace("pxprune\\.bench\\.", ""), threads, memory);
        Map<String, Double> tms = pt.milliseconds();

        List<String[]> rows = new ArrayList<>();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("milliseconds", ms);
        json.put("pytorch_milliseconds", tms);
        Map<String, Object> ratios = new LinkedHashMap<>();

        double peak = 0;
        for (var e : ms.entrySet()) if (e.getKey().startsWith("KernelBench.gemm ") && e.getKey().contains("F32"))
            peak = Math.max(peak, gflops(e.getKey(), e.getValue()));
        for (var e : ms.entrySet()) {
            String k = e.getKey();
            double v = e.getValue();
            Double t = tms.get(torchKey(k));
            String tcol = t == null ? "" : fmt(t) + " ms", rcol = t == null ? "" : String.format("%.2f", v / t);
            if (k.startsWith("KernelBench.gemm ")) {
                double gf = gflops(k, v);
                rows.add(new String[] {k, fmt(v) + " ms", String.format("%.1f GFLOP/s, %.0f%% of the best sgemm here", gf, 100 * gf / peak), tcol, rcol});
            } else if (k.startsWith("KernelBench.conv")) {
                if (t != null) tcol += String.format(" (%.1f GFLOP/s)", convGflops(k, t));
                rows.add(new String[] {k, fmt(v) + " ms", String.format("%.1f GFLOP/s", convGflops(k, v)), tcol, rcol});
            } else rows.add(new String[] {k, fmt(v) + " ms", "", tcol, rcol});
        }
        List<String[]> summary = new ArrayList<>();
        for (String model : new String[] {"resnet20", "vgg16_bn", "resnet50"})
            for (int batch : new int[] {100, 16, 1})
                for (String m : new String[] {"forward", "forwardBackward"}) {
                    boolean imageNet = model.equals("resnet50"); // ModelBench.imageNetForward, imageNetForwardBackward
                    String key = "ModelBench." + (imageNet ? "imageNetF" + m.substring(1) : m) + " batch=" + batch + " model=" + model;
                    ratio(ratios, summary, model + " " + (m.equals("forward") ? "forward" : "forward+backward") + ", batch " + batch
                            + " / PyTorch (same run); target <= " + (imageNet ? "1.2" : "1.0"), ms.get(key), tms.get(torchKey(key)));
                }
        Double px = ms.get("PxBench.px100Rounds"), floor = ms.get("PxBench.floorRound");
        ratio(ratios, summary, "PX 100 rounds / its cost floor (100 x floorRound); target <= 1.25", px, floor == null ? null : floor * PxBench.ROUNDS);
        Map<String, Object> refJson = new LinkedHashMap<>();
        List<String[]> refRows = referenceRows(refs, ms, ratios, summary, refJson);
        json.put("references", refJson);
        ratio(ratios, summary, "masked / dense training epoch (digits); target <= 1.05", ms.get("TrainBench.epoch variant=masked"), ms.get("TrainBench.epoch variant=dense"));
        String[][] sparseTargets = {{"0.1", "0.6"}, {"0.05", "0.4"}, {"0.01", "0.25"}};
        for (String[] dt : sparseTargets)
            ratio(ratios, summary, "masked ResNet-20 SGD step, batch 100, density " + dt[0] + ": sparse / dense kernels; target <= " + dt[1],
                    ms.get("SparseBench.sgdStep density=" + dt[0] + " kernels=sparse"), ms.get("SparseBench.sgdStep density=" + dt[0] + " kernels=dense"));
        List<String[]> memRows = memoryRows(mib, pt.mibPerImage(), ratios, summary);
        json.put("mib_per_image", mib);
        json.put("pytorch_mib_per_image", pt.mibPerImage());
        json.put("ratios", ratios);

        List<String[]> profile = profile(ms, tms);
        Map<String, Object> machine = new LinkedHashMap<>(); // ordered: Map.of's order changes from JVM to JVM
        machine.put("cpu", cpuModel());
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("threads", threads);
        machine.put("java", System.getProperty("java.version"));
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        machine.put("pytorch", pt.versions());
        machine.put("convolutions", CpuBackend.INSTANCE.describeConv());
        json.put("machine", machine);

        StringBuilder md = new StringBuilder();
        md.append("Machine: ").append(machine.get("cpu")).append(", ").append(threads).append(" threads (")
                .append(machine.get("cores")).append(" cores), Java ").append(machine.get("java")).append(", ")
                .append(pt.versions()).append("; pxprune ").append(machine.get("convolutions")).append(".\n")
                .append("Times: the fastest measurement iteration's mean per call, pxprune and PyTorch alike, measured back to back "
                        + "on the same machine; on a shared machine the ratios are steadier than the times.\n\n");
        if (!rows.isEmpty()) {
            md.append("| benchmark | pxprune | figure | PyTorch | pxprune / PyTorch |\n|---|---:|---|---:|---:|\n");
            for (String[] r : rows) md.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        if (!profile.isEmpty()) {
            md.append("\nResNet-20's convolutions one by one (batch 100; pxprune's time is the dispatched path, `conv=auto`; "
                    + "the total weighs each layer by its count):\n\n");
            md.append("| layer (in-out-size-stride[-kernel]) | count | forward: im2col / direct / auto GFLOP/s | auto ms | PyTorch ms | ratio "
                    + "| fwd+bwd: im2col / direct / auto GFLOP/s | auto ms | PyTorch ms | ratio |\n|---|---:|---|---:|---:|---:|---|---:|---:|---:|\n");
            for (String[] r : profile) md.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        if (!memRows.isEmpty()) {
            md.append("\nPeak memory per image of one training step (SGD, float32; MemoryBench), pxprune's native buffers against "
                    + "PyTorch's tensors (profiler memory timeline) and RSS (bench/pytorch_bench.py --memory), and of one PX scoring "
                    + "(target: at most a training step's):\n\n");
            md.append("| model, batch | pxprune train MiB/image | PyTorch tensors | ratio | PyTorch RSS | ratio | pxprune PX scoring MiB/image | PX / train |\n"
                    + "|---|---:|---:|---:|---:|---:|---:|---:|\n");
            for (String[] r : memRows) md.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        if (!refRows.isEmpty()) {
            md.append("\nPX and SynFlow against the reference implementations, run by bench/authors_bench.py after pxprune's in this run: ")
                    .append(PxBench.ROUNDS).append(" rounds of the exponential schedule to density ").append(PxBench.DENSITY)
                    .append(" on ResNet-20 with ").append(PxBench.IMAGES).append(" CIFAR-sized images, ").append(threads)
                    .append(" threads on both sides; each side's time is one run after a warm-up:\n\n");
            md.append("| method | pxprune | reference | its time | pxprune / reference |\n|---|---:|---|---:|---:|\n");
            for (String[] r : refRows) md.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        md.append("\n| ratio | value |\n|---|---:|\n");
        for (String[] r : summary) md.append("| ").append(String.join(" | ", r)).append(" |\n");
        System.out.println();
        System.out.print(md);
        Files.writeString(out.resolve("bench.md"), md);
        Files.writeString(out.resolve("bench.json"), Json.pretty(json));
        System.out.println("\nwritten: " + out.resolve("bench.md") + ", " + out.resolve("bench.json") + " (raw JMH: " + out.resolve("jmh.json") + ")");
    }

    /** one row per MemoryBench case: pxprune's training step against PyTorch's two figures, PX scoring against the step */
    private static List<String[]> memoryRows(Map<String, Double> mib, Map<String, Map<String, Double>> torch, Map<String, Object> ratios,
                                             List<String[]> summary) {
        List<String[]> rows = new ArrayList<>();
        for (MemoryBench.Case c : MemoryBench.CASES) {
            Double train = mib.get(c.key("train")), px = mib.get(c.key("px"));
            if (train == null && px == null) continue;
            Map<String, Double> t = torch.getOrDefault(c.key("train"), Map.of());
            Double tt = t.get("tensors"), tr = t.get("rss");
            String what = c.model() + ", batch " + c.batch();
            rows.add(new String[] {what, train == null ? "" : String.format("%.2f", train), tt == null ? "" : String.format("%.2f", tt),
                    train == null || tt == null ? "" : String.format("%.2f", train / tt), tr == null ? "" : String.format("%.2f", tr),
                    train == null || tr == null ? "" : String.format("%.2f", train / tr), px == null ? "" : String.format("%.2f", px),
                    px == null || train == null ? "" : String.format("%.2f", px / train)});
            ratio(ratios, summary, "training peak memory per image, " + what + " / PyTorch's tensors (same run); target <= 1.1", train, tt);
            ratio(ratios, summary, "PX scoring peak memory per image / a training step's, " + what + "; target <= 1.0", px, train);
        }
        return rows;
    }

    /**
     * one row per reference implementation: pxprune's time, the reference's from this run and the
     * ratio (also into ratios and summary); or, where it did not run, "not run", why and how to run
     * it, with no ratio. json gets each reference's script output, or its "not_run" reason.
     */
    static List<String[]> referenceRows(List<AuthorsRef.Result> refs, Map<String, Double> ms, Map<String, Object> ratios,
                                        List<String[]> summary, Map<String, Object> json) {
        List<String[]> rows = new ArrayList<>();
        for (AuthorsRef.Result r : refs) {
            AuthorsRef.Code c = r.code();
            double ours = ms.get(c.benchmark) / 1000;
            String what = c.method + " " + PxBench.ROUNDS + " rounds / " + c.name + " (same run); target <= " + c.goal;
            if (r.ok()) {
                ratio(ratios, summary, what, ours, r.seconds());
                rows.add(new String[] {c.method, fmt(ours) + " s", r.note(), fmt(r.seconds()) + " s", String.format("%.2f", ours / r.seconds())});
                json.put(c.target, r.json());
            } else {
                summary.add(new String[] {what, "not run"});
                rows.add(new String[] {c.method, fmt(ours) + " s", c.name + ": " + r.note(), "", ""});
                json.put(c.target, Map.of("not_run", r.note()));
            }
        }
        return rows;
    }

    /** the PyTorch script's key of a JMH key: without the parameters only pxprune has (the convolution path) */
    static String torchKey(String key) { return key.replaceAll(" conv=\\S+", ""); }

    /** one row per ResNet-20 convolution: GFLOP/s of each path, the dispatched path's time against PyTorch's; then the total */
    private static List<String[]> profile(Map<String, Double> ms, Map<String, Double> tms) {
        List<String[]> rows = new ArrayList<>();
        double[] ours = new double[2], theirs = new double[2];
        boolean complete = true;
        for (var e : RESNET20_CONVS.entrySet()) {
            String layer = e.getKey();
            List<String> row = new ArrayList<>(List.of(layer, String.valueOf(e.getValue())));
            boolean any = false;
            for (int b = 0; b < 2; b++) {
                String bench = b == 0 ? "KernelBench.convForward" : "KernelBench.convForwardBackward";
                StringBuilder gf = new StringBuilder();
                for (String path : new String[] {"im2col", "direct", "auto"}) {
                    Double v = ms.get(bench + " conv=" + path + " layer=" + layer);
                    if (gf.length() > 0) gf.append(" / ");
                    gf.append(v == null ? "-" : String.format("%.0f", convGflops(bench + " layer=" + layer, v)));
                }
                Double a = ms.get(bench + " conv=auto layer=" + layer), t = tms.get(bench + " layer=" + layer);
                any |= a != null;
                if (a != null && t != null) { ours[b] += e.getValue() * a; theirs[b] += e.getValue() * t; } else complete = false;
                row.add(gf.toString());
                row.add(a == null ? "" : fmt(a));
                row.add(t == null ? "" : fmt(t));
                row.add(a == null || t == null ? "" : String.format("%.2f", a / t));
            }
            if (any) rows.add(row.toArray(new String[0]));
        }
        if (!rows.isEmpty() && complete)
            rows.add(new String[] {"all convolutions of ResNet-20", String.valueOf(RESNET20_CONVS.values().stream().mapToInt(Integer::intValue).sum()), "", fmt(ours[0]), fmt(theirs[0]), String.format("%.2f", ours[0] / theirs[0]),
                    "", fmt(ours[1]), fmt(theirs[1]), String.format("%.2f", ours[1] / theirs[1])});
        return rows;
    }

    /** /proc/cpuinfo's model name (Linux), else the JVM's architecture */
    static String cpuModel() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo")))
                if (l.startsWith("model name")) return l.substring(l.indexOf(':') + 1).trim();
        } catch (Exception e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    private static void ratio(Map<String, Object> ratios, List<String[]> rows, String what, Double a, Double b) {
        if (a == null || b == null) return;
        ratios.put(what, a / b);
        rows.add(new String[] {what, String.format("%.2f", a / b)});
    }

    private static int param(String key, String name) {
        for (String p : key.split(" ")) if (p.startsWith(name + "=")) return Integer.parseInt(p.substring(name.length() + 1).split("-")[0]);
        throw new IllegalArgumentException(key);
    }

    private static double gflops(String key, double ms) {
        double n = param(key, "n");
        return 2 * n * n * n / (ms * 1e6);
    }

    /**
     * conv layer "in-out-size-stride[-kernel]", batch 100, padding kernel/2: forward 2*N*K*OH*OW*C*kh*kw
     * flops, forward+backward three times that (the input and weight gradients cost one forward each)
     */
    static double convGflops(String key, double ms) {
        String layer = key.substring(key.indexOf("layer=") + 6).split(" ")[0];
        String[] p = layer.split("-");
        double c = Double.parseDouble(p[0]), k = Double.parseDouble(p[1]);
        int hw = Integer.parseInt(p[2]), s = Integer.parseInt(p[3]), kk = p.length > 4 ? Integer.parseInt(p[4]) : 3;
        double o = (hw + 2 * (kk / 2) - kk) / s + 1;
        double fwd = 2 * 100 * k * o * o * c * kk * kk;
        return (key.contains("Backward") ? 3 * fwd : fwd) / (ms * 1e6);
    }

    private static String fmt(double v) { return v >= 100 ? String.format("%.0f", v) : String.format("%.2f", v); }
}
