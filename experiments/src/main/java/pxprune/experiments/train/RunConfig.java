package pxprune.experiments.train;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import pxprune.core.io.Json;
import pxprune.datasets.DatasetRegistry;
import pxprune.nn.ModelRegistry;

/**
 * Everything that determines a run: what to prune and how (dataset, model, method, density,
 * rounds, examples per class of the pruning split, seed) and how to train it (epochs, batch size,
 * SGD learning rate, momentum, Nesterov, weight decay, step schedule, augmentation). Immutable and
 * always valid: every constructor path goes through {@link #validate()}.
 *
 * <p>As JSON (config files, {@code config.json} in a run folder) the keys are snake_case:
 * {@code dataset, model, method, density, rounds, examples_per_class, seed, epochs, batch_size, lr,
 * momentum, nesterov, weight_decay, milestones, gamma, data_root, augment}, and for segmentation
 * ({@code docs/segmentation.md}) {@code crop} (side of the random training crop, 0 = whole images),
 * {@code scale_min, scale_max} (the random rescaling range), {@code flip} (random horizontal flips;
 * all three only with {@code augment=true}) and {@code backbone_lr} (the learning rate of the
 * {@code backbone.*} parameters, 0 = lr). Those five are refused on classification sets (but
 * {@code backbone_lr} needs a segmentation model; a streamed set, ImageNet, takes {@code crop}: the side of
 * its random resized training crop and evaluation centre crop, 0 = 224), and left out of the canonical JSON at their
 * defaults (0, 1, 1, false, 0), so older configs keep their hash. {@code pretrained} (a safetensors
 * state dict of the whole model, PyTorch names) or {@code pretrained_backbone} (a classification
 * checkpoint for a segmentation model's {@code backbone.*}, or for a classifier everything but its
 * {@code fc.*}) load weights after initialisation, before pruning; paths are relative to the working
 * folder, "" (the default, left out of the canonical JSON too) means none. {@code device} ({@link DeviceSpec}:
 * {@code cpu}, the default, left out of the canonical JSON at it; {@code cuda}; {@code cuda:N}) is where the
 * run prunes and trains (a CUDA run gets its own folder). A config file may also
 * name a {@code recipe} ({@link Recipes}) whose values fill the keys it leaves out (default
 * {@code digits}). Unknown keys, values of the wrong JSON type and integers outside their key's
 * range ({@code rounds} and {@code epochs} up to {@value #MAX_ROUNDS}, {@code batch_size} up to
 * {@value #MAX_BATCH_SIZE}, {@code seed} any long) are errors that name the key, the value and what
 * is allowed. The run folder is named by {@link #hash()}: the first 12 hex digits of the
 * SHA-256 of {@link #canonicalJson()} (all keys but defaulted segmentation keys, sorted, compact).
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

    /** every key with its type, in the order they are documented */
    static final Map<String, RunKeys.Type> KEYS = keys();

    private static Map<String, RunKeys.Type> keys() {
        Map<String, RunKeys.Type> m = new LinkedHashMap<>();
        m.put("dataset", RunKeys.Type.STRING);
        m.put("model", RunKeys.Type.STRING);
        m.put("method", RunKeys.Type.STRING);
        m.put("density", RunKeys.Type.NUMBER);
        m.put("rounds", RunKeys.Type.INT);
        m.put("examples_per_class", RunKeys.Type.INT);
        m.put("seed", RunKeys.Type.INT);
        m.put("epochs", RunKeys.Type.INT);
        m.put("batch_size", RunKeys.Type.INT);
        m.put("lr", RunKeys.Type.NUMBER);
        m.put("momentum", RunKeys.Type.NUMBER);
        m.put("nesterov", RunKeys.Type.BOOL);
        m.put("weight_decay", RunKeys.Type.NUMBER);
        m.put("milestones", RunKeys.Type.INT_LIST);
        m.put("gamma", RunKeys.Type.NUMBER);
        m.put("data_root", RunKeys.Type.STRING);
        m.put("augment", RunKeys.Type.BOOL);
        m.put("crop", RunKeys.Type.INT);
        m.put("scale_min", RunKeys.Type.NUMBER);
        m.put("scale_max", RunKeys.Type.NUMBER);
        m.put("flip", RunKeys.Type.BOOL);
        m.put("backbone_lr", RunKeys.Type.NUMBER);
        m.put("pretrained", RunKeys.Type.STRING);
        m.put("pretrained_backbone", RunKeys.Type.STRING);
        m.put("device", RunKeys.Type.STRING);
        return java.util.Collections.unmodifiableMap(m);
    }

    /** the largest rounds, epochs and examples_per_class accepted */
    public static final int MAX_ROUNDS = pxprune.px.Pruner.Config.MAX_ROUNDS, MAX_EPOCHS = 1_000_000, MAX_EXAMPLES_PER_CLASS = 1_000_000;
    /** the largest batch_size accepted (larger batches are a typo, not a recipe) */
    public static final int MAX_BATCH_SIZE = 65_536;
    /** the largest crop accepted (pixels per side) */
    public static final int MAX_CROP = 8192;
    /** the largest scale_max accepted */
    public static final double MAX_SCALE = 16;

    /**
     * The keys added for segmentation and their defaults. A key at its default is left out of
     * {@link #canonicalJson()} and {@link #prettyJson()}, so every config written before these keys
     * existed keeps its hash (and its run folder).
     */
    static final Map<String, Object> OPTIONAL_DEFAULTS = Map.of("crop", 0L, "scale_min", 1.0, "scale_max", 1.0, "flip", false,
            "backbone_lr", 0.0, "pretrained", "", "pretrained_backbone", "", "device", "cpu");

    /** the allowed range of every integer key, inclusive */
    static final Map<String, long[]> INT_RANGES = Map.ofEntries(
            Map.entry("rounds", new long[] {1, MAX_ROUNDS}),
            Map.entry("examples_per_class", new long[] {1, MAX_EXAMPLES_PER_CLASS}),
            Map.entry("seed", new long[] {Long.MIN_VALUE, Long.MAX_VALUE}),
            Map.entry("epochs", new long[] {0, MAX_EPOCHS}),
            Map.entry("batch_size", new long[] {1, MAX_BATCH_SIZE}),
            Map.entry("crop", new long[] {0, MAX_CROP}),
            Map.entry("milestones", new long[] {1, MAX_EPOCHS}));

    /** "an integer in [lo, hi]" for an integer key */
    static String intRange(String key) {
        long[] r = INT_RANGES.get(key);
        return "an integer in [" + r[0] + ", " + r[1] + "]";
    }

    public RunConfig {
        milestones = List.copyOf(milestones);
        validate(dataset, model, method, density, rounds, examplesPerClass, epochs, batchSize, lr, momentum, nesterov,
                weightDecay, milestones, gamma, dataRoot);
        validateSegmentation(dataset, model, augment, crop, scaleMin, scaleMax, flip, backboneLr);
        if (pretrained == null || pretrainedBackbone == null)
            throw bad(pretrained == null ? "pretrained" : "pretrained_backbone", "a file name or \"\" (none)", "null");
        if (!pretrained.isEmpty() && !pretrainedBackbone.isEmpty())
            throw new ConfigException("config keys 'pretrained' and 'pretrained_backbone' are both set; give one: pretrained "
                    + "loads the whole model, pretrained_backbone only its backbone (a classifier's layers but fc)");
        if (!DeviceSpec.isValid(device)) throw bad("device", DeviceSpec.FORMS, quote(device));
    }

    /** a config on the CPU */
    public RunConfig(String dataset, String model, String method, double density, int rounds, int examplesPerClass, long seed,
                     int epochs, int batchSize, double lr, double momentum, boolean nesterov, double weightDecay,
                     List<Integer> milestones, double gamma, String dataRoot, boolean augment, int crop, double scaleMin,
                     double scaleMax, boolean flip, double backboneLr, String pretrained, String pretrainedBackbone) {
        this(dataset, model, method, density, rounds, examplesPerClass, seed, epochs, batchSize, lr, momentum, nesterov, weightDecay,
                milestones, gamma, dataRoot, augment, crop, scaleMin, scaleMax, flip, backboneLr, pretrained, pretrainedBackbone, "cpu");
    }

    /** where the run prunes and trains ({@link DeviceSpec#parse} of {@link #device()}) */
    public DeviceSpec deviceSpec() { return DeviceSpec.parse(device); }

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
    public static List<String> keyNames() { return List.copyOf(KEYS.keySet()); }

    // ------------------------------------------------------------------ validation
    private static void validate(String dataset, String model, String method, double density, int rounds,
                                 int examplesPerClass, int epochs, int batchSize, double lr, double momentum,
                                 boolean nesterov, double weightDecay, List<Integer> milestones, double gamma,
                                 String dataRoot) {
        if (!DatasetRegistry.names().contains(dataset))
            throw bad("dataset", "one of " + String.join(", ", DatasetRegistry.names()), quote(dataset));
        if (!ModelRegistry.contains(model))
            throw bad("model", "one of " + String.join(", ", ModelRegistry.names()), quote(model));
        if (!Methods.names().contains(method))
            throw bad("method", "one of " + String.join(", ", Methods.names()), quote(method));
        if (!(density > 0 && density <= 1))
            throw bad("density", "a number in (0, 1] (the fraction of prunable weights kept)", num(density));
        if (method.equals(DENSE) && density != 1)
            throw new ConfigException("config key 'density': method 'dense' keeps every weight, so density must be 1, got "
                    + num(density) + "; set density=1 or choose a pruning method");
        checkInt("rounds", rounds);
        checkInt("examples_per_class", examplesPerClass);
        checkInt("epochs", epochs);
        checkInt("batch_size", batchSize);
        if (!(lr > 0) || !Double.isFinite(lr)) throw bad("lr", "a number > 0", num(lr));
        if (!(momentum >= 0 && momentum < 1)) throw bad("momentum", "a number in [0, 1)", num(momentum));
        if (nesterov && momentum == 0)
            throw new ConfigException("config key 'nesterov': Nesterov momentum needs momentum > 0, got momentum=0; "
                    + "set nesterov=false or a momentum such as 0.9");
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) throw bad("weight_decay", "a number >= 0", num(weightDecay));
        for (int i = 0; i < milestones.size(); i++) {
            Integer m = milestones.get(i);
            if (m == null || m < 1 || m > MAX_EPOCHS || (i > 0 && m <= milestones.get(i - 1)))
                throw bad("milestones", "strictly increasing epochs in [1, " + MAX_EPOCHS + "], e.g. [80, 120]", milestones.toString());
        }
        if (!(gamma > 0) || !Double.isFinite(gamma)) throw bad("gamma", "a number > 0 (the lr factor at each milestone)", num(gamma));
        if (dataRoot == null || dataRoot.isEmpty())
            throw bad("data_root", "a folder name (e.g. \"data\")", "an empty string");
    }

    private static void validateSegmentation(String dataset, String model, boolean augment, int crop, double scaleMin, double scaleMax,
                                             boolean flip, double backboneLr) {
        checkInt("crop", crop);
        if (!(scaleMin > 0 && scaleMin <= MAX_SCALE))
            throw bad("scale_min", "a number in (0, " + num(MAX_SCALE) + "] (the smallest random rescaling factor)", num(scaleMin));
        if (!(scaleMax >= scaleMin && scaleMax <= MAX_SCALE))
            throw bad("scale_max", "a number in [scale_min=" + num(scaleMin) + ", " + num(MAX_SCALE)
                    + "] (the largest random rescaling factor)", num(scaleMax));
        if (!(backboneLr >= 0) || !Double.isFinite(backboneLr))
            throw bad("backbone_lr", "a number >= 0 (the learning rate of backbone.* parameters; 0 = the same as lr)", num(backboneLr));
        boolean seg = DatasetRegistry.isSegmentation(dataset);
        if (seg && augment && crop == 0)
            throw new ConfigException("config key 'crop': augment=true on segmentation set '" + dataset + "' needs a crop size "
                    + "(random scaling changes the image size), got crop=0; set crop (e.g. 32 for seg_demo, 513 for VOC) or augment=false");
        if (!seg) {
            // a streamed set (ImageNet) takes crop: the side of its training and evaluation crops (0: the set's own, 224)
            boolean cropOk = DatasetRegistry.isStreamed(dataset);
            String used = crop != 0 && !cropOk ? "crop" : scaleMin != 1 ? "scale_min" : scaleMax != 1 ? "scale_max" : flip ? "flip" : null;
            if (used != null)
                throw new ConfigException("config key '" + used + "': only segmentation datasets use it, and '" + dataset
                        + "' is a classification set; remove the key (the classification augmentation is augment=true)");
        }
        if (backboneLr != 0 && !ModelRegistry.isSegmentation(model))
            throw new ConfigException("config key 'backbone_lr': only segmentation models have backbone.* parameters, and '"
                    + model + "' is a classifier; remove the key or set it to 0");
        if (seg != ModelRegistry.isSegmentation(model))
            throw new ConfigException("config key 'model': " + (seg ? "dataset '" + dataset + "' is a segmentation set but model '"
                    + model + "' is a classifier; use a segmentation model (e.g. " + (dataset.equals("seg_demo")
                    ? "deeplabv3_resnet20" : "deeplabv3_resnet50") + ")" : "model '" + model
                    + "' is a segmentation model but dataset '" + dataset + "' is a classification set; use a classifier (e.g. resnet20)"));
    }

    /** whether this run segments (its dataset gives a label per pixel) */
    public boolean segmentation() { return DatasetRegistry.isSegmentation(dataset); }

    static void checkInt(String key, long v) {
        long[] r = INT_RANGES.get(key);
        if (v < r[0] || v > r[1]) throw bad(key, intRange(key), String.valueOf(v));
    }

    private static ConfigException bad(String key, String expected, String got) {
        return new ConfigException("config key '" + key + "': expected " + expected + ", got " + got);
    }

    private static String quote(String s) { return s == null ? "null" : "\"" + s + "\""; }

    private static String num(double d) { return Double.toString(d); }

    // ------------------------------------------------------------------ JSON form
    /** the config as a JSON object: keys in documentation order, numbers as Long or Double */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dataset", dataset);
        m.put("model", model);
        m.put("method", method);
        m.put("density", density);
        m.put("rounds", (long) rounds);
        m.put("examples_per_class", (long) examplesPerClass);
        m.put("seed", seed);
        m.put("epochs", (long) epochs);
        m.put("batch_size", (long) batchSize);
        m.put("lr", lr);
        m.put("momentum", momentum);
        m.put("nesterov", nesterov);
        m.put("weight_decay", weightDecay);
        List<Object> ms = new ArrayList<>();
        for (int v : milestones) ms.add((long) v);
        m.put("milestones", ms);
        m.put("gamma", gamma);
        m.put("data_root", dataRoot);
        m.put("augment", augment);
        m.put("crop", (long) crop);
        m.put("scale_min", scaleMin);
        m.put("scale_max", scaleMax);
        m.put("flip", flip);
        m.put("backbone_lr", backboneLr);
        m.put("pretrained", pretrained);
        m.put("pretrained_backbone", pretrainedBackbone);
        m.put("device", device);
        return m;
    }

    /** {@link #toMap()} without the segmentation keys that are at their defaults ({@link #OPTIONAL_DEFAULTS}) */
    private Map<String, Object> written() {
        TreeMap<String, Object> m = new TreeMap<>(toMap());
        OPTIONAL_DEFAULTS.forEach((k, v) -> { if (v.equals(m.get(k))) m.remove(k); });
        return m;
    }

    /**
     * Compact JSON with the keys sorted: the form that {@link #hash()} digests. Segmentation keys at
     * their defaults are left out, so that configs from before they existed keep their hash.
     */
    public String canonicalJson() { return Json.write(written()); }

    /** indented JSON with the keys sorted (config.json in a run folder), segmentation keys at their defaults left out */
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
        for (Map.Entry<String, ?> e : changes.entrySet()) {
            RunKeys.Type t = KEYS.get(e.getKey());
            if (t == null) throw unknownKey(e.getKey());
            m.put(e.getKey(), RunKeys.typed(e.getKey(), t, e.getValue()));
        }
        return fromTypedMap(m);
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
                        + String.join(", ", KEYS.keySet()) + ")");
            String key = assignment.substring(0, eq).strip(), value = assignment.substring(eq + 1).strip();
            RunKeys.Type t = KEYS.get(key);
            if (t == null) throw unknownKey(key);
            changes.put(key, RunKeys.parseValue(key, t, value));
        }
        return with(changes);
    }

    static ConfigException unknownKey(String key) {
        return new ConfigException("unknown config key '" + key + "'; valid keys: " + String.join(", ", KEYS.keySet())
                + (key.equals("recipe") ? " (recipe is only read from config files)" : ""));
    }

    private static RunConfig fromTypedMap(Map<String, Object> m) {
        @SuppressWarnings("unchecked")
        List<Object> ms = (List<Object>) m.get("milestones");
        List<Integer> milestones = new ArrayList<>();
        for (Object o : ms) milestones.add(((Number) o).intValue());
        return new RunConfig((String) m.get("dataset"), (String) m.get("model"), (String) m.get("method"),
                (Double) m.get("density"), intOf(m, "rounds"), intOf(m, "examples_per_class"),
                ((Number) m.get("seed")).longValue(), intOf(m, "epochs"), intOf(m, "batch_size"), (Double) m.get("lr"),
                (Double) m.get("momentum"), (Boolean) m.get("nesterov"), (Double) m.get("weight_decay"), milestones,
                (Double) m.get("gamma"), (String) m.get("data_root"), (Boolean) m.get("augment"), intOf(m, "crop"),
                (Double) m.get("scale_min"), (Double) m.get("scale_max"), (Boolean) m.get("flip"), (Double) m.get("backbone_lr"),
                (String) m.get("pretrained"), (String) m.get("pretrained_backbone"), (String) m.get("device"));
    }

    private static int intOf(Map<String, Object> m, String k) { return ((Number) m.get(k)).intValue(); }

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
