package pxprune.experiments.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import pxprune.core.MemoryScope;
import pxprune.core.io.Json;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.nn.StateDicts;
import pxprune.px.Masks;
import pxprune.px.Pruner;
import pxprune.px.methods.ScorerRegistry;
import pxprune.px.ScoringData;

/**
 * One run, start to finish, in its folder {@code <runs>/<config hash>/}: prune, train, evaluate.
 * Every stage leaves its result on disk before the next starts, so a run started again continues
 * where it stopped: masks that exist are loaded (never scored again), training resumes from the
 * last checkpoint, and a finished run is reported as done.
 *
 * <p>The folder: {@code config.json} (the full config), {@code split.csv} (the pruning split:
 * {@code examples_per_class} examples of every class of the training set, drawn with the seed,
 * no augmentation; the same for every method), {@code rounds.csv} (per round: target and reached
 * density, whether an input-output path survives, seconds, every layer's density), {@code rounds.png} (those
 * layer densities plotted), {@code layers.csv} (per layer: shape,
 * kept, density), {@code prune.json} (the pruner's summary), {@code masks.safetensors},
 * {@code checkpoint.safetensors} and {@code metrics.jsonl} (per epoch, see {@link Trainer}),
 * {@code weights.safetensors} (the trained state dict, PyTorch names) and {@code summary.json}
 * (written last: test accuracy, density reached, pruning and training seconds). A folder whose
 * config, summary or masks are not what a run writes (unreadable JSON, a test accuracy that is no
 * number, masks that keep no weight) is refused with a {@link RunFolderException} naming the file.
 *
 * <p>The stages are the same for every {@link Task}: the task ({@link Task#of}) supplies the data,
 * the model, the pruning split and data, the loss and the metrics; {@link Trainer} trains. A
 * segmentation run ({@link SegmentationTask}, see docs/segmentation.md) draws its split by
 * {@code PruningSplit.selectSegmentation} (CSV {@code index,classes}), and its folder also gets
 * {@value #CONFUSION} and {@value #PREDICTIONS}; its summary has {@code test_miou}, {@code test_iou}
 * per class, and {@code test_acc} = {@code test_pixel_acc}, the pixel accuracy.
 *
 * <p>Data: the train/test split of sets without an official one (digits, synthetic) is drawn
 * with {@value #DATA_SPLIT_SEED} for every run, so runs of different seeds are tested on the same
 * examples; sets with published channel statistics are normalised with them.
 */
public final class Runner {
    public static final long DATA_SPLIT_SEED = 0;
    /** the px scorers walk the pruning data in chunks of at most this many examples (memory only) */
    public static final int SCORING_CHUNK = 256;
    public static final String CONFIG = "config.json", SPLIT = "split.csv", MASKS = "masks.safetensors",
            ROUNDS = "rounds.csv", ROUNDS_PNG = "rounds.png", LAYERS = "layers.csv", PRUNE = "prune.json", WEIGHTS = "weights.safetensors",
            SUMMARY = "summary.json", LOCK = ".lock", CONFUSION = "confusion.csv", PREDICTIONS = "predictions.png";

    /** a finished run: its folder, its summary, and whether it had finished before this call */
    public record Outcome(RunConfig config, Path dir, Map<String, Object> summary, boolean alreadyDone) {
        public double testAcc() { return num("test_acc"); }
        public double density() { return num("density"); }
        public double pruningSeconds() { return num("pruning_seconds"); }
        public double trainingSeconds() { return num("training_seconds"); }
        /** the mean IoU of a segmentation run (NaN for classification) */
        public double testMiou() { return num("test_miou"); }

        private double num(String k) {
            Object v = summary.get(k);
            return v instanceof Number n ? n.doubleValue() : Double.NaN;
        }
    }

    private Runner() {}

    /** the folder of a config's run under runs */
    public static Path folder(Path runs, RunConfig cfg) { return runs.resolve(cfg.hash()); }

