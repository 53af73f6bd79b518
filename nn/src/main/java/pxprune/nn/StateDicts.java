package pxprune.nn;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.core.io.SafeTensors;
import pxprune.kernels.DType;

/**
 * A module's parameters and buffers as safetensors files with PyTorch's state_dict keys
 * ({@code conv.weight}, {@code bn.running_var}, {@code blocks.3.shortcut.1.num_batches_tracked}),
 * so that checkpoints move between PyTorch and pxprune. Floats keep their type;
 * {@code num_batches_tracked} is written as I64 of shape [] (as PyTorch).
 *
 * <p>Loading copies values into the module's existing tensors (converting F64/F32 and integer
 * types as needed) after checking every key and shape first: on any mismatch it throws one
 * {@link IllegalArgumentException} naming all missing, unexpected and mis-shaped keys, and loads
 * nothing. A {@code num_batches_tracked} of shape [] or [1] is accepted. When the file has another
 * known layout ({@link ModelRegistry#describeLayout}: a torchvision, VainF or open_lth model) the
 * message's first line says which, and which model name (and number of classes) fits it.
 *
 * <p>{@link #loadBackbone} loads a classification checkpoint (e.g. torchvision's ImageNet ResNet:
 * {@code conv1.weight}, {@code layer1.0...}, {@code fc.*}) into a segmentation model's
 * {@code backbone.*}, ignoring {@code fc.*}; with an empty prefix, into a classifier whose own
 * classifier {@code fc.*} is left as it is (transfer learning to another number of classes).
 */
public final class StateDicts {
    private StateDicts() {}

    private static final Set<String> READABLE = Set.of("F32", "F64", "I64", "I32", "U8", "BOOL");

    public static void save(Module m, Path path) throws IOException { save(m, path, Map.of("format", "pt")); }

    public static void save(Module m, Path path, Map<String, String> metadata) throws IOException {
        SafeTensors.write(path, entries(m), metadata);
    }

    /** the module's state as safetensors entries, in state_dict order */
    public static Map<String, SafeTensors.Entry> entries(Module m) {
        Map<String, SafeTensors.Entry> out = new LinkedHashMap<>();
        m.stateDict().forEach((k, t) -> out.put(k, SafeTensors.Entry.of(t)));
        return out;
    }

    /**
     * Loads a whole-model safetensors file. Names, shapes and dtypes are checked from the header
     * alone, so a checkpoint of another model is refused without reading its data; then only the
     * model's entries are read.
     */
    public static void load(Module m, Path path) throws IOException {
        SafeTensors.Header h = SafeTensors.header(path);
        Map<String, Tensor> dst = m.stateDict();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        List<String> bad = new ArrayList<>();
        h.entries().forEach((k, info) -> {
            shapes.put(k, info.shape());
            if (dst.containsKey(k) && !READABLE.contains(info.dtype())) bad.add(k + " (" + info.dtype() + ")");
        });
        check(m, dst, shapes, "", bad);
        load(m, SafeTensors.read(path, dst::containsKey), "");
    }

