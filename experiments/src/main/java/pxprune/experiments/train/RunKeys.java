package pxprune.experiments.train;

import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import pxprune.core.io.Json;
import pxprune.datasets.DatasetRegistry;
import pxprune.kernels.DeviceId;
import pxprune.nn.ModelRegistry;

import static pxprune.experiments.train.RunConfig.MAX_BATCH_SIZE;
import static pxprune.experiments.train.RunConfig.MAX_CROP;
import static pxprune.experiments.train.RunConfig.MAX_EPOCHS;
import static pxprune.experiments.train.RunConfig.MAX_EXAMPLES_PER_CLASS;
import static pxprune.experiments.train.RunConfig.MAX_ROUNDS;
import static pxprune.experiments.train.RunConfig.MAX_SCALE;
import static pxprune.experiments.train.RunKeys.Section.DATA;
import static pxprune.experiments.train.RunKeys.Section.DEVICE;
import static pxprune.experiments.train.RunKeys.Section.MODEL;
import static pxprune.experiments.train.RunKeys.Section.PRUNE;
import static pxprune.experiments.train.RunKeys.Section.TRAIN;
import static pxprune.experiments.train.RunKeys.Type.BOOL;
import static pxprune.experiments.train.RunKeys.Type.INT;
import static pxprune.experiments.train.RunKeys.Type.INT_LIST;
import static pxprune.experiments.train.RunKeys.Type.NUMBER;
import static pxprune.experiments.train.RunKeys.Type.STRING;

/**
 * The keys of a {@link RunConfig}, declared once, in sections: each with its JSON type, its default
 * where it has one, its checks and its help. The JSON form, {@code --set}, the checks of every
 * constructor, the help text of {@code pxprune run} and the canonical JSON that names a run folder
 * are derived from this table.
 *
 * <p>Each key is a component of the {@link RunConfig} record (the key in camelCase); the record's
 * component order is the keys' flat order (in {@link RunConfig#keyNames()}, {@link RunConfig#toMap()}
 * and the checks), the sections are the order of the declaration and of the help text. A key
 * declared with a default is optional: at its default it is left out of the canonical JSON, so the
 * configs written before the key existed keep their hash.
 */
final class RunKeys {
    private RunKeys() {}

    /** the JSON value types of the keys */
    enum Type {
        STRING("a string"), INT("an integer"), NUMBER("a number"), BOOL("a boolean (true or false)"),
        INT_LIST("a list of integers, e.g. [80, 120]");

        final String what;

        Type(String what) { this.what = what; }
    }

    /** a check of a whole config; throws a {@link ConfigException} naming the key */
    interface Rule {
        void check(RunConfig c);
    }

    /** one key: its section, name, type, default (null: none, always written), help and checks, in the order they run */
    static final class Key {
        final Section section;
        final String name, help;
        final Type type;
        final Object dflt;
        long lo = Long.MIN_VALUE, hi = Long.MAX_VALUE;
        final List<Rule> rules = new ArrayList<>();
        /** what the key takes, as the help text says it (null: the type, with the range of an integer) */
        String takes;
        RecordComponent component;

        Key(Section section, String name, Type type, Object dflt, String help) {
            this.section = section;
            this.name = name;
            this.type = type;
            this.dflt = dflt;
            this.help = help;
        }

        /** integers in [lo, hi] only, checked as the value is read and by the constructor */
        Key range(long lo, long hi) {
            this.lo = lo;
            this.hi = hi;
            return rule(c -> checkInt(this, ((Number) value(c)).longValue()));
        }

        /** a value for which ok fails is refused: "expected EXPECTED, got VALUE" */
        Key expect(Predicate<RunConfig> ok, Function<RunConfig, String> expected) {
            return expect(ok, expected, c -> shown(value(c)));
        }

        /** as above, with a fixed text, which the help text shows as what the key takes (the first, of several) */
        Key expect(Predicate<RunConfig> ok, String expected) {
            return expect(ok, expected, c -> shown(value(c)));
        }

