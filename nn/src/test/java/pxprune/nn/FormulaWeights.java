package pxprune.nn;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import pxprune.core.Tensor;
import pxprune.core.io.Json;
import pxprune.core.io.SafeTensors;
import pxprune.kernels.DType;
import pxprune.kernels.TestData;

/**
 * The deterministic state-dict values of testdata/README.md ("Formula weights"), the same float32
 * values as {@code formula()} in testdata/tools/tv_models.py: u = (splitmix64(fnv1a64(name) + i) >>> 40) / 2^24
 * for flat index i; conv/linear weights (u - 0.5) * 2 * sqrt(3 / fan_in), batch-norm weights 0.5 + u,
 * biases 0.2 (u - 0.5), running means 0.1 (u - 0.5), running variances 0.5 + u, num_batches_tracked 0.
 * Also the torchvision layouts of testdata/golden/tv/*.json and files written in them.
 */
final class FormulaWeights {
    private FormulaWeights() {}

    static long fnv1a64(String name) {
        long h = 0xCBF29CE484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xFF;
            h *= 0x100000001B3L;
        }
        return h;
    }

    static double uniform(long base, long i) {
        long z = base + i + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 40) * (1.0 / (1 << 24));
    }

    /** the values of state-dict entry name of the given shape (float32, flat, row-major) */
    static float[] values(String name, long[] shape) {
        long n = 1;
        for (long s : shape) n *= s;
        float[] v = new float[Math.toIntExact(n)];
        if (name.endsWith("num_batches_tracked")) return v;
        long base = fnv1a64(name);
        if (name.endsWith("running_mean")) { for (int i = 0; i < v.length; i++) v[i] = (float) (0.1 * (uniform(base, i) - 0.5)); return v; }
        if (name.endsWith("running_var") || (name.endsWith("weight") && shape.length == 1)) {
            for (int i = 0; i < v.length; i++) v[i] = (float) (0.5 + uniform(base, i));
            return v;
        }
        if (name.endsWith("bias")) { for (int i = 0; i < v.length; i++) v[i] = (float) (0.2 * (uniform(base, i) - 0.5)); return v; }
        if (!name.endsWith("weight")) throw new IllegalArgumentException("no formula for " + name);
        long fanIn = 1;
        for (int d = 1; d < shape.length; d++) fanIn *= shape[d];
        double scale = Math.sqrt(3.0 / fanIn);
        for (int i = 0; i < v.length; i++) v[i] = (float) ((uniform(base, i) - 0.5) * 2.0 * scale);
        return v;
    }

    /**
     * the models' test input [2, 3, side, side]: (u - 0.5) * 2 * sqrt(3) for u the formula's uniform
     * values of the name "input" (zero mean, unit variance), as {@code test_input()} in tv_models.py
     */
    static Tensor input(int side) {
        float[] v = new float[2 * 3 * side * side];
        long base = fnv1a64("input");
        for (int i = 0; i < v.length; i++) v[i] = (float) ((uniform(base, i) - 0.5) * 2.0 * Math.sqrt(3.0));
        return Tensor.of(v, 2, 3, side, side);
    }

    static long[] longs(int[] s) { return java.util.Arrays.stream(s).asLongStream().toArray(); }

    /** sets every parameter and buffer of m to the formula of its state-dict name */
    static void fill(Module m) {
        m.stateDict().forEach((k, t) -> {
            if (t.dtype() == DType.F32) t.backend().upload(values(k, longs(t.shape())), t.ptr());
            else if (t.dtype() == DType.I32) t.backend().upload(new int[(int) t.numel()], t.ptr());
            else throw new IllegalStateException(k + ": unexpected dtype " + t.dtype());
        });
    }

    /** one state_dict entry of a torchvision layout: key, dtype ("F32", "I64") and shape */
    record Key(String name, String dtype, long[] shape) {
        long numel() { long n = 1; for (long s : shape) n *= s; return n; }
    }

    /** testdata/golden/tv/{fixture}.json: its "keys" (or "keys_without_aux") in state_dict order */
    static List<Key> layout(String fixture, boolean withoutAux) {
        try {
            Map<String, Object> doc = Json.parseObject(Files.readString(TestData.file("golden/tv/" + fixture + ".json")));
            Object keys = doc.get(withoutAux ? "keys_without_aux" : "keys");
            if (keys == null) throw new IllegalStateException(fixture + ".json has no " + (withoutAux ? "keys_without_aux" : "keys"));
            List<Key> out = new ArrayList<>();
            for (Object o : (List<?>) keys) {
                List<?> e = (List<?>) o;
                List<?> shape = (List<?>) e.get(2);
                out.add(new Key((String) e.get(0), (String) e.get(1), shape.stream().mapToLong(x -> ((Number) x).longValue()).toArray()));
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, Object> meta(String fixture) {
        try {
            return Json.parseObject(Files.readString(TestData.file("golden/tv/" + fixture + ".json")));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, long[]> shapes(List<Key> keys) {
        Map<String, long[]> out = new LinkedHashMap<>();
        for (Key k : keys) out.put(k.name(), k.shape());
        return out;
    }

    /** a safetensors file with these keys and the formula values (a torchvision-made checkpoint's content), with our writer */
    static void writeCheckpoint(Path path, List<Key> keys, String dropPrefix) throws IOException {
        Map<String, SafeTensors.Entry> e = new LinkedHashMap<>();
        for (Key k : keys) {
            String name = k.name().startsWith(dropPrefix) ? k.name().substring(dropPrefix.length()) : k.name();
            if (k.dtype().equals("I64")) e.put(name, SafeTensors.Entry.ofLongs(new long[(int) k.numel()], k.shape()));
            else e.put(name, SafeTensors.Entry.of(values(k.name(), k.shape()), k.shape()));
        }
        SafeTensors.write(path, e, Map.of("format", "pt"));
    }

    /**
     * A safetensors file with these keys whose data is all zero bytes, written as a sparse file
     * (the header is what a mismatch is decided from; a VGG-16 would be 550 MB otherwise).
     */
    static void writeHeaderOnly(Path path, List<Key> keys) throws IOException {
        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long off = 0;
        for (Key k : keys) {
            long bytes = k.numel() * (k.dtype().equals("I64") || k.dtype().equals("F64") ? 8 : 4);
            h.append(",\"").append(k.name()).append("\":{\"dtype\":\"").append(k.dtype()).append("\",\"shape\":")
                    .append(java.util.Arrays.toString(k.shape()).replace(" ", "")).append(",\"data_offsets\":[").append(off)
                    .append(',').append(off + bytes).append("]}");
            off += bytes;
        }
        h.append('}');
        while (h.length() % 8 != 0) h.append(' ');
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
            byte[] len = new byte[8];
            for (int i = 0; i < 8; i++) len[i] = (byte) ((long) header.length >>> (8 * i));
            f.write(len);
            f.write(header);
            f.setLength(8 + header.length + off);
        }
    }

    /** the model's state as keys (name, the dtype {@link StateDicts#save} writes: I32 as I64, shape), without copying data */
    static List<Key> keysOf(Module m) {
        List<Key> out = new ArrayList<>();
        m.stateDict().forEach((k, t) -> out.add(new Key(k, t.dtype() == DType.I32 ? "I64" : t.dtype().name(), longs(t.shape()))));
        return out;
    }

    /** converts every F32 parameter and buffer of m to F64 in place (for the float64 golden comparisons) */
    static void toF64(Module m) {
        Map<String, Module> modules = m.namedModules();
        m.stateDict().forEach((k, t) -> {
            if (t.dtype() != DType.F32) return;
            int dot = k.lastIndexOf('.');
            Module owner = modules.get(dot < 0 ? "" : k.substring(0, dot));
            owner.replaceTensor(k.substring(dot + 1), t.to(DType.F64));
        });
    }

    static Tensor tensor(float[] v, long[] shape) {
        int[] s = new int[shape.length];
        for (int i = 0; i < s.length; i++) s[i] = (int) shape[i];
        return Tensor.of(v, s);
    }
}