    /**
     * Loads a classification checkpoint's feature layers into the submodule of {@code model} named
     * by {@code prefix} (e.g. "backbone." of a DeepLab), all or nothing: every parameter and buffer
     * of that submodule must be in the file with its shape; the file's {@code fc.*} entries (the
     * classifier) are ignored, any other entry it has is an error. The rest of the model is left as
     * it is. For a torchvision ImageNet ResNet file ({@code resnet50.safetensors}: {@code conv1.weight},
     * {@code layer1.0.conv1.weight}, ..., {@code fc.weight}) into {@code deeplabv3_resnet50}'s or
     * {@code deeplabv3plus_resnet50}'s {@code backbone.}; an open_lth CIFAR resnet20 file into
     * {@code deeplabv3_resnet20}'s.
     *
     * With an empty prefix the model itself is the backbone, less its own {@code fc.*}: a
     * classifier initialised from one pre-trained on other classes (ImageNet's ResNet-50 for
     * CIFAR-10), its fc left as initialised.
     *
     * @throws IllegalArgumentException if the model has no such submodule or the file does not fit it
     *     (the message names every missing, unexpected and mis-shaped key and the file's layout)
     */
    public static void loadBackbone(Module model, Path path, String prefix) throws IOException {
        String name = prefix.endsWith(".") ? prefix.substring(0, prefix.length() - 1) : prefix;
        Module sub = name.isEmpty() ? model : model.namedModules().get(name);
        if (sub == null)
            throw new IllegalArgumentException("the model (" + model.getClass().getSimpleName() + ") has no submodule '" + name
                    + "' to load a backbone into; its top-level modules are " + model.children().keySet());
        SafeTensors.Header h = SafeTensors.header(path);
        Map<String, Tensor> dst = new LinkedHashMap<>(sub.stateDict());
        if (name.isEmpty()) { // a classifier: everything but its own classifier, fc.*
            if (!dst.keySet().removeIf(k -> k.startsWith("fc.")))
                throw new IllegalArgumentException("the model (" + model.getClass().getSimpleName() + ") has no fc.* classifier to "
                        + "leave out; load a whole checkpoint with loadStateDict, or name the backbone's submodule");
        }
        Map<String, long[]> shapes = new LinkedHashMap<>();
        List<String> bad = new ArrayList<>();
        h.entries().forEach((k, info) -> {
            if (k.startsWith("fc.")) return;
            shapes.put(k, info.shape());
            if (dst.containsKey(k) && !READABLE.contains(info.dtype())) bad.add(k + " (" + info.dtype() + ")");
        });
        Map<String, long[]> all = new LinkedHashMap<>();
        h.entries().forEach((k, info) -> all.put(k, info.shape()));
        String what = "the file " + path.getFileName() + " does not fit the backbone '" + name + "' of the model ("
                + model.getClass().getSimpleName() + ")";
        String fix = "Give a classification checkpoint of the backbone's network (its keys without '" + prefix
                + "'; fc.* is ignored).";
        check(what, dst, shapes, "", bad, backboneHint(all, dst), fix);
        Map<String, SafeTensors.Entry> src = SafeTensors.read(path, k -> !k.startsWith("fc.") && dst.containsKey(k)).entries();
        checkValues(dst, src, "");
        upload(dst, src);
    }

    /** which layout the file has next to the backbone's, for the first line of loadBackbone's error */
    private static String backboneHint(Map<String, long[]> file, Map<String, Tensor> dst) {
        var f = ModelRegistry.describeLayout(file);
        var b = ModelRegistry.describeLayout(shapesOf(dst));
        if (f.isEmpty()) return "";
        String s = "this file is " + f.get().description();
        if (b.isPresent()) s += "; the backbone has " + b.get().description().replace(", no fc: a backbone", "")
                + (b.get().model() != null ? " (a checkpoint of model " + b.get().model() + " fits)" : "");
        if (file.keySet().stream().anyMatch(k -> k.startsWith("backbone.")) && f.get().model() != null)
            s += "; a whole " + f.get().model() + " checkpoint loads with loadStateDict into model " + f.get().model();
        return s;
    }

    /**
     * The hint for the first line of a mismatch: which known layout the file has and which model
     * name and class count fit it (empty when the file's layout is unknown).
     */
    static String layoutHint(Map<String, long[]> file, Map<String, Tensor> dst) {
        var f = ModelRegistry.describeLayout(file);
        if (f.isEmpty()) return "";
        ModelRegistry.Layout fl = f.get();
        var m = ModelRegistry.describeLayout(shapesOf(dst));
        String counts = (fl.numClasses() > 0 ? fl.numClasses() + " classes" : "no classifier")
                + (fl.inChannels() > 0 ? ", " + fl.inChannels() + " input channels" : "");
        if (fl.model() == null) return "this file is " + fl.description() + " (" + counts + "), which no registered model has";
        if (m.isPresent() && fl.model().equals(m.get().model())) {
            ModelRegistry.Layout ml = m.get();
            List<String> diff = new ArrayList<>();
            if (fl.numClasses() != ml.numClasses())
                diff.add("the file has " + fl.numClasses() + " classes, the model " + ml.numClasses());
            if (fl.inChannels() != ml.inChannels())
                diff.add("the file has " + fl.inChannels() + " input channels, the model " + ml.inChannels());
            return "this file is " + fl.description() + (diff.isEmpty() ? "" : ": " + String.join(" and ", diff)
                    + "; create " + fl.model() + " with " + counts);
        }
        return "this file is " + fl.description() + "; use model " + fl.model() + " (" + counts + ")";
    }

