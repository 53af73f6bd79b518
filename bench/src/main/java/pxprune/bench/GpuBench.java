package pxprune.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.core.io.Json;
import pxprune.datasets.Dataset;
import pxprune.kernels.Backend;
import pxprune.kernels.Backends;
import pxprune.kernels.Device;
import pxprune.kernels.DeviceId;
import pxprune.kernels.DeviceUnavailableException;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.px.Masks;
import pxprune.px.Pruner;
import pxprune.px.methods.ScorerRegistry;
import pxprune.px.ScoringData;
import pxprune.experiments.train.ClassificationTask;
import pxprune.experiments.train.RunConfig;
import pxprune.experiments.train.Trainer;

/**
 * The GPU benchmarks, pxprune's side: the models and scorers as they are, moved
 * with {@code Module.to(Device.CUDA)} and {@code Tensor.to(Device)}. {@code bench/pytorch_gpu_bench.py}
 * measures the same workloads in PyTorch under the same keys; {@link GpuReport} puts both side by side.
 * Float32 throughout (PX's A and P in float64, as docs/px-method.md#score says).
 * <ul>
 *   <li>{@code resnet20_fwd_bwd}: CIFAR ResNet-20, train mode, cross-entropy forward + backward, batch 128 (ms per step);</li>
 *   <li>{@code resnet50_fwd_bwd}: ResNet-50 at 224 px, batch 64 (ms per step);</li>
 *   <li>{@code px_gpu}: PX, 100 rounds of the exponential schedule to density 0.01 on ResNet-20 with 100
 *       CIFAR-sized images ({@link Pruner#run}, ms);</li>
 *   <li>{@code px_cpu}: the same on the CPU backend, fewer rounds scaled to 100 when {@code --cpu-px-rounds} says so;</li>
 *   <li>{@code train_epoch}: one epoch of {@link Trainer} over 50,000 synthetic 3x32x32 images, batch 128,
 *       masked SGD (random masks at density 0.1; lr 0.1, momentum 0.9, weight decay 5e-4; no augmentation),
 *       then its evaluation of 500 test images; images/s = 50,000 / the epoch's seconds.</li>
 * </ul>
 * Timing: a warm-up call first, then repetitions (at most {@code REPS}, within the row's share of the
 * time budget); the figure is the median. The model steps start after {@code Backend.synchronize()}
 * and end with a download of the loss and another {@code synchronize()}; PX and the epoch end with
 * their results coming back to the host (masks, metrics), which waits for the device's work queued
 * before it: the points at which the PyTorch script calls {@code torch.cuda.synchronize()}.
 *
 * <p>Each measured row runs in a JVM of its own ({@link #runChild}: a crash in native code or a hang
 * costs that row only). A row that cannot run reports {@code "not available: <why>"} (e.g. an op the
 * CUDA backend lacks, or how its JVM ended) instead of failing the others; {@code OUT/pxprune.json}
 * is rewritten after every row, so a run killed by its time limit keeps the rows that finished.
 *
 * <p>Usage: {@code GpuBench OUT_DIR [--smoke] [--budget-s S] [--cpu-px-rounds K] [--only key,key] [--device cuda:N]}.
 * {@code --device}: the CUDA device (default: {@code cuda}, see {@link DeviceId#parse}), passed on to the rows' JVMs.
 * {@code --smoke}: tiny sizes (the emulator of kernels-cuda's tests; checks the plumbing, measures nothing).
 */
public final class GpuBench {
    static final int REPS = 5;

