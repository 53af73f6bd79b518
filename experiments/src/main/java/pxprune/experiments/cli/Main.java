package pxprune.experiments.cli;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.core.io.SafeTensors;
import pxprune.datasets.Batch;
import pxprune.datasets.Dataset;
import pxprune.datasets.DatasetException;
import pxprune.datasets.DatasetRegistry;
import pxprune.datasets.PruningSplit;
import pxprune.kernels.DeviceId;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.nn.StateDicts;
import pxprune.px.Masks;
import pxprune.px.PrunableLayer;
import pxprune.px.Pruner;
import pxprune.px.Schedule;
import pxprune.px.methods.ScorerRegistry;
import pxprune.px.ScoringData;
import pxprune.px.Trace;
import pxprune.experiments.train.ConfigException;
import pxprune.experiments.train.Devices;
import pxprune.experiments.train.MainJob;
import pxprune.experiments.train.PruningFiles;
import pxprune.experiments.train.Recipes;
import pxprune.experiments.train.RunConfig;
import pxprune.experiments.train.Runner;

/**
 * The command line ({@link #COMMANDS}; each larger one in a class of its own: SweepCommand, ExplainCommand, NtkCommand, ReportCommand).
 * Results go to stdout, progress to stderr. A bad argument (unknown option or name, bad number,
 * density outside (0, 1], missing file, invalid config) prints one line saying what and how to fix
 * it and exits with code 2; any other failure prints one line and exits with 1 (set
 * {@code PXPRUNE_DEBUG=1} for the stack trace); success exits with 0.
 */
public final class Main {
    static final String USAGE = """
            usage: pxprune <command> [options]

              run [CONFIG] [--set key=value ...] [--runs DIR] [--device cpu|cuda|cuda:N]
                  prune, train and evaluate into DIR/<config hash>/ (DIR defaults to runs); a run started
                  again resumes, a finished one is reported. CONFIG is a JSON file (keys below, plus
                  "recipe" for the values it leaves out) or a recipe name. Without CONFIG: the main job,
                  ResNet-20 on the embedded 8x8 digits, dense vs px, synflow and random at density 0.01,
                  as a table (also in DIR/results.md and DIR/results.csv); --set then changes the
                  digits recipe. CONFIG seg_demo: the segmentation job, a small DeepLab on embedded
                  shapes, dense vs px, synflow and random, with mIoU and pixel accuracy (DIR/results_seg_demo.md
                  and .csv; each run folder has predictions.png); one seg run: a file {"recipe": "seg_demo",
                  "method": "px"}. See docs/segmentation.md. --device: where to prune and train (the config
                  key device; default cpu; a CUDA run has its own folder).
                  recipes: %s
%s              prune --model M --dataset D --method S --density d --rounds T --out DIR
                    [--per-layer] [--schedule exponential|linear] [--seed S] [--data-root R] [--examples-per-class K]
                    [--weights W.safetensors] [--batch B.safetensors] [--trace] [--precision float32|float64] [--device cpu|cuda|cuda:N]
                  iterative pruning at initialization: DIR gets masks.safetensors, rounds.csv, rounds.png, layers.csv,
                  summary.json and split.csv; --trace logs every scoring pass (shapes, dtype, device, time) to stderr.
                  Round r of T keeps n = N - floor((1 - d_r) N) of the N weights, d_r = d^((r+1)/T) (exponential, the
                  default) or 1 - (1 - d)(r+1)/T (linear); N is all prunable weights, or each layer's with --per-layer.
                  The examples: K (default 10) of each class of D's training set, drawn with --seed (default 1),
                  which also initialises the model and seeds random's scores.
                  --weights: prune the model with these weights (PyTorch names) instead of the seeded initialisation;
                  --batch (with --weights, instead of --dataset): prune on the examples x, y of B as they are, no split.csv
              score --model M --weights W.safetensors --batch B.safetensors --method S --out O.safetensors [--seed S]
                    [--trace] [--precision float32|float64] [--device cpu|cuda|cuda:N]
                  one score tensor per prunable weight of the model with the weights W (PyTorch names),
                  on the batch B (x: float32 NCHW, y: int64); --seed (default 1) seeds random's scores.
                  --precision (prune and score): the arithmetic of
                  snip and grasp (default float32, the model's), of px's activation network and of synflow's and
                  synflow_l2's linearised network (default float32 rescaled by powers of two, equal to float64 up to
                  float32's rounding; float64 as the authors' and Synaptic-Flow's code)
              report RUNS... [--out DIR] [--ntk FILE.csv ...]
                  DIR/report.md (DIR defaults to report) and PNGs over every finished run folder below RUNS:
                  accuracy against density per method (mean and std over seeds), per-layer density heat maps,
                  layer collapse, mask overlap (Jaccard) between methods, NTK trace kept (from ntk.csv files
                  in run folders or the ntk command's tables given with --ntk, columns run and trace_kept)
              explain [--svg FILE] | explain --model M --dataset D [--examples-per-class K] [--seed S] [--data-root R]
                  [--device cpu|cuda|cuda:N]
                  PX pass by pass in the notation of docs/walkthrough.md: without --model every number of the
                  tiny 3-4-4-2 network, checked against path enumeration (--svg also draws it); with --model
                  per-layer summaries and the conservation check
%s%s%s              list [--data-root DIR]
                  models, datasets, methods, recipes and devices (the CPU; each CUDA device, or why CUDA is
                  not usable); for the MNIST family whether it is under DIR (default data; Fashion-MNIST also
                  in Debian's folder of package dataset-fashion-mnist) and how to get it
              help
                  this text

            density is the fraction of prunable weights kept, in (0, 1].
            --device: cpu (default), cuda (device pxprune.cuda.device / PXPRUNE_CUDA_DEVICE, else 0) or cuda:N;
            a device that cannot be used is refused (exit 2) with the reason, before anything is written.
            """;