    /**
     * Loads the config's pre-trained weights into a freshly initialised model (and returns it):
     * {@code pretrained}, the whole state dict; {@code pretrained_backbone}, a classification checkpoint
     * into a segmentation model's {@code backbone.*} or into a classifier but its {@code fc.*}
     * (nn StateDicts.loadBackbone). A file that does not fit is a {@link ConfigException} naming the
     * key, the file and what it looks like; the model is closed then.
     */
    static Module pretrained(RunConfig cfg, Module m) {
        String key = !cfg.pretrained().isEmpty() ? "pretrained" : !cfg.pretrainedBackbone().isEmpty() ? "pretrained_backbone" : null;
        if (key == null) return m;
        Path file = Path.of(key.equals("pretrained") ? cfg.pretrained() : cfg.pretrainedBackbone());
        try {
            checkPretrainedFile(cfg);
            if (key.equals("pretrained")) StateDicts.load(m, file);
            else StateDicts.loadBackbone(m, file, ModelRegistry.isSegmentation(cfg.model()) ? "backbone." : "");
            return m;
        } catch (IllegalArgumentException | IOException e) {
            m.close();
            throw new ConfigException("config key '" + key + "': " + file + " cannot be loaded into " + cfg.model() + ": "
                    + e.getMessage());
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /**
     * Makes the config's device the one this process computes on ({@link Devices#activate}) and returns
     * its kind; one that cannot be used is a {@link ConfigException} naming the key and the reason.
     */
    static pxprune.kernels.Device activate(RunConfig cfg) {
        try {
            return Devices.activate(cfg.device()).kind();
        } catch (IllegalArgumentException e) {
            throw new ConfigException("config key 'device': " + e.getMessage());
        }
    }

    /** the pre-trained weights file of the config, if any, is a readable regular file (checked before any work) */
    static void checkPretrainedFile(RunConfig cfg) {
        for (String[] kv : new String[][] {{"pretrained", cfg.pretrained()}, {"pretrained_backbone", cfg.pretrainedBackbone()}}) {
            if (kv[1].isEmpty()) continue;
            Path f = Path.of(kv[1]);
            if (!Files.isRegularFile(f) || !Files.isReadable(f))
                throw new ConfigException("config key '" + kv[0] + "': " + f.toAbsolutePath() + (Files.exists(f) ? " is not a readable file"
                        : " does not exist") + "; give a safetensors state dict under PyTorch names (torchvision's, converted with "
                        + "safetensors.torch.save_file(model.state_dict(), FILE))");
        }
    }

    /**
     * Runs (or resumes, or reports) the config's run under runs.
     *
     * @param log progress lines (stderr), or null
     */
    public static Outcome run(RunConfig cfg, Path runs, PrintStream log) throws IOException {
        Path dir = folder(runs, cfg);
        if (!Files.isRegularFile(dir.resolve(SUMMARY))) { // before the folder exists: a refused run leaves nothing
            checkPretrainedFile(cfg);
            activate(cfg);
        }
        Files.createDirectories(dir);
        try (FileChannel ch = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = ch.tryLock()) {
            if (lock == null)
                throw new IllegalStateException("run " + cfg.hash() + " is in progress in another process (" + dir
                        + " is locked); wait for it to finish, or stop it and start this one again to resume");
            // temporary files of a process that was killed while writing
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList()) Files.deleteIfExists(p);
            }
            return runLocked(cfg, dir, log);
        }
    }

    private static Outcome runLocked(RunConfig cfg, Path dir, PrintStream log) throws IOException {
        checkOrWriteConfig(cfg, dir);
        Path summaryFile = dir.resolve(SUMMARY);
        if (Files.isRegularFile(summaryFile)) {
            Map<String, Object> s = readSummary(summaryFile, dir);
            if (log != null) log.printf("[%s] run %s is done (%s); delete the folder to run it again%n", cfg.method(), cfg.hash(), dir);
            return new Outcome(cfg, dir, s, true);
        }
        String label = cfg.method();
        Task task = Task.of(cfg);

        Masks masks;
        Map<String, Object> prune;
        try (Module probe = task.model()) {
            probe.to(activate(cfg));
            Path masksFile = dir.resolve(MASKS);
            if (Files.isRegularFile(masksFile)) {
                masks = Masks.load(masksFile, probe);
                checkKeepsWeights(masks, masksFile, dir);
                prune = readPrune(dir);
                if (log != null) log.printf("[%s] masks loaded from %s (density %.6f); not pruning again%n", label, masksFile, masks.density());
            } else {
                if (cfg.prunes()) {
                    try {
                        Pruner.checkKeepsWeights(probe, cfg.model(), cfg.density(), false);
                    } catch (IllegalArgumentException e) {
                        throw new ConfigException("config key 'density': " + e.getMessage());
                    }
                }
                int[] split = task.split(dir.resolve(SPLIT));
                prune = cfg.prunes() ? prune(cfg, probe, () -> task.pruningData(probe, split), dir, log) : dense(cfg, probe, dir);
                masks = Masks.load(masksFile, probe);
            }
        }

        Trainer.Result result;
        Map<String, Object> summary;
        try (Module model = task.model()) {
            result = new Trainer(task, dir, log, label).train(model, masks);
            Map<String, String> meta = new LinkedHashMap<>(); // an ordered map: the file's bytes must not vary between JVMs
            meta.put("format", "pt");
            meta.put("config_hash", cfg.hash());
            StateDicts.save(model, dir.resolve(WEIGHTS), meta);
            Task.Evaluation ev = task.finalEvaluation(model, result);
            task.writeFiles(model, ev, dir);
            summary = summary(cfg, task, masks, prune, result, ev);
        }
        writeAtomically(summaryFile, Json.pretty(summary));
        return new Outcome(cfg, dir, summary, false);
    }