    /** the sizes of every workload; {@link #SMOKE} are those of {@code --smoke} (the same in pytorch_gpu_bench.py) */
    record Sizes(int r20Batch, int r20Side, int r50Batch, int r50Side, int pxImages, int pxSide, int pxRounds,
                 double pxDensity, int trainImages, int trainSide, int trainBatch, int testImages) {
        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("resnet20_batch", r20Batch); m.put("resnet20_side", r20Side);
            m.put("resnet50_batch", r50Batch); m.put("resnet50_side", r50Side);
            m.put("px_images", pxImages); m.put("px_side", pxSide); m.put("px_rounds", pxRounds); m.put("px_density", pxDensity);
            m.put("train_images", trainImages); m.put("train_side", trainSide); m.put("train_batch", trainBatch);
            m.put("test_images", testImages);
            return m;
        }
    }

    static final Sizes FULL = new Sizes(128, 32, 64, 224, 100, 32, 100, 0.01, 50_000, 32, 128, 500);
    static final Sizes SMOKE = new Sizes(2, 8, 2, 32, 4, 8, 3, 0.5, 32, 8, 16, 8);

    /** one row: the figure (median) or why there is none */
    static final class Row {
        final String key, what, unit;
        String status = "ok", note = "";
        double value = Double.NaN;
        final List<Double> samples = new ArrayList<>();

        Row(String key, String what, String unit) { this.key = key; this.what = what; this.unit = unit; }

        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("key", key);
            m.put("what", what);
            m.put("unit", unit);
            m.put("status", status);
            m.put("value", Double.isFinite(value) ? value : null);
            m.put("samples", samples);
            m.put("note", note);
            return m;
        }
    }

    private final Path out;
    private final Sizes sz;
    private final boolean smoke;
    private final long deadline;
    private final int cpuPxRounds;
    /** a child JVM measuring one row ({@link #runChild}) */
    private boolean child;
    /** the CUDA device of --device, passed on to the children; null: the default ({@link Backends#chosen}) */
    private DeviceId device;
    private final List<Row> rows = new ArrayList<>();
    private final Map<String, Object> meta = new LinkedHashMap<>();

    GpuBench(Path out, boolean smoke, double budgetS, int cpuPxRounds) {
        this.out = out;
        this.smoke = smoke;
        this.sz = smoke ? SMOKE : FULL;
        this.deadline = System.nanoTime() + (long) (budgetS * 1e9);
        this.cpuPxRounds = Math.min(cpuPxRounds, sz.pxRounds());
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args[0].startsWith("-")) {
            System.err.println("usage: GpuBench OUT_DIR [--smoke] [--budget-s S] [--cpu-px-rounds K] [--only key,key] [--device cuda:N]");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        boolean smoke = false;
        double budget = 240;
        int cpuRounds = 10;
        List<String> only = null;
        String childKey = null;
        DeviceId device = null;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--smoke" -> smoke = true;
                case "--child" -> childKey = args[++i];
                case "--budget-s" -> budget = Double.parseDouble(args[++i]);
                case "--cpu-px-rounds" -> cpuRounds = Integer.parseInt(args[++i]);
                case "--only" -> only = List.of(args[++i].split(","));
                case "--device" -> {
                    try {
                        device = DeviceId.parse(args[++i]);
                    } catch (IllegalArgumentException e) {
                        System.err.println("GpuBench: --device " + args[i] + ": " + e.getMessage());
                        System.exit(2);
                    }
                    if (device.kind() != Device.CUDA) {
                        System.err.println("GpuBench: --device " + args[i] + ": the GPU benchmarks run on CUDA; give cuda or cuda:N");
                        System.exit(2);
                    }
                }
                default -> {
                    System.err.println("GpuBench: unknown argument '" + args[i] + "'; valid: --smoke, --budget-s S, --cpu-px-rounds K, --only key,key,"
                            + " --device cuda:N");
                    System.exit(2);
                }
            }
        }
        if (cpuRounds < 1) {
            System.err.println("GpuBench: --cpu-px-rounds must be >= 1, got " + cpuRounds);
            System.exit(2);
        }
        Files.createDirectories(out);
        GpuBench b = new GpuBench(out, smoke, budget, cpuRounds);
        if (device != null) {
            b.device = device;
            try {
                Backends.of(device); // the device of this JVM's CUDA tensors; unusable: the rows say why
            } catch (DeviceUnavailableException e) {
                // reported by run() through Backends.unavailableReason
            }
        }
        if (childKey != null) {
            b.child = true;
            b.runRow(childKey);
            System.exit(0); // the CUDA runtime's threads must not keep the JVM
        }
        b.run(only);
    }

    void run(List<String> only) throws IOException {
        meta.put("smoke", smoke);
        meta.put("sizes", sz.toJson());
        meta.put("java", System.getProperty("java.version"));
        meta.put("cpu", BenchMain.cpuModel());
        meta.put("cores", Runtime.getRuntime().availableProcessors());
        String why = Backends.unavailableReason(Device.CUDA);
        meta.put("cuda", why == null ? describe(Backends.of(Device.CUDA)) : "unavailable: " + why);
        System.out.println("[bench] CUDA backend: " + meta.get("cuda"));
        String tag = smoke ? " (smoke sizes)" : "";
        String[][] defs = {
            {"resnet20_fwd_bwd", "ResNet-20 forward+backward, batch " + sz.r20Batch() + ", " + sz.r20Side() + " px" + tag, "ms"},
            {"resnet50_fwd_bwd", "ResNet-50 forward+backward, batch " + sz.r50Batch() + ", " + sz.r50Side() + " px" + tag, "ms"},
            {"px_gpu", "PX " + sz.pxRounds() + " rounds to density " + sz.pxDensity() + ", ResNet-20, " + sz.pxImages() + " images, GPU" + tag, "ms"},
            {"px_cpu", "PX " + sz.pxRounds() + " rounds, pxprune's CPU backend (" + Runtime.getRuntime().availableProcessors() + " cores)" + tag, "ms"},
            {"train_epoch", "training epoch, " + sz.trainImages() + " synthetic images, batch " + sz.trainBatch() + ", masked SGD" + tag, "images/s"},
        };
        for (String[] d : defs) {
            Row r = new Row(d[0], d[1], d[2]);
            r.status = "not run";
            r.note = "not run: the benchmark part stopped before this row (its time limit, or a crash: see bench.log)";
            rows.add(r);
        }
        write(false);
        for (Row r : rows) {
            r.status = "ok";
            r.note = "";
            if (only != null && !only.contains(r.key)) {
                r.status = "skipped";
                r.note = "not selected (--only)";
                continue;
            }
            boolean needsCuda = !r.key.equals("px_cpu");
            long t0 = System.nanoTime();
            if (smoke && r.key.equals("resnet50_fwd_bwd")) {
                r.status = "skipped";
                r.note = "skipped in the smoke run: one ResNet-50 step takes more than 5 minutes on the CPU emulator";
            } else if (needsCuda && why != null) {
                r.status = "not available";
                r.note = "not available: no CUDA backend: " + why;
            } else if (remainingS() < 5) {
                r.status = "skipped";
                r.note = "skipped: the benchmark part's time budget ran out";
            } else {
                r.status = "running";
                r.note = "killed while running: the benchmark part's time limit (see bench.log)";
                write(false);
                double fraction = switch (r.key) {
                    case "resnet20_fwd_bwd" -> 0.12;
                    case "resnet50_fwd_bwd" -> 0.2;
                    case "px_gpu" -> 0.22;
                    case "px_cpu" -> 0.16;
                    default -> 1.0;
                };
                runChild(r, share(fraction));
            }
            System.out.printf(Locale.ROOT, "[bench] %-17s %s  (%.1f s)%n", r.key,
                    Double.isFinite(r.value) ? String.format(Locale.ROOT, "%.2f %s %s", r.value, r.unit, r.note) : r.note,
                    (System.nanoTime() - t0) / 1e9);
            write(false);
        }
        write(true);
    }

    private double remainingS() { return (deadline - System.nanoTime()) / 1e9; }

    /** the row's share of what is left of the budget, in seconds (a child JVM's whole budget is its row's) */
    private double share(double fraction) { return Math.max(1, remainingS() * (child ? 1 : fraction)); }

    /**
     * Measures row r in a JVM of its own (this one's JVM options and class path), so that a crash in
     * native code (a host read of device memory, a driver fault) or a hang costs that row only. The
     * child writes {@code OUT/row-KEY.json}; without it the row says how the child ended.
     */
    private void runChild(Row r, double seconds) throws IOException {
        Path rowFile = out.resolve("row-" + r.key + ".json");
        Files.deleteIfExists(rowFile);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
            if (!a.startsWith("-XX:ErrorFile")) cmd.add(a);
        cmd.add("-XX:ErrorFile=" + out.toAbsolutePath().resolve("hs_err_" + r.key + "_%p.log"));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), GpuBench.class.getName(), out.toString(),
                "--child", r.key, "--budget-s", String.format(Locale.ROOT, "%.1f", seconds),
                "--cpu-px-rounds", String.valueOf(cpuPxRounds)));
        if (smoke) cmd.add("--smoke");
        if (device != null) cmd.addAll(List.of("--device", device.toString()));
        // its setup (JVM, CUDA, the model) and warm-up come on top of the measured time
        double limit = Math.min(Math.max(5, remainingS() - 2), 1.5 * seconds + 40);
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        boolean done;
        try {
            done = p.waitFor((long) (limit * 1000), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            done = false;
        }
        if (!done) {
            p.destroyForcibly();
            r.status = "not available";
            r.note = String.format(Locale.ROOT, "not available: killed after %.0f s (the row's time limit: a hang, or far slower than expected)", limit);
            return;
        }
        if (!Files.isRegularFile(rowFile)) {
            r.status = "not available";
            r.note = "not available: its JVM ended with exit status " + p.exitValue() + " and no result (a crash: see bench.log and "
                    + out.resolve("hs_err_" + r.key + "_*.log") + ")";
            return;
        }
        Map<String, Object> j = Json.parseObject(Files.readString(rowFile));
        r.status = String.valueOf(j.get("status"));
        r.note = String.valueOf(j.get("note"));
        r.value = j.get("value") instanceof Number n ? n.doubleValue() : Double.NaN;
        if (j.get("samples") instanceof List<?> l) for (Object o : l) if (o instanceof Number n) r.samples.add(n.doubleValue());
    }

    /** in a child JVM: measures one row and writes OUT/row-KEY.json */
    void runRow(String key) throws IOException {
        Row r = new Row(key, key, key.equals("train_epoch") ? "images/s" : "ms");
        try {
            switch (key) {
                case "resnet20_fwd_bwd" -> stepRow(r, "resnet20", 10, sz.r20Batch(), sz.r20Side(), 8, 1);
                case "resnet50_fwd_bwd" -> stepRow(r, "resnet50", 1000, sz.r50Batch(), sz.r50Side(), 3, 1);
                case "px_gpu" -> pxRow(r, Device.CUDA, sz.pxRounds(), 1);
                case "px_cpu" -> pxRow(r, Device.CPU, cpuPxRounds, 1);
                case "train_epoch" -> trainRow(r, 1);
                default -> throw new IllegalArgumentException("GpuBench: unknown row '" + key
                        + "'; valid: resnet20_fwd_bwd, resnet50_fwd_bwd, px_gpu, px_cpu, train_epoch");
            }
        } catch (Throwable e) {
            // where it failed, for bench.log: the top of the stack
            System.err.println("[bench] " + key + ": " + e);
            StackTraceElement[] st = e.getStackTrace();
            for (int i = 0; i < Math.min(12, st.length); i++) System.err.println("\tat " + st[i]);
            r.status = "not available";
            r.note = "not available: " + oneLine(e) + (e instanceof Exception ? "" : " (" + e.getClass().getSimpleName() + ")");
            r.value = Double.NaN;
        }
        Path tmp = out.resolve("row-" + key + ".json.tmp");
        Files.writeString(tmp, Json.pretty(r.toJson()));
        Files.move(tmp, out.resolve("row-" + key + ".json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    static String describe(Backend b) {
        try {
            return String.valueOf(b.getClass().getMethod("describe").invoke(b));
        } catch (ReflectiveOperationException e) {
            return b.getClass().getSimpleName();
        }
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int i = m.indexOf('\n');
        return i < 0 ? m : m.substring(0, i);
    }

    /** warm-up, then up to maxReps timed repetitions within seconds; the median */
    private void repeat(Row r, int maxReps, double seconds, java.util.function.DoubleSupplier oneRep) {
        if (smoke) maxReps = 1; // the emulator: the plumbing, not a measurement
        else oneRep.getAsDouble(); // warm-up (JIT, allocator, algorithm choice)
        long t0 = System.nanoTime();
        while (r.samples.size() < maxReps) {
            r.samples.add(oneRep.getAsDouble());
            if ((System.nanoTime() - t0) / 1e9 > seconds && !r.samples.isEmpty()) break;
        }
        double[] s = r.samples.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        r.value = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        if (s.length < maxReps) r.note = "median of " + s.length + " (time budget)";
        else r.note = "median of " + s.length;
    }

    /** ms per training step (forward, cross-entropy, backward, zeroGrad), `iters` steps per repetition */
    private void stepRow(Row r, String model, int classes, int batch, int side, int iters, double fraction) {
        double seconds = share(fraction);
        try (Module net = ModelRegistry.create(model, 3, classes, side, 1).to(Device.CUDA)) {
            net.train(true);
            try (Tensor xh = Fixtures.images(batch, 3, side, 1); Tensor yh = Tensor.ofInts(Fixtures.labels(batch, classes), batch);
                 Tensor x = xh.to(Device.CUDA); Tensor y = yh.to(Device.CUDA)) {
                int n = 1;
                if (!smoke) { // one step first (algorithm choice, allocator): as many steps per repetition as fit 0.5 s, at most iters
                    long w0 = System.nanoTime();
                    try (MemoryScope s = MemoryScope.open()) {
                        Tensor loss = Ops.crossEntropy(net.forward(x), y);
                        loss.backwardAndFree();
                        net.zeroGrad();
                        loss.item();
                    }
                    n = (int) Math.max(1, Math.min(iters, 0.5e9 / (System.nanoTime() - w0)));
                }
                int steps = n;
                Backend cuda = Backends.of(Device.CUDA);
                repeat(r, REPS, seconds, () -> {
                    cuda.synchronize(); // nothing queued before the clock starts
                    long t0 = System.nanoTime();
                    double l = 0;
                    for (int i = 0; i < steps; i++) {
                        try (MemoryScope s = MemoryScope.open()) {
                            Tensor loss = Ops.crossEntropy(net.forward(x), y);
                            loss.backwardAndFree();
                            net.zeroGrad();
                            if (i == steps - 1) l = loss.item(); // waits for the device
                        }
                    }
                    cuda.synchronize(); // and for anything else queued
                    if (!Double.isFinite(l)) throw new IllegalStateException(model + ": the loss is " + l);
                    return (System.nanoTime() - t0) / 1e6 / steps;
                });
                r.note += ", " + n + " steps per repetition";
            }
        }
    }

    /** Pruner.run of px on a fresh ResNet-20 on the device, `rounds` rounds (scaled to sz.pxRounds) */
    private void pxRow(Row r, Device device, int roundsWanted, double fraction) {
        int rounds = roundsWanted;
        double seconds = share(fraction);
        Tensor xh = Fixtures.images(sz.pxImages(), 3, sz.pxSide(), 1);
        int[] labels = Fixtures.labels(sz.pxImages(), 10);
        String[] dataOn = {"host"};
        try {
            // the scorer's data: on the host (as the CLI loads it); where the device scorer wants it
            // on the model's device, on the device
            java.util.function.IntToDoubleFunction once = k -> {
                Module net = ModelRegistry.create("resnet20", 3, 10, sz.pxSide(), 1).to(device).eval();
                Tensor xd = dataOn[0].equals("host") ? null : xh.to(device);
                try {
                    ScoringData data = new ScoringData(xd == null ? xh : xd, labels, 10, 1);
                    long t0 = System.nanoTime();
                    // the exponential schedule's first k rounds of sz.pxRounds (Pruner's own when k == pxRounds)
                    // the first k rounds of the sz.pxRounds-round exponential schedule: d^((r+1)/T) = (d^(k/T))^((r+1)/k)
                    Masks m = Pruner.run(net, ScorerRegistry.create("px"), data,
                            new Pruner.Config(Math.pow(sz.pxDensity(), (double) k / sz.pxRounds()), k), null, null).masks();
                    double ms = (System.nanoTime() - t0) / 1e6;
                    if (m.kept() == 0) throw new IllegalStateException("PX kept no weight");
                    return ms;
                } finally {
                    if (xd != null) xd.close();
                    net.close();
                }
            };
            // warm-up on 2 rounds; a device scorer that refuses host data gets the data on the device
            int warmRounds = smoke ? 1 : Math.min(2, rounds);
            double warmMs;
            try {
                warmMs = once.applyAsDouble(warmRounds);
            } catch (RuntimeException first) {
                if (device == Device.CPU) throw first;
                dataOn[0] = "device";
                try {
                    warmMs = once.applyAsDouble(warmRounds);
                } catch (RuntimeException second) {
                    throw new IllegalStateException(oneLine(first) + " (data on the host); " + oneLine(second) + " (data on the device)", second);
                }
            }
            // fewer rounds (scaled) where the warm-up says that all of them would not fit the row's time
            int fit = (int) Math.floor(0.8 * seconds * 1000 / (warmMs / warmRounds));
            if (fit < rounds) rounds = Math.max(warmRounds, fit);
            int maxReps = device == Device.CPU || smoke ? 1 : 3;
            long t0 = System.nanoTime();
            while (r.samples.size() < maxReps) {
                r.samples.add(once.applyAsDouble(rounds) * sz.pxRounds() / rounds);
                if ((System.nanoTime() - t0) / 1e9 > seconds) break;
            }
            double[] s = r.samples.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            r.value = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
            r.note = "median of " + s.length + (device == Device.CUDA ? ", data on the " + dataOn[0] : "")
                    + (rounds < sz.pxRounds() ? ", measured on the first " + rounds + " rounds of the schedule and scaled by "
                    + sz.pxRounds() + "/" + rounds + (rounds < roundsWanted ? " (the time budget)" : "") : "");
        } finally {
            xh.close();
        }
    }

    /** synthetic CIFAR-shaped data: uniform [0, 1) pixels, labels i mod 10 */
    static Dataset synthetic(int n, int side, long seed, String name) {
        float[] v = new float[n * 3 * side * side];
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextDouble();
        return new Dataset(v, Fixtures.labels(n, 10), 3, side, side, 10, name);
    }

    /** images/s of one Trainer epoch (its seconds include evaluating the test images) */
    private void trainRow(Row r, double fraction) throws IOException {
        double seconds = share(fraction) - 5;
        Dataset train = synthetic(sz.trainImages(), sz.trainSide(), 1, "synthetic-train");
        Dataset test = synthetic(sz.testImages(), sz.trainSide(), 2, "synthetic-test");
        Dataset warm = train.subset(IntStream.range(0, Math.min(train.size(), 10 * sz.trainBatch())).toArray());
        RunConfig cfg = new RunConfig("cifar10", "resnet20", RunConfig.DENSE, 1.0, 1, 10, 1, 1, sz.trainBatch(), 0.1, 0.9, false, 5e-4,
                List.of(), 0.1, "data", false); // data_root unused: the data are given
        String deviceKey = "";
        try {
            cfg = cfg.with("device", "cuda"); // a config key once training on the GPU has it
            deviceKey = ", config device=cuda";
        } catch (RuntimeException e) {
            deviceKey = ", no config key 'device' (" + oneLine(e) + ")";
        }
        try (Module net = ModelRegistry.create("resnet20", 3, 10, sz.trainSide(), 1)) {
            // random masks at density 0.1 (the masked SGD step), drawn on the host
            Dataset few = train.subset(IntStream.range(0, 10).toArray());
            Masks masks;
            try (Tensor fx = Tensor.of(few.images(), few.size(), 3, sz.trainSide(), sz.trainSide())) {
                masks = Pruner.run(net, ScorerRegistry.create("random"), new ScoringData(fx, few.labels(), 10, 1),
                        new Pruner.Config(0.1, 1), null, null).masks();
            }
            net.to(Device.CUDA);
            String subset = "";
            if (!smoke) {
                double w = epoch(cfg, warm, test, net, masks); // warm-up
                // an epoch over fewer images where the warm-up says that all 50,000 would not fit the time left
                double est = w * train.size() / warm.size();
                if (est > 0.8 * seconds) {
                    int n = (int) Math.max(warm.size(), Math.floor(0.6 * seconds / w * warm.size() / sz.trainBatch()) * sz.trainBatch());
                    if (n < train.size()) {
                        train = train.subset(IntStream.range(0, n).toArray());
                        subset = ", an epoch of the first " + n + " images (the time budget: all " + sz.trainImages()
                                + " would take about " + Math.round(est) + " s)";
                    }
                }
            }
            long t0 = System.nanoTime();
            while (r.samples.size() < (smoke ? 1 : 3)) {
                r.samples.add(train.size() / epoch(cfg, train, test, net, masks));
                if ((System.nanoTime() - t0) / 1e9 * (r.samples.size() + 1) / r.samples.size() > seconds) break;
            }
            double[] s = r.samples.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            r.value = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
            r.note = "median of " + s.length + " epochs, the epoch's seconds include evaluating " + test.size() + " test images" + subset + deviceKey;
        }
    }

    /** seconds of one Trainer epoch in a fresh run folder (so that it does not resume) */
    private static double epoch(RunConfig cfg, Dataset train, Dataset test, Module net, Masks masks) throws IOException {
        Path dir = Files.createTempDirectory("pxprune-gpubench");
        try {
            Trainer.Result res = new Trainer(new ClassificationTask(cfg, train, test), dir, null, "bench").train(net, masks);
            double s = res.last().seconds();
            if (!(s > 0)) throw new IllegalStateException("the epoch reported " + s + " seconds");
            return s;
        } finally {
            try (var w = Files.walk(dir)) {
                w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private void write(boolean finished) throws IOException {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("side", "pxprune");
        j.put("finished", finished);
        j.put("meta", meta);
        List<Object> rs = new ArrayList<>();
        for (Row r : rows) rs.add(r.toJson());
        j.put("rows", rs);
        Path tmp = out.resolve("pxprune.json.tmp");
        Files.writeString(tmp, Json.pretty(j));
        Files.move(tmp, out.resolve("pxprune.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