        /** as above, with the value as got says it */
        Key expect(Predicate<RunConfig> ok, String expected, Function<RunConfig, String> got) {
            if (takes == null) takes = expected;
            return expect(ok, c -> expected, got);
        }

        private Key expect(Predicate<RunConfig> ok, Function<RunConfig, String> expected, Function<RunConfig, String> got) {
            return rule(c -> { if (!ok.test(c)) throw bad(name, expected.apply(c), got.apply(c)); });
        }

        /** one of the names the registry lists */
        Key oneOf(Supplier<List<String>> names) {
            return expect(c -> value(c) != null && names.get().contains((String) value(c)),
                    c -> "one of " + String.join(", ", names.get()));
        }

        /** a config for which refused holds is refused with the message "config key 'NAME': " + why */
        Key unless(Predicate<RunConfig> refused, Function<RunConfig, String> why) {
            return rule(c -> { if (refused.test(c)) throw new ConfigException("config key '" + name + "': " + why.apply(c)); });
        }

        Key rule(Rule r) {
            rules.add(r);
            return this;
        }

        /** what the key takes, as a value of the wrong type or range is told */
        String expected() { return type == Type.INT ? "an integer in [" + lo + ", " + hi + "]" : type.what; }

        /** what the key takes, as the help text says it */
        String takes() {
            return takes != null ? takes : lo == Long.MIN_VALUE && hi == Long.MAX_VALUE ? type.what : expected();
        }

        /** the key's value in c (a record component: String, Integer, Long, Double, Boolean or List of Integer) */
        Object value(RunConfig c) {
            try {
                return component.getAccessor().invoke(c);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("RunConfig." + component.getName() + "() cannot be read", e);
            }
        }

        /** the key's value in c as JSON gives it: integers as Long, lists of Long */
        Object json(RunConfig c) {
            Object v = value(c);
            if (v instanceof Integer i) return i.longValue();
            if (v instanceof List<?> l) return new ArrayList<Object>(l.stream().map(o -> ((Number) o).longValue()).toList());
            return v;
        }

        /** a JSON value (as {@link #typed} returns it) as the record component's type */
        Object argument(Object v) {
            Class<?> t = component.getType();
            if (t == int.class) return ((Number) v).intValue();
            if (t == long.class) return ((Number) v).longValue();
            if (t == List.class) return ((List<?>) v).stream().map(o -> ((Number) o).intValue()).toList();
            return v;
        }
    }

    // ------------------------------------------------------------------ the declaration
    /** the sections of the declaration and the help text, in order */
    enum Section {
        DATA("the data set, where it lies and how training augments it"),
        MODEL("the network and the weights it starts from"),
        PRUNE("how the network is pruned at initialisation"),
        TRAIN("how the pruned network is trained (SGD, step schedule)"),
        DEVICE("where the run prunes and trains");

        final String what;

        Section(String what) { this.what = what; }
    }