    /** the subcommands, as the error messages list them */
    static final String COMMANDS = "run, prune, score, predict, sweep, explain, ntk, report, list, help";

    private Main() {}

    public static void main(String[] args) {
        int rc = run(args, System.out, System.err);
        System.out.flush();
        System.exit(rc);
    }

    /** runs one command; returns the exit code */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            if (args.length == 0)
                throw new UsageException("no command given; commands: " + COMMANDS + " (try: pxprune help)");
            String cmd = args[0];
            if (asksForHelp(args)) {
                out.print(commandUsage(cmd));
                out.flush();
                return 0;
            }
            switch (cmd) {
                case "run" -> runCmd(args, out, err);
                case "prune" -> pruneCmd(args, out, err);
                case "score" -> scoreCmd(args, out, err);
                case "predict" -> PredictCommand.run(args, out, err);
                case "explain" -> ExplainCommand.run(args, out, err);
                case "ntk" -> NtkCommand.run(args, out, err);
                case "sweep" -> SweepCommand.run(args, out, err);
                case "list" -> listCmd(args, out);
                case "report" -> ReportCommand.run(args, out, err);
                case "help", "--help", "-h" -> out.print(usage());
                default -> throw new UsageException("unknown command '" + cmd + "'; commands: " + COMMANDS + " (try: pxprune help)");
            }
            out.flush();
            return 0;
        } catch (UsageException | ConfigException | DatasetException e) {
            return fail(err, e, 2);
        } catch (FileNotFoundException | NoSuchFileException e) {
            return fail(err, e, 2);
        } catch (IllegalArgumentException e) {
            return fail(err, e, 2);
        } catch (Exception | OutOfMemoryError | StackOverflowError e) {
            return fail(err, e, 1);
        }
    }

    private static int fail(PrintStream err, Throwable e, int code) {
        String msg = e.getMessage();
        if (msg == null || msg.isBlank()) msg = e.getClass().getSimpleName();
        else if (e instanceof NoSuchFileException) msg = "no such file: " + msg;
        else if (code == 1 && !(e instanceof IllegalStateException || e instanceof IOException || e instanceof UncheckedIOException))
            msg = e.getClass().getSimpleName() + ": " + msg;
        err.println("pxprune: " + oneLine(msg));
        if (System.getenv("PXPRUNE_DEBUG") != null) e.printStackTrace(err);
        err.flush();
        return code;
    }

    /** s on one line (line breaks folded), at most 2000 characters */
    public static String oneLine(String s) {
        String l = s.strip().replaceAll("\\s*\\R\\s*", " ");
        return l.length() > 2000 ? l.substring(0, 2000) + " ..." : l;
    }

    static String usage() {
        String u = String.format(USAGE, String.join(", ", Recipes.names()), RunConfig.keysHelp().indent(18), PredictCommand.USAGE.indent(14),
                NtkCommand.USAGE.indent(12), SweepCommand.USAGE.indent(12));
        int indent = u.lines().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
        return u.lines().map(l -> l.isBlank() ? "" : l.substring(indent)).collect(java.util.stream.Collectors.joining("\n", "", "\n"));
    }

    /** true when a known command is followed by --help or -h (anywhere among its arguments) */
    static boolean asksForHelp(String[] args) {
        if (!List.of(COMMANDS.split(", ")).contains(args[0])) return false;
        for (int i = 1; i < args.length; i++)
            if (args[i].equals("--help") || args[i].equals("-h")) return true;
        return false;
    }

    /**
     * the usage of one command: its block of {@link #usage()} (the line that names it and the lines indented below it),
     * then the notes on density and --device; for help, the whole text
     */
    static String commandUsage(String cmd) {
        String all = usage();
        if (cmd.equals("help")) return all;
        List<String> lines = all.lines().toList();
        int indent = -1, from = -1;
        for (int i = 0; i < lines.size() && from < 0; i++) {
            String l = lines.get(i), t = l.strip();
            if (t.startsWith("run ") && indent < 0) indent = l.indexOf('r');
            if (indent >= 0 && l.length() > indent && l.indexOf(t) == indent && (t.equals(cmd) || t.startsWith(cmd + " "))) from = i;
        }
        if (from < 0) throw new IllegalStateException("no usage block for command " + cmd);
        StringBuilder b = new StringBuilder("usage: pxprune ").append(lines.get(from).strip()).append('\n');
        for (int i = from + 1; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.isBlank() || l.length() - l.stripLeading().length() <= indent) break;
            b.append(l.substring(indent)).append('\n');
        }
        String block = b.toString();
        int notes = all.indexOf("density is the fraction");
        if (notes >= 0 && (block.contains("--device") || block.contains("--density"))) block += "\n" + all.substring(notes);
        return block;
    }

    // ------------------------------------------------------------------ list
    private static void listCmd(String[] args, PrintStream out) {
        Args a = new Args("list", args, 1, Map.of("data-root", "data"), Set.of(), Set.of());
        a.maxPositional(0, "pxprune list [--data-root DIR]");
        Path dataRoot = Path.of(a.string("data-root", "data"));
        out.println("models:   " + String.join(", ", ModelRegistry.names()));
        out.println("datasets: " + String.join(", ", DatasetRegistry.names()));
        out.println("data (data_root " + dataRoot + "):");
        for (String name : DatasetRegistry.names()) {
            DatasetRegistry.availability(name, dataRoot).ifPresent(av -> out.printf(Locale.ROOT, "  %-14s %s%n", name,
                    av.present() ? "present: " + av.detail() : "missing; " + av.detail()));
        }
        out.println("methods:  " + String.join(", ", ScorerRegistry.names()) + " (and dense for run: no pruning)");
        out.println("recipes:  " + String.join(", ", Recipes.names()));
        out.println("devices:");
        for (String line : DeviceList.lines()) out.println("  " + line);
    }

    /**
     * --device (absent: dflt) as written, checked to be a device string ({@link DeviceId#checked}); a bad
     * value is a usage error naming the option, the value and the forms
     */
    static String deviceOption(Args a, String dflt) {
        String v = a.string("device", dflt);
        try {
            return DeviceId.checked(v);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--device " + v + ": " + e.getMessage());
        }
    }

    /**
     * makes device (as written) the device of this process ({@link Devices#activate}) and returns its kind; one
     * that cannot be used is a usage error (exit 2) with the reason, named by source
     */
    static pxprune.kernels.Device activate(String device, String source) {
        try {
            return Devices.activate(device).kind();
        } catch (IllegalArgumentException e) {
            throw new UsageException(source + ": " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ run
    private static void runCmd(String[] args, PrintStream out, PrintStream err) throws IOException {
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("set", "epochs=2");
        opts.put("runs", "runs");
        opts.put("device", "cuda");
        Args a = new Args("run", args, 1, opts, Set.of(), Set.of("set"));
        a.maxPositional(1, "pxprune run [CONFIG] [--set key=value ...] [--runs DIR] [--device cpu|cuda|cuda:N]");
        List<String> sets = new java.util.ArrayList<>(a.all("set"));
        if (a.has("device")) {
            String d = deviceOption(a, "cpu");
            for (String s : sets)
                if (s.contains("=") && s.substring(0, s.indexOf('=')).strip().equals("device"))
                    throw new UsageException("--device " + d + " and --set " + s + " both choose the device; give one");
            sets.add("device=" + d);
        }
        Path runs = Path.of(a.string("runs", "runs"));
        String arg = a.positional().isEmpty() ? null : a.positional().get(0);
        var job = arg == null ? java.util.Optional.of(MainJob.DIGITS)
                : Files.isRegularFile(Path.of(arg)) ? java.util.Optional.<MainJob.Job>empty() : MainJob.named(arg);
        if (job.isPresent()) {
            RunConfig base = job.get().base();
            for (String s : a.all("set")) {
                String key = s.contains("=") ? s.substring(0, s.indexOf('=')).strip() : s;
                if (MainJob.ROW_KEYS.contains(key))
                    throw new UsageException("--set " + s + ": the " + (arg == null ? "main" : arg)
                            + " job sets method, density and rounds for each row; to choose them run one config, e.g. "
                            + (arg == null ? "pxprune run digits --set " + s
                            : "a file holding {\"recipe\": \"" + arg + "\", \"method\": \"px\"} with pxprune run FILE --set " + s));
            }
            base = base.withSets(sets);
            activate(base.device(), a.has("device") ? "--device " + base.device() : "config key 'device'");
            OutputDir.prepare(runs, "--runs");
            MainJob.run(job.get(), base, runs, out, err);
            return;
        }
        RunConfig cfg = loadConfig(a.positional().get(0));
        cfg = cfg.withSets(sets);
        activate(cfg.device(), a.has("device") ? "--device " + cfg.device() : "config key 'device'");
        OutputDir.prepare(runs, "--runs");
        Runner.Outcome o = Runner.run(cfg, runs, err);
        if (cfg.segmentation())
            out.printf(Locale.ROOT, "%s %s %s on %s: density %.6f, test mIoU %.2f%%, pixel accuracy %.2f%%, pruning %.1fs, training %.1fs%n",
                    o.alreadyDone() ? "done (earlier):" : "done:", cfg.method(), cfg.model(), cfg.dataset(), o.density(),
                    100 * o.testMiou(), 100 * o.testAcc(), o.pruningSeconds(), o.trainingSeconds());
        else
            out.printf(Locale.ROOT, "%s %s %s on %s: density %.6f, test accuracy %.2f%%, pruning %.1fs, training %.1fs%s%n",
                    o.alreadyDone() ? "done (earlier):" : "done:", cfg.method(), cfg.model(), cfg.dataset(), o.density(),
                    100 * o.testAcc(), o.pruningSeconds(), o.trainingSeconds(), "");
        out.println("run folder: " + o.dir());
    }

    /** a config from a JSON file or a recipe name */
    static RunConfig loadConfig(String arg) throws IOException {
        Path p = Path.of(arg);
        if (Files.isRegularFile(p)) return RunConfig.load(p);
        if (Recipes.contains(arg)) return Recipes.get(arg);
        if (Files.exists(p)) throw new UsageException("config " + p + " is not a regular file; give a JSON file or a recipe name");
        throw new UsageException("config '" + arg + "' is neither an existing file nor a recipe; give a JSON file or one of: "
                + String.join(", ", Recipes.names()));
    }

    // ------------------------------------------------------------------ prune
    private static void pruneCmd(String[] args, PrintStream out, PrintStream err) throws IOException {
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("model", "resnet20");
        opts.put("dataset", "digits");
        opts.put("weights", "W.safetensors");
        opts.put("batch", "B.safetensors");
        opts.put("method", "px");
        opts.put("density", "0.018");
        opts.put("rounds", "100");
        opts.put("out", "pruned/");
        opts.put("schedule", "exponential");
        opts.put("seed", "1");
        opts.put("data-root", "data");
        opts.put("examples-per-class", "10");
        opts.put("precision", "float64");
        opts.put("device", "cuda");
        Args a = new Args("prune", args, 1, opts, Set.of("per-layer", "trace"), Set.of());
        a.maxPositional(0, "pxprune prune --model M (--dataset D | --batch B.safetensors) [--weights W.safetensors] --method S --density d "
                + "--rounds T --out DIR");
        String spec = deviceOption(a, "cpu");
        String model = modelName(a.required("model"));
        Path wPath = a.has("weights") ? a.existingFile("weights") : null;
        Path bPath = a.has("batch") ? a.existingFile("batch") : null;
        if (bPath != null)
            for (String o : new String[] {"dataset", "data-root", "examples-per-class"})
                if (a.has(o))
                    throw new UsageException("--batch gives the examples to prune on, --" + o + " picks them from a data set; give one of the two");
        String dataset = bPath != null ? null : a.required("dataset");
        if (dataset != null) classificationSet(dataset, "prune");
        if (bPath != null && wPath == null)
            throw new UsageException("--batch needs --weights: the number of classes is read from the output layer of W.safetensors");
        String method = methodName(a.required("method"));
        double density = a.density("density");
        int rounds = a.integer("rounds", 100, 1, Pruner.Config.MAX_ROUNDS);
        Path outDir = Path.of(a.required("out"));
        boolean perLayer = a.flag("per-layer");
        Schedule schedule;
        try {
            schedule = Schedule.parse(a.string("schedule", "exponential"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--schedule " + a.string("schedule", "") + " is not a schedule; give exponential or linear");
        }
        long seed = a.longValue("seed", 1);
        Path root = Path.of(a.string("data-root", "data"));
        int perClass = a.integer("examples-per-class", PruningSplit.DEFAULT_PER_CLASS, 1, RunConfig.MAX_EXAMPLES_PER_CLASS);
        pxprune.kernels.DType precision = precision(a);
        SafeTensors.Header wHeader = wPath == null ? null : readHeader(wPath, "weights");
        LabelledBatch lb = bPath == null ? null : LabelledBatch.read(bPath);
        pxprune.kernels.Device device = activate(spec, "--device " + spec);
        OutputDir.prepare(outDir, "--out");

        // the examples: a class-balanced split of the data set (normalised with its statistics), or the batch file as it is
        float[] xs;
        int[] shape, labels, split = null;
        int numClasses;
        Dataset train = null;
        if (lb == null) {
            train = DatasetRegistry.load(dataset, root, true, Runner.DATA_SPLIT_SEED);
            var stats = DatasetRegistry.stats(dataset);
            if (stats.isPresent()) train = pxprune.datasets.Transforms.normalize(train, stats.get());
            split = PruningSplit.select(train, perClass, seed);
            Batch b = train.batch(split);
            xs = b.x();
            shape = new int[] {b.n(), b.c(), b.h(), b.w()};
            labels = b.y();
            numClasses = train.numClasses();
            if (wHeader != null) {
                int fileClasses = numClasses(model, b.c(), Math.min(b.h(), b.w()), wHeader, wPath);
                if (fileClasses != numClasses)
                    throw new UsageException("--weights " + wPath + " has " + fileClasses + " classes, --dataset " + dataset + " has "
                            + numClasses + "; give weights for " + numClasses + " classes, or --batch with examples of your own");
            }
        } else {
            xs = lb.x();
            shape = lb.shape();
            numClasses = numClasses(model, shape[1], Math.min(shape[2], shape[3]), wHeader, wPath);
            labels = lb.labels(numClasses, "the model's output layer in --weights");
        }
        Pruner.Result r;
        try (Module m = ModelRegistry.create(model, shape[1], numClasses, Math.min(shape[2], shape[3]), seed);
             MemoryScope s = MemoryScope.open()) {
            if (wPath != null) {
                try {
                    StateDicts.load(m, wPath);
                } catch (IllegalArgumentException e) {
                    throw new UsageException("--weights " + wPath + " cannot be loaded into " + model + " (" + shape[1] + " input channels, "
                            + numClasses + " classes): " + oneLine(e.getMessage()));
                }
            }
            m.to(device);
            try {
                Pruner.checkKeepsWeights(m, model, density, perLayer);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--density: " + e.getMessage());
            }
            Files.createDirectories(outDir);
            if (split != null) PruningSplit.write(outDir.resolve(Runner.SPLIT), split, train);
            Tensor x = Tensor.of(xs, device, shape);
            ScoringData data;
            try {
                data = new ScoringData(x, labels, numClasses, seed, Math.min(Runner.SCORING_CHUNK, shape[0]),
                        a.flag("trace") ? Trace.log(err) : Trace.NONE);
            } catch (IllegalArgumentException e) {
                throw new UsageException((bPath != null ? "--batch " + bPath : "--dataset " + dataset) + ": "
                        + e.getMessage().replace("ScoringData: ", "") + " (the model has " + numClasses + " classes)");
            }
            r = Pruner.run(m, ScorerRegistry.create(method, precision), data, new Pruner.Config(density, rounds, schedule, perLayer), null, err);
        }
        PruningFiles.write(r, outDir);
        Pruner.Round last = r.rounds().get(r.rounds().size() - 1);
        double secs = r.rounds().stream().mapToDouble(Pruner.Round::seconds).sum();
        out.printf(Locale.ROOT, "%s on %s pruned with %s to density %.6f (%d of %d weights kept) in %d rounds, %.1fs; connected: %s%n",
                model, bPath != null ? bPath.getFileName() : dataset, method, r.masks().density(), r.masks().kept(), r.masks().total(),
                rounds, secs, last.connected() ? "yes" : "NO");
        out.println("written to " + outDir + ": masks.safetensors, rounds.csv, rounds.png, layers.csv, summary.json"
                + (split != null ? ", split.csv" : ""));
    }

    /** --precision float32|float64; absent: null, each method's default (ScorerRegistry) */
    static pxprune.kernels.DType precision(Args a) {
        String p = a.string("precision", null);
        if (p == null) return null;
        return switch (p) {
            case "float32" -> pxprune.kernels.DType.F32;
            case "float64" -> pxprune.kernels.DType.F64;
            default -> throw new UsageException("--precision " + p + " is not a precision; give float32 (the model's) or float64");
        };
    }

    /**
     * d, checked to be a classification set for --dataset of cmd (prune, explain, ntk): an unknown name or a segmentation
     * set (whose runs {@code pxprune run} makes) is a usage error
     */
    static String classificationSet(String d, String cmd) {
        if (!DatasetRegistry.names().contains(d))
            throw new UsageException("unknown dataset '" + d + "' for --dataset; valid: " + String.join(", ", DatasetRegistry.names()));
        if (DatasetRegistry.isSegmentation(d))
            throw new UsageException("--dataset " + d + " is a segmentation set; " + cmd + " takes a classification set ("
                    + String.join(", ", DatasetRegistry.names().stream().filter(n -> !DatasetRegistry.isSegmentation(n)).toList())
                    + "); prune a segmentation model with pxprune run, e.g. a config {\"recipe\": \"" + d + "\", \"method\": \"px\"}");
        return d;
    }

    static String modelName(String m) {
        if (!ModelRegistry.contains(m))
            throw new UsageException("unknown model '" + m + "' for --model; valid: " + String.join(", ", ModelRegistry.names()));
        return m;
    }

    private static String methodName(String m) {
        if (!ScorerRegistry.names().contains(m))
            throw new UsageException("unknown method '" + m + "' for --method; valid: " + String.join(", ", ScorerRegistry.names()));
        return m;
    }

    // ------------------------------------------------------------------ score
    private static void scoreCmd(String[] args, PrintStream out, PrintStream err) throws IOException {
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("model", "resnet20");
        opts.put("weights", "W.safetensors");
        opts.put("batch", "B.safetensors");
        opts.put("method", "px");
        opts.put("out", "O.safetensors");
        opts.put("seed", "1");
        opts.put("precision", "float64");
        opts.put("device", "cuda");
        Args a = new Args("score", args, 1, opts, Set.of("trace"), Set.of());
        a.maxPositional(0, "pxprune score --model M --weights W.safetensors --batch B.safetensors --method S --out O.safetensors");
        String spec = deviceOption(a, "cpu");
        String model = modelName(a.required("model"));
        Path wPath = a.existingFile("weights"), bPath = a.existingFile("batch");
        String method = methodName(a.required("method"));
        Path outPath = Path.of(a.required("out"));
        long seed = a.longValue("seed", 1);
        pxprune.kernels.DType precision = precision(a);
        pxprune.kernels.Device device = activate(spec, "--device " + spec);
        OutputDir.prepareFile(outPath, "--out");

        SafeTensors.Header w = readHeader(wPath, "weights");
        LabelledBatch lb = LabelledBatch.read(bPath);
        int[] xs = lb.shape();
        int channels = xs[1], size = Math.min(xs[2], xs[3]);
        int numClasses = numClasses(model, channels, size, w, wPath);
        int[] labels = lb.labels(numClasses, "the model's output layer in --weights");

        Map<String, SafeTensors.Entry> scores = new LinkedHashMap<>();
        try (Module m = ModelRegistry.create(model, channels, numClasses, size, 0); MemoryScope s = MemoryScope.open()) {
            try {
                StateDicts.load(m, wPath);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--weights " + wPath + " cannot be loaded into " + model + " (" + channels + " input channels, "
                        + numClasses + " classes): " + oneLine(e.getMessage()));
            }
            m.to(device);
            Tensor x = Tensor.of(lb.x(), device, xs);
            ScoringData data;
            try {
                data = new ScoringData(x, labels, numClasses, seed);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--batch " + bPath + ": " + e.getMessage().replace("ScoringData: ", "")
                        + " (the model has " + numClasses + " classes)");
            }
            if (a.flag("trace")) data = data.withTrace(Trace.log(err));
            long t0 = System.nanoTime();
            Map<String, Tensor> sc = ScorerRegistry.create(method, precision).score(m, Masks.ones(m), data);
            for (PrunableLayer l : PrunableLayer.of(m)) scores.put(l.name(), SafeTensors.Entry.of(sc.get(l.name())));
            err.printf(Locale.ROOT, "[score %s] %d weight tensors scored on %d examples in %.2fs%n", method, scores.size(), xs[0],
                    (System.nanoTime() - t0) / 1e9);
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("method", method);
        meta.put("model", model);
        meta.put("weights", wPath.getFileName().toString());
        meta.put("batch", bPath.getFileName().toString());
        SafeTensors.write(outPath, scores, meta);
        out.println("scores of " + scores.size() + " prunable weights written to " + outPath);
    }

    static SafeTensors.File readSafetensors(Path p, String option) {
        readHeader(p, option);
        try {
            return SafeTensors.read(p);
        } catch (IOException | RuntimeException e) {
            throw unreadable(p, option, e);
        }
    }

    static SafeTensors.Header readHeader(Path p, String option) {
        try {
            return SafeTensors.header(p);
        } catch (IOException | RuntimeException e) {
            throw unreadable(p, option, e);
        }
    }

    private static UsageException unreadable(Path p, String option, Exception e) {
        return new UsageException("--" + option + " " + p + " is not a readable safetensors file (" + oneLine(String.valueOf(e.getMessage()))
                + "); give a file written by safetensors");
    }

    /** the number of classes: the first dimension of the output layer's weight in W */
    static int numClasses(String model, int channels, int size, SafeTensors.Header w, Path wPath) {
        String outName;
        try (Module probe = ModelRegistry.create(model, channels, 1, size, 0)) {
            List<PrunableLayer> layers = PrunableLayer.of(probe);
            outName = layers.get(layers.size() - 1).name();
        }
        SafeTensors.Info e = w.entries().get(outName);
        if (e == null || e.shape().length < 1)
            throw new UsageException("--weights " + wPath + " has no tensor '" + outName + "' (the output layer of " + model
                    + "; the file has " + w.entries().size() + " tensors, e.g. " + w.entries().keySet().stream().limit(3).toList()
                    + "); give the state dict of a " + model + " under PyTorch names");
        if (e.shape()[0] < 1 || e.shape()[0] > 1_000_000)
            throw new UsageException("--weights " + wPath + ": the output layer '" + outName + "' has " + e.shape()[0]
                    + " classes; a model needs 1..1000000");
        return (int) e.shape()[0];
    }

}
