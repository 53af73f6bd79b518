package pxprune.experiments.report;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import pxprune.core.io.Json;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.px.Masks;
import pxprune.experiments.train.RunConfig;
import pxprune.experiments.train.Runner;

/**
 * Finds and reads the run folders below any number of folders (a run folder itself, a runs folder
 * holding {@code <hash>/} folders, a sweep folder, or anything above them). A <em>run folder</em>
 * is a folder with a {@code config.json}; nothing below a run folder is searched. A run is
 * <em>finished</em> when its folder also has a {@code summary.json}.
 *
 * <p>Every file of a run folder is untrusted. Nothing here throws for a bad run folder: an
 * unfinished run, a config that is not a run config, a summary that is not what a run writes
 * (status not "done", test_acc or density not a number in range, another config's hash), masks
 * that cannot be read, do not fit the config's model, keep no weight or disagree with the
 * summary's density, and a broken {@code ntk.csv}, each leave the run out (or, for ntk.csv, its
 * NTK number) with one note naming the file, the problem and the fix; the report lists the notes.
 * The same run (config hash) found in two places is read once.
 */
public final class RunFolders {
    /** the NTK numbers of a run, when its folder has them */
    public static final String NTK = "ntk.csv";
    /** how deep below each given folder run folders are looked for */
    public static final int MAX_DEPTH = 8;

    /**
     * One finished run, as the report needs it.
     *
     * @param layers       the prunable layers (mask names) in order
     * @param layerDensity the fraction kept of each of them
     * @param bits         the kept weights ({@link Jaccard#bits})
     * @param collapse     null where the dataset's input size is not known
     * @param ntkTraceKept NaN when no NTK number is known
     */
    public record Run(Path dir, RunConfig config, double testAcc, double density, List<String> layers, double[] layerDensity,
                      long[] bits, Collapse collapse, double ntkTraceKept) {
        public String hash() { return config.hash(); }

        public String method() { return config.method(); }

        public Run withNtk(double v) { return new Run(dir, config, testAcc, density, layers, layerDensity, bits, collapse, v); }
    }

    /** the finished runs, in the order found, and one note per folder or file left out */
    public record Scan(List<Run> runs, List<String> notes) {}

    /**
     * The input side of every dataset the registry knows, for the path-count passes (the images of
     * {@code DatasetRegistry}: digits 8x8, synthetic and CIFAR 32x32, Tiny-ImageNet 64x64,
     * ImageNet 224x224, the MNIST family 28x28; seg_demo 32x32 and, for the VOC sets, whose images vary in size, the
     * recipes' training crop 513x513); their channels and classes are read from the masks.
     */
    static final Map<String, Integer> INPUT_SIDE = Map.ofEntries(Map.entry("digits", 8), Map.entry("synthetic", 32),
            Map.entry("cifar10", 32), Map.entry("cifar100", 32), Map.entry("tiny-imagenet", 64), Map.entry("imagenet", 224),
            Map.entry("mnist", 28), Map.entry("fashion_mnist", 28), Map.entry("kmnist", 28), Map.entry("seg_demo", 32),
            Map.entry("voc2012", 513), Map.entry("voc2012_aug", 513));

    private RunFolders() {}

    /** the run folders (folders with a config.json) at or below root, sorted by path within each level */
    public static List<Path> find(Path root) throws IOException {
        List<Path> out = new ArrayList<>();
        Files.walkFileTree(root, EnumSet.of(FileVisitOption.FOLLOW_LINKS), MAX_DEPTH, new SimpleFileVisitor<>() {
            @Override public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                if (Files.isRegularFile(dir.resolve(Runner.CONFIG))) {
                    out.add(dir);
                    return FileVisitResult.SKIP_SUBTREE;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE; // unreadable folders and link loops: nothing to read there
            }
        });
        out.sort(null);
        return out;
    }

    /** finds and reads every run folder below the roots; ntk.csv files are read when present */
    public static Scan scan(List<Path> roots) throws IOException {
        Set<Path> folders = new LinkedHashSet<>();
        for (Path r : roots) for (Path d : find(r)) folders.add(d.toAbsolutePath().normalize());
        List<Run> runs = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        Map<String, Path> seen = new HashMap<>();
        Map<String, Module> models = new HashMap<>();
        try {
            for (Path dir : folders) {
                Run r = read(dir, notes, models);
                if (r == null) continue;
                Path first = seen.putIfAbsent(r.hash(), dir);
                if (first != null) {
                    notes.add(dir + ": the same run (config " + r.hash() + ") as " + first + "; counted once");
                    continue;
                }
                runs.add(r);
            }
        } finally {
            for (Module m : models.values()) m.close();
        }
        return new Scan(runs, notes);
    }

