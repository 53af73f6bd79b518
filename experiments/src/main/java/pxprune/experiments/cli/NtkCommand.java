package pxprune.experiments.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.core.io.Json;
import pxprune.datasets.Dataset;
import pxprune.datasets.DatasetRegistry;
import pxprune.kernels.DType;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.nn.StateDicts;
import pxprune.px.Masks;
import pxprune.experiments.ntk.Ntk;
import pxprune.experiments.ntk.NtkResult;
import pxprune.experiments.plot.Chart;
import pxprune.experiments.train.RunConfig;
import pxprune.experiments.train.Runner;

/**
 * {@code pxprune ntk}: the empirical NTK (docs/ntk.md) of a model, dense and under each mask given
 * (files, or the masks of run folders), on a seeded sample of the training set; writes
 * {@code ntk.csv}, {@code ntk.json} and {@code ntk.png} into the output folder.
 */
final class NtkCommand {
    private NtkCommand() {}

    static final String USAGE = """
              ntk --model M --dataset D [--weights W.safetensors] [--masks MASKS.safetensors ...] [--run RUN ...]
                  [--samples N] [--top K] [--seed S] [--data-root R] [--out DIR] [--precision float64|float32] [--all-parameters]
                  [--batch B.safetensors] [--device cpu|cuda|cuda:N]
                  the empirical NTK of the model (eval mode) on N training examples (default 20) drawn with the seed S
                  (default 1), which also initialises the model unless --weights or --run give it,
                  dense and at theta*m for each mask: exact trace, top-K eigenvalues (Lanczos, default 10), the
                  condition number (of the full spectrum when N*outputs <= 2000, else lambda_1/lambda_K) and
                  PX's bound on the trace (docs/ntk.md). --run takes a run folder (its model, dataset and seed; the
                  dense weights are its initial ones, re-created from the seed) or a folder of runs (one dense
                  network per seed among them). DIR (default
                  ntk) gets ntk.csv, ntk.json and ntk.png. The parameters are the prunable weights unless
                  --all-parameters (also biases and batch-norm affine). --batch: the inputs x of B (float32
                  [N, C, H, W], as they are) instead of N examples of D, to compare with another framework on the
                  same inputs (the classes come from --weights, else from the run's data set).
            """;

    /** one network to measure; run is the run folder's name (its config hash) for masks taken from a run, else "" */
    record Network(String name, String source, Masks masks, String run) {}