    /** every key, by section */
    private static final List<Key> DECLARED = List.of(
            key(DATA, "dataset", STRING, null, "the data set (pxprune list names them)")
                    .oneOf(DatasetRegistry::names),
            key(DATA, "data_root", STRING, null, "the folder the data sets lie in")
                    .expect(c -> c.dataRoot() != null && !c.dataRoot().isEmpty(), "a folder name (e.g. \"data\")",
                            c -> "an empty string"),
            key(DATA, "augment", BOOL, null, "augment the training images"),
            key(DATA, "crop", INT, 0L, "the side of the random training crop (segmentation; 0: whole images) "
                    + "or of imagenet's crops (0: 224)")
                    .range(0, MAX_CROP),
            key(DATA, "scale_min", NUMBER, 1.0, "segmentation, with augment")
                    .expect(c -> c.scaleMin() > 0 && c.scaleMin() <= MAX_SCALE,
                            "a number in (0, " + num(MAX_SCALE) + "] (the smallest random rescaling factor)"),
            key(DATA, "scale_max", NUMBER, 1.0, "segmentation, with augment: the largest random rescaling factor, in [scale_min, "
                    + num(MAX_SCALE) + "]")
                    .expect(c -> c.scaleMax() >= c.scaleMin() && c.scaleMax() <= MAX_SCALE,
                            c -> "a number in [scale_min=" + num(c.scaleMin()) + ", " + num(MAX_SCALE)
                                    + "] (the largest random rescaling factor)"),
            key(DATA, "flip", BOOL, false, "segmentation, with augment: random horizontal flips"),
            key(MODEL, "model", STRING, null, "the network (pxprune list names them)")
                    .oneOf(ModelRegistry::names),
            key(MODEL, "pretrained", STRING, "", "safetensors weights of the whole model (PyTorch names), loaded before pruning")
                    .expect(c -> c.pretrained() != null, "a file name or \"\" (none)"),
            key(MODEL, "pretrained_backbone", STRING, "", "a classifier's weights for a segmentation model's backbone.* "
                    + "(or for a classifier: all but fc.*); not with pretrained")
                    .expect(c -> c.pretrainedBackbone() != null, "a file name or \"\" (none)"),
            key(PRUNE, "method", STRING, null, "the pruning method (pxprune list names them), or dense: no pruning")
                    .oneOf(Methods::names),
            key(PRUNE, "density", NUMBER, null, "the density pruned to, 1 with method dense")
                    .expect(c -> c.density() > 0 && c.density() <= 1, "a number in (0, 1] (the fraction of prunable weights kept)")
                    .unless(c -> c.method().equals(RunConfig.DENSE) && c.density() != 1,
                            c -> "method 'dense' keeps every weight, so density must be 1, got " + num(c.density())
                                    + "; set density=1 or choose a pruning method"),
            key(PRUNE, "rounds", INT, null, "pruning rounds")
                    .range(1, MAX_ROUNDS),
            key(PRUNE, "examples_per_class", INT, null, "examples of each class in the pruning split")
                    .range(1, MAX_EXAMPLES_PER_CLASS),
            key(PRUNE, "seed", INT, null, "draws the pruning split and initialises the model and training"),
            key(TRAIN, "epochs", INT, null, "training epochs after pruning")
                    .range(0, MAX_EPOCHS),
            key(TRAIN, "batch_size", INT, null, "training examples per step")
                    .range(1, MAX_BATCH_SIZE),
            key(TRAIN, "lr", NUMBER, null, "the learning rate")
                    .expect(c -> c.lr() > 0 && Double.isFinite(c.lr()), "a number > 0"),
            key(TRAIN, "backbone_lr", NUMBER, 0.0, "segmentation models")
                    .expect(c -> c.backboneLr() >= 0 && Double.isFinite(c.backboneLr()),
                            "a number >= 0 (the learning rate of backbone.* parameters; 0 = the same as lr)"),
            key(TRAIN, "momentum", NUMBER, null, "SGD momentum")
                    .expect(c -> c.momentum() >= 0 && c.momentum() < 1, "a number in [0, 1)"),
            key(TRAIN, "nesterov", BOOL, null, "Nesterov momentum (needs momentum > 0)")
                    .unless(c -> c.nesterov() && c.momentum() == 0,
                            c -> "Nesterov momentum needs momentum > 0, got momentum=0; set nesterov=false or a momentum such as 0.9"),
            key(TRAIN, "weight_decay", NUMBER, null, "L2 weight decay")
                    .expect(c -> c.weightDecay() >= 0 && Double.isFinite(c.weightDecay()), "a number >= 0"),
            key(TRAIN, "milestones", INT_LIST, null, "the epochs at which the learning rates are multiplied by gamma")
                    .expect(c -> increasing(c.milestones()), "strictly increasing epochs in [1, " + MAX_EPOCHS + "], e.g. [80, 120]"),
            key(TRAIN, "gamma", NUMBER, null, "step decay")
                    .expect(c -> c.gamma() > 0 && Double.isFinite(c.gamma()), "a number > 0 (the lr factor at each milestone)"),
            key(DEVICE, "device", STRING, "cpu", "a CUDA run has its own folder").expect(c -> DeviceId.isValid(c.device()), DeviceId.FORMS));

