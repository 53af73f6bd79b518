package pxprune.experiments.train;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import pxprune.core.io.Json;
import pxprune.datasets.DatasetRegistry;

/**
 * Everything that determines a run: the data, the model, how it is pruned and how it is trained,
 * and the device. Immutable and always valid: every constructor path checks every key.
 *
 * <p>The keys, one per record component, are declared once in {@link RunKeys}: in sections (data,
 * model, prune, train, device), each with its JSON type, its default where it has one, its checks
 * and its help ({@code pxprune run --help} lists them). As JSON (config files, {@code config.json}
 * in a run folder) the keys are flat and snake_case ({@code examples_per_class} for
 * {@link #examplesPerClass()}). A config file may also name a {@code recipe} ({@link Recipes}) whose
 * values fill the keys it leaves out (default {@code digits}). Unknown keys, values of the wrong JSON
 * type and values outside their key's range are errors that name the key, the value and what is
 * allowed. The run folder is named by {@link #hash()}: the first 12 hex digits of the SHA-256 of
 * {@link #canonicalJson()} (the keys sorted, compact, the optional keys left out at their defaults,
 * so that configs written before a key existed keep their hash).
 *
 * <p>Method {@code dense} trains without pruning and requires density 1.
 */
public record RunConfig(String dataset, String model, String method, double density, int rounds,
                        int examplesPerClass, long seed, int epochs, int batchSize, double lr, double momentum,
                        boolean nesterov, double weightDecay, List<Integer> milestones, double gamma,
                        String dataRoot, boolean augment, int crop, double scaleMin, double scaleMax, boolean flip,
                        double backboneLr, String pretrained, String pretrainedBackbone, String device) {

    /** the method name that means "no pruning" */
    public static final String DENSE = "dense";

    /** the largest rounds, epochs and examples_per_class accepted */
    public static final int MAX_ROUNDS = pxprune.px.Pruner.Config.MAX_ROUNDS, MAX_EPOCHS = 1_000_000, MAX_EXAMPLES_PER_CLASS = 1_000_000;
    /** the largest batch_size accepted (larger batches are a typo, not a recipe) */
    public static final int MAX_BATCH_SIZE = 65_536;
    /** the largest crop accepted (pixels per side) */
    public static final int MAX_CROP = 8192;
    /** the largest scale_max accepted */
    public static final double MAX_SCALE = 16;

    /** the canonical constructor: every key is checked ({@link RunKeys}), the first problem is thrown */
    public RunConfig(String dataset, String model, String method, double density, int rounds, int examplesPerClass, long seed,
                     int epochs, int batchSize, double lr, double momentum, boolean nesterov, double weightDecay,
                     List<Integer> milestones, double gamma, String dataRoot, boolean augment, int crop, double scaleMin,
                     double scaleMax, boolean flip, double backboneLr, String pretrained, String pretrainedBackbone, String device) {
        this.dataset = dataset;
        this.model = model;
        this.method = method;
        this.density = density;
        this.rounds = rounds;
        this.examplesPerClass = examplesPerClass;
        this.seed = seed;
        this.epochs = epochs;
        this.batchSize = batchSize;
        this.lr = lr;
        this.momentum = momentum;
        this.nesterov = nesterov;
        this.weightDecay = weightDecay;
        this.milestones = List.copyOf(milestones);
        this.gamma = gamma;
        this.dataRoot = dataRoot;
        this.augment = augment;
        this.crop = crop;
        this.scaleMin = scaleMin;
        this.scaleMax = scaleMax;
        this.flip = flip;
        this.backboneLr = backboneLr;
        this.pretrained = pretrained;
        this.pretrainedBackbone = pretrainedBackbone;
        this.device = device;
        RunKeys.validate(this);
    }

    /** a config on the CPU */
    public RunConfig(String dataset, String model, String method, double density, int rounds, int examplesPerClass, long seed,
                     int epochs, int batchSize, double lr, double momentum, boolean nesterov, double weightDecay,
                     List<Integer> milestones, double gamma, String dataRoot, boolean augment, int crop, double scaleMin,
                     double scaleMax, boolean flip, double backboneLr, String pretrained, String pretrainedBackbone) {
        this(dataset, model, method, density, rounds, examplesPerClass, seed, epochs, batchSize, lr, momentum, nesterov, weightDecay,
                milestones, gamma, dataRoot, augment, crop, scaleMin, scaleMax, flip, backboneLr, pretrained, pretrainedBackbone, "cpu");
    }

    /** a config without pre-trained weights */
    public RunConfig(String dataset, String model, String method, double density, int rounds, int examplesPerClass, long seed,
                     int epochs, int batchSize, double lr, double momentum, boolean nesterov, double weightDecay,
                     List<Integer> milestones, double gamma, String dataRoot, boolean augment, int crop, double scaleMin,
                     double scaleMax, boolean flip, double backboneLr) {
        this(dataset, model, method, density, rounds, examplesPerClass, seed, epochs, batchSize, lr, momentum, nesterov, weightDecay,
                milestones, gamma, dataRoot, augment, crop, scaleMin, scaleMax, flip, backboneLr, "", "");
    }

    /** a config without the segmentation keys (each at its default: no crop, scale 1, no flip, one learning rate) */
    public RunConfig(String dataset, String model, String method, double density, int rounds, int examplesPerClass, long seed,
                     int epochs, int batchSize, double lr, double momentum, boolean nesterov, double weightDecay,
                     List<Integer> milestones, double gamma, String dataRoot, boolean augment) {
        this(dataset, model, method, density, rounds, examplesPerClass, seed, epochs, batchSize, lr, momentum, nesterov, weightDecay,
                milestones, gamma, dataRoot, augment, 0, 1.0, 1.0, false, 0.0);
    }

    /** the valid keys of a config file (plus {@code recipe}) */
    public static List<String> keyNames() { return RunKeys.names(); }

    /** the keys by section, a line each with what it means, what it takes and an optional key's default (for --help) */
    public static String keysHelp() { return RunKeys.help(); }

    /** whether this run segments (its dataset gives a label per pixel) */
    public boolean segmentation() { return DatasetRegistry.isSegmentation(dataset); }

    // ------------------------------------------------------------------ JSON form
    /** the config as a JSON object: keys in the record's order, numbers as Long or Double */
    public Map<String, Object> toMap() { return RunKeys.toMap(this); }

    /** {@link #toMap()} sorted, without the optional keys that are at their defaults */
    private Map<String, Object> written() {
        TreeMap<String, Object> m = new TreeMap<>(toMap());
        m.entrySet().removeIf(e -> RunKeys.atDefault(e.getKey(), e.getValue()));
        return m;
    }

    /**
     * Compact JSON with the keys sorted: the form that {@link #hash()} digests. Optional keys at
     * their defaults are left out, so that configs from before they existed keep their hash.
     */
    public String canonicalJson() { return Json.write(written()); }

    /** indented JSON with the keys sorted (config.json in a run folder), optional keys at their defaults left out */
    public String prettyJson() { return Json.pretty(written()); }

    /** the first 12 hex digits of SHA-256(canonicalJson()), the run folder's name */
    public String hash() {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(canonicalJson().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }

    /**
     * This config with the given keys replaced (values typed as JSON gives them: String, Long or
     * Integer, Double, Boolean, List of integers); the result is validated.
     *
     * @throws ConfigException for an unknown key, a value of the wrong type or out of range
     */
    public RunConfig with(Map<String, ?> changes) {
        Map<String, Object> m = toMap();
        for (Map.Entry<String, ?> e : changes.entrySet()) m.put(e.getKey(), RunKeys.typed(RunKeys.key(e.getKey()), e.getValue()));
        return RunKeys.fromTypedMap(m);
    }

    /** this config with one key replaced */
    public RunConfig with(String key, Object value) {
        Map<String, Object> one = new LinkedHashMap<>();
        one.put(key, value);
        return with(one);
    }

    /**
     * Applies one {@code key=value} override (as {@code --set} on the command line): the value is
     * read as the key's type (numbers, true/false, lists as {@code 80,120} or {@code [80,120]}).
     */
    public RunConfig withSet(String assignment) { return withSets(List.of(assignment)); }

    /**
     * Applies several {@code key=value} overrides together, so that only their result must be a
     * valid config ({@code method=dense} and {@code density=1} in either order).
     */
    public RunConfig withSets(List<String> assignments) {
        Map<String, Object> changes = new LinkedHashMap<>();
        for (String assignment : assignments) {
            int eq = assignment.indexOf('=');
            if (eq <= 0)
                throw new ConfigException("--set " + assignment + ": expected key=value, e.g. --set epochs=10 (keys: "
                        + String.join(", ", keyNames()) + ")");
            String key = assignment.substring(0, eq).strip(), value = assignment.substring(eq + 1).strip();
            changes.put(key, RunKeys.parseValue(RunKeys.key(key), value));
        }
        return with(changes);
    }

    /**
     * A config from a JSON object: {@code recipe} (optional, default {@code digits}) gives the
     * values of the keys the object leaves out.
     *
     * @throws ConfigException naming the first bad key
     */
    public static RunConfig fromJson(Map<String, Object> json) {
        Object r = json.getOrDefault("recipe", Recipes.DEFAULT);
        if (!(r instanceof String name))
            throw new ConfigException("config key 'recipe': expected a string (one of " + String.join(", ", Recipes.names())
                    + "), got " + RunKeys.describe(r));
        RunConfig base = Recipes.get(name);
        Map<String, Object> rest = new LinkedHashMap<>(json);
        rest.remove("recipe");
        return base.with(rest);
    }

    /**
     * A config from a JSON file (UTF-8; a leading byte order mark is skipped), see {@link #parse}.
     *
     * @throws ConfigException naming the file and the first problem
     */
    public static RunConfig load(java.nio.file.Path file) throws java.io.IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(java.nio.file.Files.readAllBytes(file)))
                    .toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new ConfigException(file + ": not UTF-8 text; save the config as UTF-8");
        }
        try {
            return parse(text);
        } catch (ConfigException e) {
            throw new ConfigException(file + ": " + e.getMessage());
        }
    }

    /** a config from JSON text (see {@link #fromJson(Map)}); a leading byte order mark is skipped */
    public static RunConfig parse(String jsonText) {
        if (jsonText.startsWith("\uFEFF")) jsonText = jsonText.substring(1);
        Object o;
        try {
            o = Json.parse(jsonText);
        } catch (RuntimeException e) {
            throw new ConfigException("the config is not valid JSON (fix it and run again): " + e.getMessage());
        }
        if (!(o instanceof Map))
            throw new ConfigException("a config must be a JSON object {\"key\": value, ...}, got " + RunKeys.describe(o));
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) o;
        return fromJson(m);
    }

    // ------------------------------------------------------------------ derived values
    /** whether this run prunes (every method but {@code dense}) */
    public boolean prunes() { return !method.equals(DENSE); }

    /** the learning rate of epoch e (0-based): lr * gamma^(number of milestones <= e), as PyTorch's MultiStepLR */
    public double lrAt(int epoch) { return decayed(lr, epoch); }

    /**
     * The learning rate of the {@code backbone.*} parameters in epoch e: backbone_lr on the same
     * step schedule, or {@link #lrAt} when backbone_lr is 0.
     */
    public double backboneLrAt(int epoch) { return backboneLr == 0 ? lrAt(epoch) : decayed(backboneLr, epoch); }

    private double decayed(double base, int epoch) {
        double v = base;
        for (int m : milestones) if (m <= epoch) v *= gamma;
        return v;
    }
}