    static void run(String[] args, PrintStream out, PrintStream err) throws IOException {
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("model", "resnet20");
        opts.put("dataset", "digits");
        opts.put("weights", "W.safetensors");
        opts.put("masks", "masks.safetensors");
        opts.put("run", "runs/0123456789ab");
        opts.put("samples", "20");
        opts.put("top", "10");
        opts.put("seed", "1");
        opts.put("data-root", "data");
        opts.put("out", "ntk");
        opts.put("precision", "float64");
        opts.put("batch", "B.safetensors");
        opts.put("device", "cuda");
        Args a = new Args("ntk", args, 1, opts, Set.of("all-parameters"), Set.of("masks", "run"));
        a.maxPositional(0, "pxprune ntk --model M --dataset D [--masks MASKS.safetensors ...] [--run RUN ...] [--out DIR]");
        String spec = Main.deviceOption(a, "cpu");

        List<Path> runs = new ArrayList<>();
        for (String r : a.all("run")) runs.addAll(runFolders(Path.of(r)));
        RunConfig cfg = null;
        Map<Long, List<Path>> runsBySeed = new java.util.TreeMap<>(); // one dense network (the initial weights) per seed
        for (Path r : runs) {
            RunConfig c;
            try {
                c = RunConfig.load(r.resolve(Runner.CONFIG));
            } catch (IOException | RuntimeException e) {
                throw new UsageException("--run " + r + ": " + r.resolve(Runner.CONFIG) + " is not a readable run config ("
                        + Main.oneLine(String.valueOf(e.getMessage())) + ")");
            }
            if (cfg == null) cfg = c;
            else if (!c.model().equals(cfg.model()) || !c.dataset().equals(cfg.dataset()))
                throw new UsageException("--run " + r + " is a run of " + c.model() + " on " + c.dataset() + ", another than "
                        + cfg.model() + " on " + cfg.dataset() + " (the first run); give runs of one model and dataset");
            runsBySeed.computeIfAbsent(c.seed(), k -> new ArrayList<>()).add(r);
        }
        Path batch = a.has("batch") ? a.existingFile("batch") : null;
        if (batch != null) {
            for (String o : new String[] {"dataset", "samples", "data-root"})
                if (a.has(o)) throw new UsageException("--batch gives the examples, --" + o + " draws them from a data set; give one of the two");
            if (cfg == null && !a.has("weights"))
                throw new UsageException("--batch needs --weights or --run: the number of classes is read from the weights' output layer "
                        + "or the run's data set");
        }
        String model = a.string("model", cfg == null ? null : cfg.model());
        String dataset = a.string("dataset", cfg == null ? null : cfg.dataset());
        if (model == null) model = a.required("model");
        if (dataset == null && batch == null) dataset = a.required("dataset");
        if (cfg != null && (!model.equals(cfg.model()) || !dataset.equals(cfg.dataset())))
            throw new UsageException("--model " + model + " --dataset " + dataset + " disagree with the run (" + cfg.model() + " on "
                    + cfg.dataset() + "); leave them out with --run");
        Main.modelName(model);
        if (dataset != null) Main.classificationSet(dataset, "ntk");
        Path weights = a.has("weights") ? a.existingFile("weights") : null;
        List<Path> maskFiles = new ArrayList<>();
        for (String m : a.all("masks")) {
            Path p = Path.of(m);
            if (!Files.isRegularFile(p))
                throw new UsageException("--masks " + p + ": " + (Files.exists(p) ? "is not a regular file" : "no such file")
                        + "; give a masks.safetensors written by prune or run");
            maskFiles.add(p);
        }
        int samples = a.integer("samples", 20, 1, 100_000);
        int top = a.integer("top", 10, 1, 1000);
        long seed = a.longValue("seed", 1);
        Path root = Path.of(a.string("data-root", cfg == null ? "data" : cfg.dataRoot()));
        DType precision = switch (a.string("precision", "float64")) {
            case "float64" -> DType.F64;
            case "float32" -> DType.F32;
            default -> throw new UsageException("--precision " + a.string("precision", "") + " is not a precision; give float64 or float32");
        };
        boolean all = a.flag("all-parameters");
        Path outDir = Path.of(a.string("out", "ntk"));
        pxprune.kernels.Device device = Main.activate(spec, "--device " + spec);
        OutputDir.prepare(outDir, "--out");

        // the inputs: the batch file's x as it is, or a seeded sample of the data set's training examples (normalised)
        float[] xs;
        int[] shape, idx = null;
        int numClasses;
        if (batch != null) {
            LabelledBatch lb = LabelledBatch.read(batch, false);
            xs = lb.x();
            shape = lb.shape();
            samples = shape[0];
            numClasses = weights != null
                    ? Main.numClasses(model, shape[1], Math.min(shape[2], shape[3]), Main.readHeader(weights, "weights"), weights)
                    : DatasetRegistry.load(dataset, root, true, Runner.DATA_SPLIT_SEED).numClasses();
        } else {
            Dataset train = DatasetRegistry.load(dataset, root, true, Runner.DATA_SPLIT_SEED);
            var stats = DatasetRegistry.stats(dataset);
            if (stats.isPresent()) train = pxprune.datasets.Transforms.normalize(train, stats.get());
            if (samples > train.size())
                throw new UsageException("--samples " + samples + " is more than the " + train.size() + " training examples of " + dataset
                        + "; give at most " + train.size());
            idx = sample(train.size(), samples, seed);
            xs = new float[samples * train.imageSize()];
            for (int i = 0; i < samples; i++) System.arraycopy(train.image(idx[i]), 0, xs, i * train.imageSize(), train.imageSize());
            shape = new int[] {samples, train.channels(), train.height(), train.width()};
            numClasses = train.numClasses();
        }
        String source = batch != null ? batch.getFileName().toString() : dataset;
        if (runsBySeed.isEmpty()) runsBySeed.put(seed, List.of());
        if (runsBySeed.size() > 1 && (weights != null || !maskFiles.isEmpty()))
            throw new UsageException("--run: the runs have " + runsBySeed.size() + " seeds, so there is one dense network per seed and "
                    + "--weights/--masks would be ambiguous; give them with runs of one seed");

        List<Map<String, Object>> rows = new ArrayList<>();
        Chart chart = new Chart(model + " on " + samples + " " + source + " examples: NTK eigenvalues", "rank", "eigenvalue").logY();
        Ntk.Options o = Ntk.Options.defaults().withTop(top).withPrecision(precision).withAllParameters(all).withSeed(seed);
        boolean several = runsBySeed.size() > 1;
        for (Map.Entry<Long, List<Path>> group : runsBySeed.entrySet()) {
            long initSeed = group.getKey();
            String suffix = several ? " (seed " + initSeed + ")" : "";
            try (Module m = ModelRegistry.create(model, shape[1], numClasses, Math.min(shape[2], shape[3]), initSeed);
                 MemoryScope s = MemoryScope.open()) {
                if (weights != null) {
                    try {
                        StateDicts.load(m, weights);
                    } catch (IllegalArgumentException e) {
                        throw new UsageException("--weights " + weights + " cannot be loaded into " + model + ": " + Main.oneLine(e.getMessage()));
                    }
                }
                m.to(device);
                List<Network> nets = new ArrayList<>();
                nets.add(new Network("dense" + suffix, weights != null ? weights.toString() : "initial weights, seed " + initSeed, null, ""));
                for (Path p : maskFiles) {
                    Masks mk = load(p, m, "--masks");
                    String base = p.getFileName().toString().replaceAll("\\.safetensors$", "");
                    if (base.equals("masks") && p.toAbsolutePath().getParent() != null) base = p.toAbsolutePath().getParent().getFileName().toString();
                    String method = mk.metadata().get("method");
                    if (method != null && !base.contains(method)) base += " [" + method + "]";
                    nets.add(new Network(base, p.toString(), mk, ""));
                }
                for (Path r : group.getValue()) {
                    Path mf = r.resolve(Runner.MASKS);
                    Masks mk = load(mf, m, "--run");
                    RunConfig c = RunConfig.load(r.resolve(Runner.CONFIG));
                    if (mk.kept() == mk.total()) {
                        err.println("[ntk] " + r + " (" + c.method() + ") keeps every weight: the dense row stands for it");
                        continue;
                    }
                    nets.add(new Network(String.format(Locale.ROOT, "%s@%.4g%s", c.method(), c.density(), suffix), r.toString(), mk,
                            r.toAbsolutePath().normalize().getFileName().toString()));
                }
                java.util.Set<String> seen = new java.util.HashSet<>();
                for (int i = 0; i < nets.size(); i++) {
                    Network n = nets.get(i);
                    String name = n.name();
                    for (int c = 2; !seen.add(name); c++) name = n.name() + " #" + c;
                    nets.set(i, new Network(name, n.source(), n.masks(), n.run()));
                }
                Tensor x = Tensor.of(xs, device, shape);
                double denseTrace = Double.NaN;
                for (Network n : nets) {
                    NtkResult r = Ntk.compute(m, n.masks(), x, o.withProgress(err, n.name()));
                    if (n.masks() == null) denseTrace = r.trace();
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("name", n.name());
                    row.put("source", n.source());
                    row.put("run", n.run());
                    row.put("init_seed", initSeed);
                    row.putAll(r.toMap());
                    row.put("trace_kept", r.trace() / denseTrace);
                    rows.add(row);
                    double[] ev = plotted(r), rank = new double[ev.length];
                    for (int i = 0; i < ev.length; i++) rank[i] = i + 1;
                    chart.series(n.name(), rank, ev);
                    out.printf(Locale.ROOT, "%-24s density %.6f  trace %.6g (%.4f of dense)  lambda_1 %.6g  condition %.6g%s  px bound %.6g%n",
                            n.name(), r.density(), r.trace(), r.trace() / denseTrace, r.top()[0], r.condition(),
                            r.conditionFull() ? "" : " (top-k)", r.pxBound());
                }
            }
        }
        Files.createDirectories(outDir);
        writeCsv(outDir.resolve("ntk.csv"), rows, top, samples);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", model);
        json.put("dataset", dataset);
        if (batch != null) json.put("batch", batch.toString());
        json.put("weights", weights != null ? weights.toString() : "initial, seeds " + runsBySeed.keySet());
        json.put("samples", samples);
        if (idx != null) json.put("sample_indices", idx);
        json.put("seed", seed);
        json.put("precision", precision == DType.F64 ? "float64" : "float32");
        json.put("device", spec);
        json.put("all_parameters", all);
        json.put("mode", "eval (batch norm with running statistics)");
        json.put("networks", rows);
        Files.writeString(outDir.resolve("ntk.json"), Json.pretty(json), StandardCharsets.UTF_8);
        chart.write(outDir.resolve("ntk.png"));
        out.println("written to " + outDir + ": ntk.csv, ntk.json, ntk.png");
    }

