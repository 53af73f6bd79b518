package pxprune.px;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import pxprune.core.GradMode;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.core.io.SafeTensors;
import pxprune.kernels.Device;
import pxprune.nn.Module;

/**
 * Binary masks of the prunable weights: qualified parameter name -> 0/1 values of the weight's
 * shape, in registration order. Held on the host (float[] of 0 and 1); {@link #tensor} gives the
 * F32 tensor on the CPU, {@link #tensor(String, Device)} on a device, {@link #to} all of them on a
 * device (what a trainer hands to the optimizer of a CUDA model). Immutable: selection
 * ({@link TopK}) returns new masks.
 */
public final class Masks {
    private final LinkedHashMap<String, float[]> values;
    private final LinkedHashMap<String, int[]> shapes;
    private final Map<String, String> metadata;
    /** per mask, its number of ones (the values never change, so it is counted once) */
    private final Map<String, Long> kept;

    private Masks(LinkedHashMap<String, float[]> values, LinkedHashMap<String, int[]> shapes, Map<String, String> metadata) {
        this(values, shapes, metadata, count(values));
    }

    private Masks(LinkedHashMap<String, float[]> values, LinkedHashMap<String, int[]> shapes, Map<String, String> metadata,
                  Map<String, Long> kept) {
        this.values = values;
        this.shapes = shapes;
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        this.kept = kept;
    }

    private static Map<String, Long> count(LinkedHashMap<String, float[]> values) {
        Map<String, Long> k = new java.util.HashMap<>();
        values.forEach((name, m) -> {
            long n = 0;
            for (float x : m) n += (long) x; // 0 or 1 (checked where masks come from): no branch on a random pattern
            k.put(name, n);
        });
        return k;
    }

    /**
     * masks with these shapes and new 0/1 values for the same names, in the same order, taken over
     * (not copied, not checked: for {@link TopK}, which writes only 0 and 1); no metadata
     */
    public Masks withValues(LinkedHashMap<String, float[]> v) {
        if (!v.keySet().equals(values.keySet()))
            throw new IllegalArgumentException("internal: new mask values for " + v.keySet() + ", masks exist for " + values.keySet());
        values.forEach((name, m) -> {
            if (v.get(name).length != m.length)
                throw new IllegalArgumentException("internal: " + v.get(name).length + " new mask values for " + name + " of " + m.length);
        });
        return new Masks(v, shapes, Map.of());
    }

    /** all ones: every prunable weight of the model kept */
    public static Masks ones(Module model) {
        LinkedHashMap<String, float[]> v = new LinkedHashMap<>();
        LinkedHashMap<String, int[]> s = new LinkedHashMap<>();
        for (PrunableLayer l : PrunableLayer.of(model)) {
            float[] m = new float[Math.toIntExact(l.numel())];
            Arrays.fill(m, 1f);
            v.put(l.name(), m);
            s.put(l.name(), l.shape());
        }
        return new Masks(v, s, Map.of());
    }

    /** masks from explicit 0/1 values (copied), in the map's order */
    public static Masks of(Map<String, float[]> values, Map<String, int[]> shapes) {
        LinkedHashMap<String, float[]> v = new LinkedHashMap<>();
        LinkedHashMap<String, int[]> s = new LinkedHashMap<>();
        values.forEach((name, m) -> {
            int[] shape = shapes.get(name);
            if (shape == null) throw new IllegalArgumentException("mask " + name + ": no shape given");
            if (Tensor.numel(shape) != m.length)
                throw new IllegalArgumentException("mask " + name + ": " + m.length + " values for shape " + Arrays.toString(shape));
            for (float x : m)
                if (x != 0f && x != 1f) throw new IllegalArgumentException("mask " + name + " holds " + x + "; masks are 0 or 1");
            v.put(name, m.clone());
            s.put(name, shape.clone());
        });
        return new Masks(v, s, Map.of());
    }

    /** the same masks with other metadata */
    public Masks withMetadata(Map<String, String> meta) { return new Masks(values, shapes, meta, kept); }

    public List<String> names() { return List.copyOf(values.keySet()); }

    public Map<String, String> metadata() { return metadata; }

    /** the 0/1 values of one mask (a copy) */
    public float[] values(String name) { return raw(name).clone(); }

    public float[] raw(String name) {
        float[] m = values.get(name);
        if (m == null) throw new IllegalArgumentException("no mask for '" + name + "' (masks exist for " + values.keySet() + ")");
        return m;
    }

    public int[] shape(String name) { raw(name); return shapes.get(name).clone(); }

    /** the mask as a new F32 tensor of the weight's shape (in the caller's memory scope) */
    public Tensor tensor(String name) { return tensor(name, Device.CPU); }

    /** the mask as a new F32 tensor of the weight's shape on device (in the caller's memory scope): one upload */
    public Tensor tensor(String name, Device device) { return Tensor.of(raw(name), device, shapes.get(name)); }

