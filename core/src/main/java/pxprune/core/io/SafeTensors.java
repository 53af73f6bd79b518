package pxprune.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import pxprune.core.Tensor;
import pxprune.kernels.DType;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the raw little-endian data.
 * Reads F32, F64, F16-free files with I64/I32/U8/BOOL entries; writes F32, F64, I64 and U8.
 */
public final class SafeTensors {
    /** one stored array: its safetensors dtype name ("F32", "F64", "I64", ...), shape and raw bytes */
    public record Entry(String dtype, long[] shape, byte[] data) {
        public long numel() { long n = 1; for (long s : shape) n *= s; return n; }

        public int[] intShape() {
            int[] s = new int[shape.length];
            for (int i = 0; i < s.length; i++) s[i] = Math.toIntExact(shape[i]);
            return s;
        }

        private ByteBuffer buf() { return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN); }

        public double[] toDoubles() {
            int n = (int) numel();
            double[] out = new double[n];
            ByteBuffer b = buf();
            for (int i = 0; i < n; i++) {
                out[i] = switch (dtype) {
                    case "F32" -> b.getFloat(i * 4);
                    case "F64" -> b.getDouble(i * 8);
                    case "I64" -> b.getLong(i * 8);
                    case "I32" -> b.getInt(i * 4);
                    case "U8", "BOOL" -> b.get(i) & 0xff;
                    default -> throw new IllegalArgumentException("unsupported safetensors dtype " + dtype);
                };
            }
            return out;
        }

        public float[] toFloats() {
            double[] d = toDoubles();
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
            return f;
        }

        public long[] toLongs() {
            double[] d = toDoubles();
            long[] l = new long[d.length];
            for (int i = 0; i < d.length; i++) l[i] = (long) d[i];
            return l;
        }

        public int[] toInts() {
            long[] l = toLongs();
            int[] r = new int[l.length];
            for (int i = 0; i < l.length; i++) r[i] = Math.toIntExact(l[i]);
            return r;
        }

        /** a new tensor: F32 and F64 keep their type, integer types become I32 */
        public Tensor toTensor() {
            return switch (dtype) {
                case "F32" -> Tensor.of(toFloats(), intShape());
                case "F64" -> Tensor.of(toDoubles(), intShape());
                default -> Tensor.ofInts(toInts(), intShape());
            };
        }

        public static Entry of(float[] v, long... shape) {
            ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float x : v) b.putFloat(x);
            return new Entry("F32", shape, b.array());
        }

        public static Entry of(double[] v, long... shape) {
            ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (double x : v) b.putDouble(x);
            return new Entry("F64", shape, b.array());
        }

        public static Entry ofLongs(long[] v, long... shape) {
            ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (long x : v) b.putLong(x);
            return new Entry("I64", shape, b.array());
        }

        public static Entry ofBytes(byte[] v, long... shape) { return new Entry("U8", shape, v.clone()); }

        /** a tensor's values: F32 and F64 as they are, I32 as I64 (PyTorch's integer default) */
        public static Entry of(Tensor t) {
            long[] s = new long[t.dim()];
            for (int i = 0; i < s.length; i++) s[i] = t.size(i);
            if (t.dtype() == DType.F32) return of(t.toFloatArray(), s);
            if (t.dtype() == DType.F64) return of(t.toDoubleArray(), s);
            int[] v = t.toIntArray();
            long[] l = new long[v.length];
            for (int i = 0; i < v.length; i++) l[i] = v[i];
            return ofLongs(l, s);
        }
    }

    /** a file's entries in header order, and its metadata */
    public record File(Map<String, Entry> entries, Map<String, String> metadata) {
        public Entry get(String name) {
            Entry e = entries.get(name);
            if (e == null) throw new IllegalArgumentException("no tensor named '" + name + "' in the file (it has "
                    + entries.size() + " entries, e.g. " + entries.keySet().stream().limit(5).toList() + ")");
            return e;
        }
    }

    private SafeTensors() {}

    private static int elemSize(String dtype) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "U8", "I8", "BOOL" -> 1;
            default -> throw new IllegalArgumentException("unknown safetensors dtype " + dtype);
        };
    }

    @SuppressWarnings("unchecked")
    public static File read(Path path) throws IOException {
        if (!Files.isRegularFile(path))
            throw new java.io.FileNotFoundException("safetensors file not found: " + path.toAbsolutePath());
        byte[] all = Files.readAllBytes(path);
        if (all.length < 8) throw new IOException(path + " is not a safetensors file (shorter than 8 bytes)");
        long hlen = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (hlen <= 0 || 8 + hlen > all.length)
            throw new IOException(path + " is not a safetensors file (header length " + hlen + ", file " + all.length + " bytes)");
        Map<String, Object> header;
        try {
            header = Json.parseObject(new String(all, 8, (int) hlen, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IOException(path + ": bad safetensors header: " + e.getMessage(), e);
        }
        int base = 8 + (int) hlen;
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : header.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                ((Map<String, Object>) e.getValue()).forEach((k, v) -> meta.put(k, String.valueOf(v)));
                continue;
            }
            Map<String, Object> d = (Map<String, Object>) e.getValue();
            String dtype = (String) d.get("dtype");
            List<Object> shp = (List<Object>) d.get("shape"), off = (List<Object>) d.get("data_offsets");
            long[] shape = new long[shp.size()];
            long n = 1;
            for (int i = 0; i < shape.length; i++) { shape[i] = ((Number) shp.get(i)).longValue(); n *= shape[i]; }
            long a = ((Number) off.get(0)).longValue(), b = ((Number) off.get(1)).longValue();
            if (b - a != n * elemSize(dtype) || base + b > all.length)
                throw new IOException(path + ": entry " + e.getKey() + " has inconsistent offsets " + a + ".." + b);
            byte[] data = new byte[(int) (b - a)];
            System.arraycopy(all, (int) (base + a), data, 0, data.length);
            entries.put(e.getKey(), new Entry(dtype, shape, data));
        }
        return new File(entries, meta);
    }

    /** writes atomically (a temporary file in the same folder, then a rename) */
    public static void write(Path path, Map<String, Entry> entries, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<>(metadata));
        long off = 0;
        List<byte[]> blobs = new ArrayList<>();
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            Entry en = e.getValue();
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("dtype", en.dtype());
            d.put("shape", en.shape());
            d.put("data_offsets", new long[] {off, off + en.data().length});
            header.put(e.getKey(), d);
            off += en.data().length;
            blobs.add(en.data());
        }
        byte[] h = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int pad = (8 - h.length % 8) % 8;
        byte[] hp = new byte[h.length + pad];
        System.arraycopy(h, 0, hp, 0, h.length);
        for (int i = h.length; i < hp.length; i++) hp[i] = ' ';
        Path abs = path.toAbsolutePath();
        if (abs.getParent() != null) Files.createDirectories(abs.getParent());
        Path tmp = Files.createTempFile(abs.getParent(), abs.getFileName().toString(), ".tmp");
        try (var out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp))) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(hp.length).array());
            out.write(hp);
            for (byte[] b : blobs) out.write(b);
        }
        try { // createTempFile makes owner-only files; a result file is as readable as any other
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: keep its defaults
        }
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