    /** the spectrum (full, else the top k) without the values that are zero to rounding (docs/ntk.md#spectrum) */
    static double[] plotted(NtkResult r) {
        double[] v = r.spectrum() != null ? r.spectrum() : r.top();
        double floor = 16.0 * r.samples() * r.outputs() * (r.precision() == DType.F32 ? 0x1p-23 : 0x1p-52) * v[0];
        return java.util.Arrays.stream(v).filter(e -> e > floor).toArray();
    }

    /** a run folder (it has config.json), or every run folder (with config.json and masks) directly inside dir */
    static List<Path> runFolders(Path dir) throws IOException {
        if (!Files.isDirectory(dir))
            throw new UsageException("--run " + dir + ": " + (Files.exists(dir) ? "is not a folder" : "no such folder")
                    + "; give a run folder (runs/<hash>) or a folder of runs");
        if (Files.isRegularFile(dir.resolve(Runner.CONFIG))) {
            if (!Files.isRegularFile(dir.resolve(Runner.MASKS)))
                throw new UsageException("--run " + dir + " has no " + Runner.MASKS + " yet (the run has not pruned); run it first");
            return List.of(dir);
        }
        List<Path> out;
        try (Stream<Path> st = Files.list(dir)) {
            out = st.filter(p -> Files.isRegularFile(p.resolve(Runner.CONFIG)) && Files.isRegularFile(p.resolve(Runner.MASKS))).sorted().toList();
        }
        if (out.isEmpty())
            throw new UsageException("--run " + dir + " is neither a run folder (no " + Runner.CONFIG + ") nor a folder of runs with masks");
        return out;
    }