    /**
     * Every mask as a new F32 tensor on device, by name in registration order (in the caller's
     * memory scope; the caller closes them otherwise).
     */
    public Map<String, Tensor> to(Device device) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : values.keySet()) out.put(name, tensor(name, device));
        return out;
    }

    public long numel(String name) { return raw(name).length; }

    /** the values of every mask that prunes something (an all-ones mask changes nothing), by name, in order */
    public Map<String, float[]> pruned() {
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        for (String name : names()) if (kept(name) < numel(name)) out.put(name, values(name));
        return out;
    }

    public long kept(String name) {
        raw(name);
        return kept.get(name);
    }

    public long total() {
        long n = 0;
        for (float[] m : values.values()) n += m.length;
        return n;
    }

    public long kept() {
        long k = 0;
        for (long n : kept.values()) k += n;
        return k;
    }

    /** the fraction of prunable weights kept, over all layers */
    public double density() { return (double) kept() / total(); }

    public double density(String name) { return (double) kept(name) / numel(name); }

    /** checks that these masks cover exactly the model's prunable weights, with their shapes */
    public void checkFits(Module model) { checkFits(PrunableLayer.of(model)); }

    /** {@link #checkFits(Module)} with the model's prunable layers already listed */
    public void checkFits(List<PrunableLayer> layers) {
        for (PrunableLayer l : layers) {
            if (!values.containsKey(l.name()))
                throw new IllegalArgumentException("the masks have no entry for the model's prunable weight " + l.name()
                        + "; masks exist for " + values.keySet());
            if (!Arrays.equals(shapes.get(l.name()), l.shape()))
                throw new IllegalArgumentException("mask " + l.name() + " has shape " + Arrays.toString(shapes.get(l.name()))
                        + " but the weight has shape " + Arrays.toString(l.shape()));
        }
        if (layers.size() != values.size())
            throw new IllegalArgumentException("the masks have " + values.size() + " entries, the model " + layers.size()
                    + " prunable weights; extra: " + values.keySet().stream()
                            .filter(n -> layers.stream().noneMatch(l -> l.name().equals(n))).toList());
    }

    /** weights *= mask, in place, for every prunable weight of the model */
    public void apply(Module model) {
        List<PrunableLayer> layers = PrunableLayer.of(model);
        checkFits(layers);
        try (GradMode g = GradMode.noGrad()) {
            for (PrunableLayer l : layers) {
                try (Tensor m = tensor(l.name(), l.weight().device()); Tensor mt = m.dtype() == l.weight().dtype() ? null : Ops.to(m, l.weight().dtype())) {
                    Ops.mulInPlace(l.weight(), mt == null ? m : mt);
                }
            }
        }
    }

    /**
     * Writes the masks as safetensors: one U8 entry (0/1) per weight under its parameter name, and
     * {@code __metadata__} with method, density (achieved, over all prunable weights), rounds, seed.
     */
    public void save(Path path, String method, int rounds, long seed) throws IOException {
        Map<String, SafeTensors.Entry> entries = new LinkedHashMap<>();
        values.forEach((name, m) -> {
            byte[] b = new byte[m.length];
            for (int i = 0; i < m.length; i++) b[i] = (byte) (m[i] != 0f ? 1 : 0);
            int[] s = shapes.get(name);
            long[] ls = new long[s.length];
            for (int i = 0; i < s.length; i++) ls[i] = s[i];
            entries.put(name, SafeTensors.Entry.ofBytes(b, ls));
        });
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("method", method);
        meta.put("density", Double.toString(density()));
        meta.put("rounds", Integer.toString(rounds));
        meta.put("seed", Long.toString(seed));
        SafeTensors.write(path, entries, meta);
    }

    /** reads masks written by {@link #save} (entries U8, BOOL or F32 holding 0/1); metadata kept */
    public static Masks load(Path path) throws IOException {
        SafeTensors.File f = SafeTensors.read(path);
        LinkedHashMap<String, float[]> v = new LinkedHashMap<>();
        LinkedHashMap<String, int[]> s = new LinkedHashMap<>();
        f.entries().forEach((name, e) -> {
            if (!List.of("U8", "BOOL", "F32").contains(e.dtype()))
                throw new IllegalArgumentException(path + ": mask " + name + " has dtype " + e.dtype() + "; expected U8, BOOL or F32");
            v.put(name, e.toFloats());
            s.put(name, e.intShape());
        });
        try {
            return of(v, s).withMetadata(f.metadata());
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException(path + ": " + ex.getMessage(), ex);
        }
    }

    /** loads masks and checks them against the model's prunable weights */
    public static Masks load(Path path, Module model) throws IOException {
        Masks m = load(path);
        m.checkFits(model);
        return m;
    }
}