    private static Map<String, long[]> shapesOf(Map<String, Tensor> dst) {
        Map<String, long[]> out = new LinkedHashMap<>();
        dst.forEach((k, t) -> out.put(k, Arrays.stream(t.shape()).asLongStream().toArray()));
        return out;
    }

    /**
     * Loads the entries whose names start with prefix (the prefix removed); entries without it are
     * ignored (e.g. prefix "weight." in the golden files, which also hold inputs and gradients).
     */
    public static void load(Module m, SafeTensors.File file, String prefix) {
        Map<String, SafeTensors.Entry> src = new LinkedHashMap<>();
        file.entries().forEach((k, e) -> { if (k.startsWith(prefix)) src.put(k.substring(prefix.length()), e); });
        Map<String, Tensor> dst = m.stateDict();
        List<String> bad = new ArrayList<>();
        for (Map.Entry<String, SafeTensors.Entry> e : src.entrySet())
            if (dst.containsKey(e.getKey()) && !READABLE.contains(e.getValue().dtype()))
                bad.add(prefix + e.getKey() + " (" + e.getValue().dtype() + ")");
        check(m, dst, shapes(src), prefix, bad);
        checkValues(dst, src, prefix);
        upload(dst, src);
    }

    /** copies every src entry into the dst tensor of its name (both checked: same keys, shapes, readable values) */
    private static void upload(Map<String, Tensor> dst, Map<String, SafeTensors.Entry> src) {
        for (Map.Entry<String, Tensor> d : dst.entrySet()) {
            SafeTensors.Entry e = src.get(d.getKey());
            Tensor t = d.getValue();
            switch (t.dtype()) {
                case F32 -> t.backend().upload(e.toFloats(), t.ptr());
                case F64 -> t.backend().upload(e.toDoubles(), t.ptr());
                case I32 -> t.backend().upload(e.toInts(), t.ptr());
            }
        }
    }

    /** copies another state (e.g. a saved copy of the initial weights) into the module, checked as above */
    public static void load(Module m, Map<String, Tensor> state) {
        Map<String, Tensor> dst = m.stateDict();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        state.forEach((k, t) -> shapes.put(k, Arrays.stream(t.shape()).asLongStream().toArray()));
        check(m, dst, shapes, "", new ArrayList<>());
        for (Map.Entry<String, Tensor> d : dst.entrySet()) {
            Tensor s = state.get(d.getKey()), t = d.getValue();
            if (s == t) continue;
            if (s.dtype() == t.dtype() || (s.dtype() != DType.I32 && t.dtype() != DType.I32)) Ops.copyInto(s, t);
            else if (t.dtype() == DType.I32) {
                double[] v = s.toDoubleArray();
                int[] iv = new int[v.length];
                for (int i = 0; i < v.length; i++) iv[i] = (int) v[i];
                t.backend().upload(iv, t.ptr());
            } else if (t.dtype() == DType.F32) t.backend().upload(s.toFloatArray(), t.ptr());
            else t.backend().upload(s.toDoubleArray(), t.ptr());
        }
    }