    // ------------------------------------------------------------------ stages
    private static void checkOrWriteConfig(RunConfig cfg, Path dir) throws IOException {
        Path f = dir.resolve(CONFIG);
        if (Files.isRegularFile(f)) {
            RunConfig there;
            try {
                there = RunConfig.parse(Files.readString(f, StandardCharsets.UTF_8));
            } catch (ConfigException | java.nio.charset.CharacterCodingException e) {
                throw new RunFolderException(f + " is not a valid config (" + e.getMessage() + "); delete the folder " + dir
                        + " to start the run afresh");
            }
            if (!there.canonicalJson().equals(cfg.canonicalJson()))
                throw new IllegalStateException(f + " holds another config (hash " + there.hash() + ") than this run ("
                        + cfg.hash() + "); delete the folder " + dir + " to start the run afresh");
            return;
        }
        writeAtomically(f, cfg.prettyJson());
    }

    /** prunes with the data the supplier builds (inside the scope that frees it), writing the pruning files */
    private static Map<String, Object> prune(RunConfig cfg, Module model, java.util.function.Supplier<ScoringData> pruningData, Path dir,
                                             PrintStream log) throws IOException {
        Path tmp = dir.resolve(".prune-tmp");
        deleteTree(tmp);
        long t0 = System.nanoTime();
        Pruner.Result r;
        try (MemoryScope s = MemoryScope.open()) {
            ScoringData data = pruningData.get();
            r = Pruner.run(model, ScorerRegistry.create(cfg.method()), data, new Pruner.Config(cfg.density(), cfg.rounds()), null,
                    log == null ? null : RoundFilter.every(10, log));
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (log != null) log.printf(Locale.ROOT, "[%s] pruned to density %.6f in %d rounds, %.1fs%n", cfg.method(),
                r.masks().density(), cfg.rounds(), seconds);
        PruningFiles.write(r, tmp);
        Map<String, Object> p = new LinkedHashMap<>(r.summary());
        p.put("wall_seconds", seconds);
        Files.writeString(tmp.resolve(PRUNE), Json.pretty(p), StandardCharsets.UTF_8);
        // the masks last: their presence means that pruning is complete
        for (String f : new String[] {ROUNDS, ROUNDS_PNG, LAYERS, PRUNE, MASKS}) move(tmp.resolve(f), dir.resolve(f));
        deleteTree(tmp);
        return p;
    }

    /** the all-ones masks of a dense run, with its (trivial) per-layer table */
    private static Map<String, Object> dense(RunConfig cfg, Module model, Path dir) throws IOException {
        Masks m = Masks.ones(model);
        writeAtomically(dir.resolve(LAYERS), PruningFiles.layersCsv(m));
        writeAtomically(dir.resolve(ROUNDS), PruningFiles.roundsCsvHeader(m.names()));
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("method", RunConfig.DENSE);
        p.put("target_density", 1.0);
        p.put("rounds", 0L);
        p.put("total", m.total());
        p.put("kept", m.kept());
        p.put("density", 1.0);
        p.put("connected", true);
        p.put("wall_seconds", 0.0);
        writeAtomically(dir.resolve(PRUNE), Json.pretty(p));
        m.save(dir.resolve(MASKS), RunConfig.DENSE, 0, cfg.seed());
        return p;
    }

    /**
     * The summary of a finished run, checked: a JSON object with status "done", test_acc a number
     * in [0, 1] and density one in (0, 1]; and the folder's masks, which must keep a weight.
     *
     * @throws RunFolderException naming the file, the problem and what to delete
     */
    static Map<String, Object> readSummary(Path file, Path dir) throws IOException {
        String fix = "; delete " + file + " (or the folder " + dir + ") to run again";
        Map<String, Object> s;
        try {
            s = Json.parseObject(Files.readString(file, StandardCharsets.UTF_8));
        } catch (RuntimeException | java.nio.charset.CharacterCodingException e) {
            throw new RunFolderException(file + " is not a valid run summary (" + e.getMessage() + ")" + fix);
        }
        String problem = summaryProblem(s);
        if (problem != null) throw new RunFolderException(file + " is not a valid run summary (" + problem + ")" + fix);
        Path masksFile = dir.resolve(MASKS);
        String again = "; delete the folder " + dir + " to run again";
        if (!Files.isRegularFile(masksFile))
            throw new RunFolderException(file + " reports the run done but " + masksFile + " is missing" + again);
        Masks m;
        try {
            m = Masks.load(masksFile);
        } catch (IOException | RuntimeException e) {
            throw new RunFolderException(masksFile + " is not a readable masks file (" + e.getMessage() + ")" + again);
        }
        checkKeepsWeights(m, masksFile, dir);
        return s;
    }

    /**
     * What is wrong with a finished run's summary, or null: status must be "done", test_acc a
     * number in [0, 1] and density one in (0, 1]. (The report reads run folders by the same rule.)
     */
    public static String summaryProblem(Map<String, Object> s) {
        if (!"done".equals(s.get("status"))) return "status " + Json.write(s.get("status")) + ", expected \"done\"";
        for (String key : new String[] {"test_acc", "density"}) {
            Object v = s.get(key);
            double d = v instanceof Number n ? n.doubleValue() : Double.NaN;
            boolean zeroIncluded = key.equals("test_acc");
            if (!(v instanceof Number) || !Double.isFinite(d) || d > 1 || d < 0 || (!zeroIncluded && d == 0))
                return key + " is " + (v == null ? (s.containsKey(key) ? "null" : "missing") : Json.write(v))
                        + ", expected a number in " + (zeroIncluded ? "[0, 1]" : "(0, 1]");
        }
        return null;
    }

    /** masks that keep no weight cannot be trained: the folder is broken */
    private static void checkKeepsWeights(Masks m, Path masksFile, Path dir) {
        if (m.kept() == 0)
            throw new RunFolderException(String.format(Locale.ROOT, "%s keeps no weight (0 of %,d); delete the folder %s to prune again",
                    masksFile, m.total(), dir));
    }

    private static Map<String, Object> readPrune(Path dir) throws IOException {
        Path f = dir.resolve(PRUNE);
        return Files.isRegularFile(f) ? Json.parseObject(Files.readString(f, StandardCharsets.UTF_8)) : Map.of();
    }

    /** the keys every finished run's summary starts with, classification or segmentation, in this order */
    private static Map<String, Object> summaryHead(RunConfig cfg, Masks masks, Map<String, Object> prune) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("status", "done");
        s.put("config_hash", cfg.hash());
        s.put("dataset", cfg.dataset());
        s.put("model", cfg.model());
        s.put("method", cfg.method());
        s.put("target_density", cfg.density());
        s.put("density", masks.density());
        s.put("kept", masks.kept());
        s.put("total", masks.total());
        s.put("rounds", cfg.prunes() ? (long) cfg.rounds() : 0L);
        s.put("connected", prune.getOrDefault("connected", null));
        s.put("epochs", (long) cfg.epochs());
        return s;
    }