    /** one run folder, or null with a note */
    static Run read(Path dir, List<String> notes, Map<String, Module> models) {
        Path cfgFile = dir.resolve(Runner.CONFIG), sumFile = dir.resolve(Runner.SUMMARY), masksFile = dir.resolve(Runner.MASKS);
        RunConfig cfg;
        try {
            cfg = RunConfig.parse(Files.readString(cfgFile, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            notes.add(cfgFile + " is not a run config (" + msg(e) + "); left out: fix or delete the file");
            return null;
        }
        if (!Files.isRegularFile(sumFile)) {
            notes.add(dir + ": unfinished run (" + cfg.method() + ", density " + num(cfg.density()) + ", seed " + cfg.seed()
                    + "; " + (Files.isRegularFile(masksFile) ? "pruned, not trained to the end" : "not pruned yet")
                    + "): no " + Runner.SUMMARY + "; left out until `pxprune run` finishes it");
            return null;
        }
        String fix = "; left out: delete the folder " + dir + " and run it again";
        Map<String, Object> s;
        try {
            s = Json.parseObject(Files.readString(sumFile, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            notes.add(sumFile + " is not a valid run summary (" + msg(e) + ")" + fix);
            return null;
        }
        String bad = badSummary(s, cfg);
        if (bad != null) {
            notes.add(sumFile + " is not a valid run summary (" + bad + ")" + fix);
            return null;
        }
        double acc = ((Number) s.get("test_acc")).doubleValue(), density = ((Number) s.get("density")).doubleValue();
        Masks masks;
        try {
            masks = Masks.load(masksFile);
        } catch (IOException | RuntimeException e) {
            notes.add(masksFile + (Files.isRegularFile(masksFile) ? " is not a readable masks file (" + msg(e) + ")"
                    : " is missing though " + Runner.SUMMARY + " reports the run done") + fix);
            return null;
        }
        if (masks.names().isEmpty() || masks.kept() == 0) {
            notes.add(masksFile + " keeps no weight" + fix);
            return null;
        }
        if (Math.abs(masks.density() - density) > 1e-9) {
            notes.add(String.format(Locale.ROOT, "%s keeps %.6f of the weights but %s says density %.6f%s", masksFile, masks.density(),
                    sumFile, density, fix));
            return null;
        }
        Module model;
        List<String> names = masks.names();
        int[] first = masks.shape(names.get(0)), last = masks.shape(names.get(names.size() - 1));
        Integer side = INPUT_SIDE.get(cfg.dataset());
        try {
            if (first.length < 2 || last.length < 1) throw new IllegalArgumentException("mask " + names.get(0) + " has shape "
                    + java.util.Arrays.toString(first) + ", not a weight's");
            String key = cfg.model() + "/" + first[1] + "/" + last[0] + "/" + (side == null ? 1 : side);
            model = models.get(key);
            if (model == null) {
                model = ModelRegistry.create(cfg.model(), first[1], last[0], side == null ? Integer.MAX_VALUE : side, 0);
                models.put(key, model);
            }
            masks.checkFits(model);
        } catch (RuntimeException e) {
            notes.add(masksFile + " does not fit the model " + cfg.model() + " of " + cfgFile + " (" + msg(e) + ")" + fix);
            return null;
        }
        double[] ld = new double[names.size()];
        for (int i = 0; i < ld.length; i++) ld[i] = masks.density(names.get(i));
        Collapse c = null;
        if (side == null) notes.add(dir + ": the input size of dataset " + cfg.dataset() + " is not known to the report; no collapse numbers");
        else {
            try {
                c = Collapse.of(model, masks, new int[] {1, first[1], side, side});
            } catch (RuntimeException e) {
                notes.add(masksFile + ": the collapse numbers could not be computed (" + msg(e) + ")");
            }
        }
        double ntk = Double.NaN;
        Path ntkFile = dir.resolve(NTK);
        if (Files.isRegularFile(ntkFile)) {
            try {
                ntk = NtkTable.readOwn(ntkFile);
            } catch (IOException | RuntimeException e) {
                notes.add(ntkFile + ": " + msg(e) + "; the run's NTK number is left out: fix or delete the file");
            }
        }
        return new Run(dir, cfg, acc, density, names, ld, Jaccard.bits(masks), c, ntk);
    }

    /** what is wrong with a summary, or null */
    private static String badSummary(Map<String, Object> s, RunConfig cfg) {
        String problem = Runner.summaryProblem(s);
        if (problem != null) return problem;
        Object h = s.get("config_hash");
        if (h != null && !cfg.hash().equals(h))
            return "it is the summary of config " + Json.write(h) + " but config.json is config " + cfg.hash();
        return null;
    }

    static String msg(Throwable e) {
        String m = e.getMessage();
        if (e instanceof CharacterCodingException) m = "not UTF-8 text";
        if (m == null || m.isBlank()) m = e.getClass().getSimpleName();
        m = m.strip().replaceAll("\\s*\\R\\s*", " ");
        return m.length() > 300 ? m.substring(0, 300) + " ..." : m;
    }

    static String num(double d) {
        String s = String.format(Locale.ROOT, "%.6g", d);
        if (s.contains("e")) return s.replaceAll("\\.?0+e", "e");
        return s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
    }

    /** the config keys (besides the ones given) whose values differ between the configs, with the values seen */
    static Map<String, Set<Object>> differing(List<RunConfig> configs, Set<String> ignore) {
        Map<String, Set<Object>> seen = new LinkedHashMap<>();
        for (RunConfig c : configs)
            c.toMap().forEach((k, v) -> { if (!ignore.contains(k)) seen.computeIfAbsent(k, x -> new LinkedHashSet<>()).add(v); });
        seen.values().removeIf(v -> v.size() < 2);
        return seen;
    }
}