    /** every key, in the record's component order */
    static final List<Key> KEYS = inComponentOrder(DECLARED);

    /** the checks that span sections, after every key's own (the order decides which of several errors is reported) */
    static final List<Rule> RULES = List.of(
            c -> {
                if (DatasetRegistry.isSegmentation(c.dataset()) && c.augment() && c.crop() == 0)
                    throw new ConfigException("config key 'crop': augment=true on segmentation set '" + c.dataset() + "' needs a crop "
                            + "size (random scaling changes the image size), got crop=0; set crop (e.g. 32 for seg_demo, 513 for VOC) "
                            + "or augment=false");
            },
            c -> {
                if (DatasetRegistry.isSegmentation(c.dataset())) return;
                // a streamed set (ImageNet) takes crop: the side of its training and evaluation crops (0: the set's own, 224)
                boolean cropOk = DatasetRegistry.isStreamed(c.dataset());
                String used = c.crop() != 0 && !cropOk ? "crop" : c.scaleMin() != 1 ? "scale_min" : c.scaleMax() != 1 ? "scale_max"
                        : c.flip() ? "flip" : null;
                if (used != null)
                    throw new ConfigException("config key '" + used + "': only segmentation datasets use it, and '" + c.dataset()
                            + "' is a classification set; remove the key (the classification augmentation is augment=true)");
            },
            c -> {
                if (c.backboneLr() != 0 && !ModelRegistry.isSegmentation(c.model()))
                    throw new ConfigException("config key 'backbone_lr': only segmentation models have backbone.* parameters, and '"
                            + c.model() + "' is a classifier; remove the key or set it to 0");
            },
            c -> {
                boolean seg = DatasetRegistry.isSegmentation(c.dataset());
                if (seg != ModelRegistry.isSegmentation(c.model()))
                    throw new ConfigException("config key 'model': " + (seg ? "dataset '" + c.dataset()
                            + "' is a segmentation set but model '" + c.model() + "' is a classifier; use a segmentation model (e.g. "
                            + (c.dataset().equals("seg_demo") ? "deeplabv3_resnet20" : "deeplabv3_resnet50") + ")" : "model '"
                            + c.model() + "' is a segmentation model but dataset '" + c.dataset()
                            + "' is a classification set; use a classifier (e.g. resnet20)"));
            },
            c -> {
                if (!c.pretrained().isEmpty() && !c.pretrainedBackbone().isEmpty())
                    throw new ConfigException("config keys 'pretrained' and 'pretrained_backbone' are both set; give one: pretrained "
                            + "loads the whole model, pretrained_backbone only its backbone (a classifier's layers but fc)");
            });

    private static Key key(Section section, String name, Type type, Object dflt, String help) {
        return new Key(section, name, type, dflt, help);
    }

    /** the keys in the record's component order, each tied to its component (the key in camelCase) */
    private static List<Key> inComponentOrder(List<Key> keys) {
        Map<String, Key> byComponent = new LinkedHashMap<>();
        for (Key k : keys) byComponent.put(camel(k.name), k);
        RecordComponent[] rc = RunConfig.class.getRecordComponents();
        List<Key> out = new ArrayList<>();
        for (RecordComponent c : rc) {
            Key k = byComponent.remove(c.getName());
            if (k == null) throw new IllegalStateException("RunConfig." + c.getName() + " has no declared key");
            k.component = c;
            out.add(k);
        }
        if (!byComponent.isEmpty()) throw new IllegalStateException("keys without a RunConfig component: " + byComponent.keySet());
        return List.copyOf(out);
    }