    /** the summary of a finished run: the keys every summary starts with, the task's test results, the rest */
    private static Map<String, Object> summary(RunConfig cfg, Task task, Masks masks, Map<String, Object> prune, Trainer.Result result,
                                               Task.Evaluation ev) {
        EpochMetrics last = result.last();
        Map<String, Object> s = summaryHead(cfg, masks, prune);
        s.putAll(task.testSummary(ev));
        s.put("train_acc", last == null ? null : last.trainAcc());
        s.put("train_loss", last == null ? null : last.trainLoss());
        Object ps = prune.get("wall_seconds");
        s.put("pruning_seconds", ps instanceof Number n ? n.doubleValue() : null);
        s.put("training_seconds", result.seconds());
        s.put("resumed_from_epoch", (long) result.startEpoch());
        s.put("seed", cfg.seed());
        s.put("weights", WEIGHTS);
        s.putAll(task.filesSummary());
        return s;
    }

    // ------------------------------------------------------------------ files
    /** writes text to file through a temporary file in the same folder and a rename (readable like any new file) */
    public static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        move(tmp, file);
    }

    static void move(Path from, Path to) {
        try {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot move " + from + " to " + to + ": " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }

    static String fmt(double v) { return String.format(Locale.ROOT, "%.4f", v); }
}
