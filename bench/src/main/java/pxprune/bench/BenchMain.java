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
import pxprune.px.cli.OutputDir;
import pxprune.px.cli.UsageException;

/**
 * Runs every benchmark once (JMH, one fork each), then prints one table of the figures and the
 * ratios the project tracks, all measured in this run, and writes them to
 * {@code bench-results/bench.json} and {@code bench-results/bench.md}.
 * Usage: {@code BenchMain [OUT_DIR] [JMH include regex]}.
 */
public final class BenchMain {
    /** reference figures measured on this machine kind (2 cores) with PyTorch 2.13 CPU and the authors' code */
    static final double PT_R20_FWD_B100_MS = 100, PT_R20_FWDBWD_B100_MS = 250, PT_R20_FWDBWD_B1_MS = 16;
    static final double AUTHORS_PX_100_ROUNDS_S = 42, SYNFLOW_REF_100_ROUNDS_S = 1.5;

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "bench-results");
        String include = args.length > 1 ? args[1] : "pxprune\\.bench\\..*";
        try {
            OutputDir.prepare(out, "OUT_DIR"); // before the benchmarks: an unwritable folder fails at once
        } catch (UsageException e) {
            System.err.println("pxprune: bench: " + e.getMessage());
            System.exit(2);
        }
        Collection<RunResult> results = new Runner(new OptionsBuilder().include(include)
                .result(out.resolve("jmh.json").toString()).resultFormat(org.openjdk.jmh.results.format.ResultFormatType.JSON)
                .build()).run();
        Map<String, Double> ms = new LinkedHashMap<>(); // key: benchmark[params] -> milliseconds
        for (RunResult r : results) {
            String key = r.getParams().getBenchmark().replace("pxprune.bench.", "");
            for (String p : r.getParams().getParamsKeys()) key += " " + p + "=" + r.getParams().getParam(p);
            double v = r.getPrimaryResult().getScore();
            String unit = r.getPrimaryResult().getScoreUnit();
            ms.put(key, unit.startsWith("s/") ? v * 1000 : unit.startsWith("us/") ? v / 1000 : v);
        }
        List<String[]> rows = new ArrayList<>();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("milliseconds", ms);
        Map<String, Object> ratios = new LinkedHashMap<>();

        double peak = 0;
        for (var e : ms.entrySet()) if (e.getKey().startsWith("KernelBench.gemm ") && e.getKey().contains("F32"))
            peak = Math.max(peak, gflops(e.getKey(), e.getValue()));
        for (var e : ms.entrySet()) {
            String k = e.getKey();
            double v = e.getValue();
            if (k.startsWith("KernelBench.gemm ")) {
                double gf = gflops(k, v);
                rows.add(new String[] {k, fmt(v) + " ms", String.format("%.1f GFLOP/s, %.0f%% of the best sgemm here", gf, 100 * gf / peak)});
            } else if (k.startsWith("KernelBench.conv")) {
                rows.add(new String[] {k, fmt(v) + " ms", String.format("%.1f GFLOP/s", convGflops(k, v))});
            } else rows.add(new String[] {k, fmt(v) + " ms", ""});
        }
        ratio(ratios, rows, "ResNet-20 forward, batch 100 / PyTorch (100 ms)", ms.get("ModelBench.forward batch=100 model=resnet20"), PT_R20_FWD_B100_MS);
        ratio(ratios, rows, "ResNet-20 forward+backward, batch 100 / PyTorch (250 ms); target <= 1.5", ms.get("ModelBench.forwardBackward batch=100 model=resnet20"), PT_R20_FWDBWD_B100_MS);
        ratio(ratios, rows, "ResNet-20 forward+backward, batch 1 / PyTorch (16 ms); target <= 1.5", ms.get("ModelBench.forwardBackward batch=1 model=resnet20"), PT_R20_FWDBWD_B1_MS);
        Double px = ms.get("PxBench.px100Rounds"), floor = ms.get("PxBench.floorRound");
        ratio(ratios, rows, "PX 100 rounds / its cost floor (100 x floorRound); target <= 1.25", px, floor == null ? null : floor * PxBench.ROUNDS);
        ratio(ratios, rows, "PX 100 rounds / the authors' code (42 s); target <= 0.5", px, AUTHORS_PX_100_ROUNDS_S * 1000);
        ratio(ratios, rows, "SynFlow 100 rounds / Synaptic-Flow (1.5 s)", ms.get("PxBench.synflow100Rounds"), SYNFLOW_REF_100_ROUNDS_S * 1000);
        ratio(ratios, rows, "masked / dense training epoch (digits); target <= 1.05", ms.get("TrainBench.epoch variant=masked"), ms.get("TrainBench.epoch variant=dense"));
        json.put("ratios", ratios);
        Map<String, Object> machine = new LinkedHashMap<>(); // ordered: Map.of's order changes from JVM to JVM
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("java", System.getProperty("java.version"));
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        json.put("machine", machine);

        StringBuilder md = new StringBuilder("| benchmark | time | figure |\n|---|---:|---|\n");
        for (String[] r : rows) md.append("| ").append(String.join(" | ", r)).append(" |\n");
        System.out.println();
        System.out.print(md);
        Files.writeString(out.resolve("bench.md"), md);
        Files.writeString(out.resolve("bench.json"), Json.pretty(json));
        System.out.println("\nwritten: " + out.resolve("bench.md") + ", " + out.resolve("bench.json") + " (raw JMH: " + out.resolve("jmh.json") + ")");
    }

    private static void ratio(Map<String, Object> ratios, List<String[]> rows, String what, Double a, Double b) {
        if (a == null || b == null) return;
        ratios.put(what, a / b);
        rows.add(new String[] {what, "", String.format("%.2f", a / b)});
    }

    private static int param(String key, String name) {
        for (String p : key.split(" ")) if (p.startsWith(name + "=")) return Integer.parseInt(p.substring(name.length() + 1).split("-")[0]);
        throw new IllegalArgumentException(key);
    }

    private static double gflops(String key, double ms) {
        double n = param(key, "n");
        return 2 * n * n * n / (ms * 1e6);
    }

    /** conv layer "in-out-size-stride", batch 100, 3x3: forward 2*N*K*OH*OW*C*9 flops, backward twice that */
    private static double convGflops(String key, double ms) {
        String layer = key.substring(key.indexOf("layer=") + 6).split(" ")[0];
        String[] p = layer.split("-");
        double c = Double.parseDouble(p[0]), k = Double.parseDouble(p[1]), hw = Double.parseDouble(p[2]) / Double.parseDouble(p[3]);
        double fwd = 2 * 100 * k * hw * hw * c * 9;
        return (key.contains("Backward") ? 3 * fwd : fwd) / (ms * 1e6);
    }

    private static String fmt(double v) { return v >= 100 ? String.format("%.0f", v) : String.format("%.2f", v); }
}