    private static String camel(String snake) {
        StringBuilder b = new StringBuilder();
        for (String p : snake.split("_")) b.append(b.isEmpty() ? p : Character.toUpperCase(p.charAt(0)) + p.substring(1));
        return b.toString();
    }

    private static final Map<String, Key> BY_NAME = byName();

    private static Map<String, Key> byName() {
        Map<String, Key> m = new LinkedHashMap<>();
        for (Key k : KEYS) m.put(k.name, k);
        return java.util.Collections.unmodifiableMap(m);
    }

    private static final Constructor<RunConfig> CANONICAL = canonical();

    private static Constructor<RunConfig> canonical() {
        try {
            return RunConfig.class.getDeclaredConstructor(
                    Arrays.stream(RunConfig.class.getRecordComponents()).map(RecordComponent::getType).toArray(Class<?>[]::new));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("RunConfig has no canonical constructor", e);
        }
    }

    private static boolean increasing(List<Integer> ms) {
        for (int i = 0; i < ms.size(); i++) {
            Integer m = ms.get(i);
            if (m == null || m < 1 || m > MAX_EPOCHS || (i > 0 && m <= ms.get(i - 1))) return false;
        }
        return true;
    }

    // ------------------------------------------------------------------ derived
    /** the key names in flat order */
    static List<String> names() { return List.copyOf(BY_NAME.keySet()); }

    /** the key of a name; an unknown one is an error that lists the valid keys */
    static Key key(String name) {
        Key k = BY_NAME.get(name);
        if (k == null)
            throw new ConfigException("unknown config key '" + name + "'; valid keys: " + String.join(", ", BY_NAME.keySet())
                    + (name.equals("recipe") ? " (recipe is only read from config files)" : ""));
        return k;
    }

    /** runs every key's checks in flat order, then {@link #RULES}: the first problem is thrown */
    static void validate(RunConfig c) {
        for (Key k : KEYS) for (Rule r : k.rules) r.check(c);
        for (Rule r : RULES) r.check(c);
    }