    /**
     * Refuses values no model state can hold, before anything is loaded: NaN or infinite floats, a
     * negative batch-norm running variance, integers (num_batches_tracked) outside 0..2^31-1.
     */
    private static void checkValues(Map<String, Tensor> dst, Map<String, SafeTensors.Entry> src, String prefix) {
        List<String> bad = new ArrayList<>();
        for (Map.Entry<String, Tensor> d : dst.entrySet()) {
            String key = d.getKey();
            double[] v = src.get(key).toDoubles();
            int nonFinite = 0, negative = 0, first = -1;
            for (int i = 0; i < v.length; i++) {
                boolean wrong = !Double.isFinite(v[i]);
                if (wrong) nonFinite++;
                if (!wrong && d.getValue().dtype() == DType.I32 && (v[i] < 0 || v[i] > Integer.MAX_VALUE)) wrong = true;
                if (!wrong && key.endsWith("running_var") && v[i] < 0) { negative++; wrong = true; }
                if (wrong && first < 0) first = i;
            }
            if (first < 0) continue;
            String what = nonFinite > 0 ? nonFinite + " NaN or infinite value(s)"
                    : negative > 0 ? negative + " negative running variance(s)"
                    : "a count outside 0.." + Integer.MAX_VALUE;
            bad.add(prefix + key + " holds " + what + " (first at flat index " + first + ": " + v[first] + ")");
        }
        if (!bad.isEmpty())
            throw new IllegalArgumentException("state dict values are unusable; nothing was loaded: " + String.join("; ", bad)
                    + ". Give a checkpoint with finite weights (re-export it, or re-initialise the model)");
    }

    private static Map<String, long[]> shapes(Map<String, SafeTensors.Entry> src) {
        Map<String, long[]> out = new LinkedHashMap<>();
        src.forEach((k, e) -> out.put(k, e.shape()));
        return out;
    }

    private static void check(Module m, Map<String, Tensor> dst, Map<String, long[]> src, String prefix, List<String> badDtype) {
        check("state dict does not match the model (" + m.getClass().getSimpleName() + ")", dst, src, prefix, badDtype,
                null, "Check that the checkpoint was made for this model, name, input channels and number of classes"
                        + (prefix.isEmpty() ? "" : " and that its keys start with '" + prefix + "'") + '.');
    }

    /** hint null: computed from the layouts ({@link #layoutHint}) when there is a mismatch */
    private static void check(String what, Map<String, Tensor> dst, Map<String, long[]> src, String prefix, List<String> badDtype,
                              String hint, String fix) {
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), misshaped = new ArrayList<>();
        for (Map.Entry<String, Tensor> d : dst.entrySet()) {
            long[] s = src.get(d.getKey());
            if (s == null) missing.add(prefix + d.getKey());
            else if (!shapeFits(d.getKey(), s, d.getValue().shape()))
                misshaped.add(prefix + d.getKey() + " (file " + Arrays.toString(s) + ", model " + Arrays.toString(d.getValue().shape()) + ")");
        }
        for (String k : src.keySet()) if (!dst.containsKey(k)) unexpected.add(prefix + k);
        if (missing.isEmpty() && unexpected.isEmpty() && misshaped.isEmpty() && badDtype.isEmpty()) return;
        if (hint == null) hint = layoutHint(src, dst);
        StringBuilder sb = new StringBuilder(what + "; nothing was loaded" + (hint.isEmpty() ? "." : ": " + hint + "."));
        if (!missing.isEmpty()) sb.append("\n  missing keys (").append(missing.size()).append("): ").append(firstFew(missing));
        if (!unexpected.isEmpty()) sb.append("\n  unexpected keys (").append(unexpected.size()).append("): ").append(firstFew(unexpected));
        if (!misshaped.isEmpty()) sb.append("\n  mis-shaped keys (").append(misshaped.size()).append("): ").append(firstFew(misshaped));
        if (!badDtype.isEmpty()) sb.append("\n  unreadable dtypes (").append(badDtype.size()).append("): ").append(firstFew(badDtype));
        sb.append("\n  ").append(fix);
        throw new IllegalArgumentException(sb.toString());
    }

    /** at most eight items, then how many more */
    private static String firstFew(List<String> l) {
        return l.size() <= 8 ? l.toString() : l.subList(0, 8) + " and " + (l.size() - 8) + " more";
    }

    private static boolean shapeFits(String key, long[] file, int[] model) {
        if (file.length == model.length) {
            boolean same = true;
            for (int i = 0; i < model.length; i++) same &= file[i] == model[i];
            if (same) return true;
        }
        // PyTorch stores num_batches_tracked as a 0-d tensor; older files (and the golden ones) as [1]
        return key.endsWith("num_batches_tracked") && numel(file) == 1 && Tensor.numel(model) == 1
                && file.length <= 1 && model.length <= 1;
    }

    private static long numel(long[] s) { long n = 1; for (long v : s) n *= v; return n; }
}