    private static Masks load(Path p, Module m, String option) {
        try {
            return Masks.load(p, m);
        } catch (IOException | RuntimeException e) {
            throw new UsageException(option + " " + p + ": " + Main.oneLine(String.valueOf(e.getMessage())));
        }
    }

    /** n distinct indices of 0..size-1, a seeded partial Fisher-Yates shuffle */
    static int[] sample(int size, int n, long seed) {
        int[] all = new int[size];
        for (int i = 0; i < size; i++) all[i] = i;
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            int j = i + r.nextInt(size - i);
            int t = all[i]; all[i] = all[j]; all[j] = t;
        }
        return java.util.Arrays.copyOf(all, n);
    }

    private static void writeCsv(Path file, List<Map<String, Object>> rows, int top, int samples) throws IOException {
        StringBuilder b = new StringBuilder("name,run,density,trace,trace_kept");
        for (int i = 1; i <= top; i++) b.append(",eig_").append(i);
        b.append(",condition,condition_kind,px_bound,trace_over_px_bound,px_bound_theorem,lanczos_iterations,samples\n");
        for (Map<String, Object> r : rows) {
            b.append(csv(r.get("name"))).append(',').append(r.get("run")).append(',').append(r.get("density")).append(',').append(r.get("trace")).append(',')
                    .append(r.get("trace_kept"));
            List<?> eig = (List<?>) r.get("top_eigenvalues");
            for (int i = 0; i < top; i++) b.append(',').append(i < eig.size() ? eig.get(i) : "");
            b.append(',').append(r.get("condition")).append(',').append(csv(r.get("condition_kind"))).append(',').append(r.get("px_bound"))
                    .append(',').append(r.get("trace_over_px_bound")).append(',').append(r.get("px_bound_theorem")).append(',')
                    .append(r.get("lanczos_iterations")).append(',').append(samples).append('\n');
        }
        Files.writeString(file, b.toString(), StandardCharsets.UTF_8);
    }

    private static String csv(Object o) {
        String s = String.valueOf(o);
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