    /** the config as a JSON object: keys in flat order, numbers as Long or Double */
    static Map<String, Object> toMap(RunConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Key k : KEYS) m.put(k.name, k.json(c));
        return m;
    }

    /** whether a key of {@link #toMap} is at its default (and so left out of the canonical JSON) */
    static boolean atDefault(String name, Object json) {
        Key k = BY_NAME.get(name);
        return k.dflt != null && k.dflt.equals(json);
    }

    /** a config from a JSON object with every key, its values as {@link #typed} returns them */
    static RunConfig fromTypedMap(Map<String, Object> m) {
        Object[] args = new Object[KEYS.size()];
        for (int i = 0; i < args.length; i++) args[i] = KEYS.get(i).argument(m.get(KEYS.get(i).name));
        try {
            return CANONICAL.newInstance(args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("RunConfig's canonical constructor cannot be called", e);
        }
    }

    /**
     * The keys by section, one line each (name, what it means, what it takes, the default of an
     * optional key), for the help text of {@code pxprune run}.
     */
    static String help() {
        StringBuilder b = new StringBuilder("keys (in a CONFIG file, or --set key=value; a recipe gives those a config leaves out):\n");
        Section section = null;
        for (Key k : DECLARED) {
            if (k.section != section) {
                section = k.section;
                b.append("  ").append(section.name().toLowerCase(java.util.Locale.ROOT)).append(": ").append(section.what).append('\n');
            }
            b.append(String.format(java.util.Locale.ROOT, "    %-20s %s; %s", k.name, k.help, k.takes()));
            if (k.dflt != null) b.append("; default ").append(Json.write(k.dflt));
            b.append('\n');
        }
        return b.toString();
    }

    // ------------------------------------------------------------------ reading values
    static void checkInt(Key k, long v) {
        if (v < k.lo || v > k.hi) throw bad(k.name, k.expected(), String.valueOf(v));
    }

    static ConfigException bad(String key, String expected, String got) {
        return new ConfigException("config key '" + key + "': expected " + expected + ", got " + got);
    }

    /** a value in an error message: strings quoted, numbers as Java writes them */
    private static String shown(Object v) {
        if (v == null) return "null";
        if (v instanceof String s) return "\"" + s + "\"";
        return v.toString();
    }

    static String num(double d) { return Double.toString(d); }

    /** reads a --set value as the key's type */
    static Object parseValue(Key k, String v) {
        try {
            return switch (k.type) {
                case STRING -> v;
                case INT -> {
                    long l;
                    try {
                        l = Long.parseLong(v);
                    } catch (NumberFormatException e) {
                        throw new ConfigException("config key '" + k.name + "': expected " + k.expected() + ", got \"" + v + "\"");
                    }
                    checkInt(k, l);
                    yield l;
                }
                case NUMBER -> {
                    double d = Double.parseDouble(v);
                    if (!Double.isFinite(d)) throw new NumberFormatException();
                    yield d;
                }
                case BOOL -> {
                    if (v.equalsIgnoreCase("true")) yield Boolean.TRUE;
                    if (v.equalsIgnoreCase("false")) yield Boolean.FALSE;
                    throw new NumberFormatException();
                }
                case INT_LIST -> {
                    String s = v.startsWith("[") && v.endsWith("]") ? v.substring(1, v.length() - 1) : v;
                    List<Object> out = new ArrayList<>();
                    if (!s.isBlank()) for (String p : s.split(",")) out.add(Long.parseLong(p.strip()));
                    yield out;
                }
            };
        } catch (NumberFormatException e) {
            throw new ConfigException("config key '" + k.name + "': expected " + k.type.what + ", got \"" + v + "\"");
        }
    }

    /** checks a JSON value's type for a key and converts it to the canonical Java type */
    static Object typed(Key k, Object v) {
        switch (k.type) {
            case STRING -> { if (v instanceof String) return v; }
            case INT -> {
                if (v instanceof Long || v instanceof Integer) {
                    long l = ((Number) v).longValue();
                    checkInt(k, l);
                    return l;
                }
                if (v instanceof java.math.BigInteger b)
                    throw new ConfigException("config key '" + k.name + "': expected " + k.expected() + ", got " + b);
                throw new ConfigException("config key '" + k.name + "': expected " + k.expected() + ", got " + describe(v));
            }
            case NUMBER -> {
                if (v instanceof Number n && !(v instanceof Float) && Double.isFinite(n.doubleValue())) return n.doubleValue();
                if (v instanceof Float f && Double.isFinite(f)) return f.doubleValue();
            }
            case BOOL -> { if (v instanceof Boolean) return v; }
            case INT_LIST -> {
                if (v instanceof List<?> l) {
                    List<Object> out = new ArrayList<>();
                    boolean ok = true;
                    for (Object o : l) {
                        if ((o instanceof Long || o instanceof Integer) && Math.abs(((Number) o).longValue()) <= Integer.MAX_VALUE)
                            out.add(((Number) o).longValue());
                        else ok = false;
                    }
                    if (ok) return out;
                }
                if (v instanceof int[] a) {
                    List<Object> out = new ArrayList<>();
                    for (int x : a) out.add((long) x);
                    return out;
                }
            }
        }
        throw new ConfigException("config key '" + k.name + "': expected " + k.type.what + ", got " + describe(v));
    }

    static String describe(Object v) {
        if (v == null) return "null";
        if (v instanceof String s) return "the string \"" + s + "\"";
        if (v instanceof Boolean b) return "the boolean " + b;
        if (v instanceof Double d) return "the number " + d;
        if (v instanceof Number n) return "the integer " + n;
        if (v instanceof List<?> l) return "the list " + Json.write(l);
        if (v instanceof Map<?, ?>) return "an object";
        return v.toString();
    }
}
