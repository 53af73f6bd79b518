package pxprune.core.io;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import pxprune.core.Tensor;
import pxprune.kernels.DType;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the raw little-endian data.
 * <p>Files are untrusted: {@link #header} reads and checks the whole header before any data is read,
 * as the Rust safetensors crate does (a header of at most {@link #MAX_HEADER_BYTES} bytes; known
 * dtypes; shapes and offsets of non-negative integers whose sizes agree; entries that, sorted by
 * offset, cover the data section exactly, with no overlap, gap or trailing byte). {@link #read} then
 * reads each wanted entry with a positioned read, never the whole file at once. Extra keys in an
 * entry's object are ignored, as the crate ignores them.
 * <p>Converts F64, F32, F16, BF16 and the integer dtypes to numbers; writes F32, F64, I64 and U8.
 * Writing is deterministic (see {@link #write}).
 */
public final class SafeTensors {
    /** the largest header accepted (the Rust safetensors crate's limit) */
    public static final long MAX_HEADER_BYTES = 100_000_000;
    /** the most bytes one entry can hold in memory (the largest Java array) */
    public static final int MAX_ENTRY_BYTES = Integer.MAX_VALUE - 8;
    private static final Map<String, Integer> ELEMENT_BYTES = elementBytes();
    private static final String FIX = "the file is damaged or was not written by safetensors; write it again with "
            + "safetensors' save_file";

    private static Map<String, Integer> elementBytes() {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (String d : List.of("BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3")) m.put(d, 1);
        for (String d : List.of("I16", "U16", "F16", "BF16")) m.put(d, 2);
        for (String d : List.of("I32", "U32", "F32")) m.put(d, 4);
        for (String d : List.of("I64", "U64", "F64")) m.put(d, 8);
        return Collections.unmodifiableMap(m);
    }

    /** bytes per element of a dtype, or an error listing the supported ones */
    private static int elementBytes(String dtype) {
        Integer n = ELEMENT_BYTES.get(dtype);
        if (n == null) throw new IllegalArgumentException("unknown safetensors dtype '" + dtype + "'; supported: "
                + String.join(", ", ELEMENT_BYTES.keySet()));
        return n;
    }

    /** the bytes a tensor of this shape takes; ArithmeticException on a negative size or overflow */
    private static long byteCount(long[] shape, int elementBytes) {
        long n = elementBytes;
        for (long s : shape) {
            if (s < 0) throw new ArithmeticException("negative size");
            n = Math.multiplyExact(n, s);
        }
        return n;
    }

    /**
     * One stored array: its safetensors dtype name ("F32", "F64", "I64", ...), shape and raw
     * little-endian bytes. {@code source} names it in error messages (file and entry name for an entry
     * that was read). The data must have exactly the bytes the dtype and shape need.
     */
    public record Entry(String dtype, long[] shape, byte[] data, String source) {
        public Entry {
            int size = elementBytes(dtype);
            long bytes;
            try {
                bytes = byteCount(shape, size);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException(source + ": shape " + Arrays.toString(shape)
                        + " has a negative size or more than 2^63 bytes");
            }
            if (bytes != data.length) throw new IllegalArgumentException(source + ": " + dtype + " with shape "
                    + Arrays.toString(shape) + " needs " + bytes + " bytes, but the data has " + data.length);
        }

        public Entry(String dtype, long[] shape, byte[] data) { this(dtype, shape, data, "an unnamed " + dtype + " entry"); }

        /** the number of elements; at most the data's length, so it fits an int */
        public long numel() { return data.length / elementBytes(dtype); }

        public int[] intShape() {
            int[] s = new int[shape.length];
            for (int i = 0; i < s.length; i++) {
                if (shape[i] > Integer.MAX_VALUE) throw new IllegalArgumentException(source + ": dimension " + i + " of shape "
                        + Arrays.toString(shape) + " is larger than " + Integer.MAX_VALUE + ", which a tensor here can hold");
                s[i] = (int) shape[i];
            }
            return s;
        }

        private ByteBuffer buf() { return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN); }

        private boolean isFloat() { return dtype.startsWith("F") || dtype.equals("BF16"); }

        private double floatAt(ByteBuffer b, int i) {
            return switch (dtype) {
                case "F64" -> b.getDouble(i * 8);
                case "F32" -> b.getFloat(i * 4);
                case "F16" -> half(b.getShort(i * 2));
                case "BF16" -> Float.intBitsToFloat(b.getShort(i * 2) << 16);
                default -> throw new IllegalArgumentException(source + " has dtype " + dtype + ", which this reader cannot "
                        + "convert to numbers; convert the tensor to F32 before saving it (e.g. tensor.float())");
            };
        }

        /** an integer dtype's value; U64 as its raw bits */
        private long intAt(ByteBuffer b, int i) {
            return switch (dtype) {
                case "I64", "U64" -> b.getLong(i * 8);
                case "I32" -> b.getInt(i * 4);
                case "U32" -> b.getInt(i * 4) & 0xffffffffL;
                case "I16" -> b.getShort(i * 2);
                case "U16" -> b.getShort(i * 2) & 0xffff;
                case "I8" -> b.get(i);
                default -> b.get(i) & 0xff; // U8, BOOL
            };
        }

        public double[] toDoubles() {
            int n = (int) numel();
            double[] out = new double[n];
            ByteBuffer b = buf();
            for (int i = 0; i < n; i++) {
                if (isFloat()) out[i] = floatAt(b, i);
                else {
                    long v = intAt(b, i);
                    out[i] = dtype.equals("U64") && v < 0 ? (v >>> 1) * 2.0 : v;
                }
            }
            return out;
        }

        public float[] toFloats() {
            double[] d = toDoubles();
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
            return f;
        }

        /** the values as longs: integer dtypes exactly, float dtypes only when every value is a whole number */
        public long[] toLongs() { return integers(Long.MIN_VALUE, Long.MAX_VALUE, "a long"); }

        /** the values as ints, refusing any value outside the int range */
        public int[] toInts() {
            long[] l = integers(Integer.MIN_VALUE, Integer.MAX_VALUE, "an int");
            int[] r = new int[l.length];
            for (int i = 0; i < l.length; i++) r[i] = (int) l[i];
            return r;
        }

        private long[] integers(long min, long max, String what) {
            int n = (int) numel();
            long[] out = new long[n];
            ByteBuffer b = buf();
            for (int i = 0; i < n; i++) {
                if (isFloat()) {
                    double d = floatAt(b, i);
                    if (d != Math.rint(d) || d < min || d >= -(double) min) // -min: 2^31 or 2^63, the first value past max
                        throw new IllegalArgumentException(source + ": value " + d + " at index " + i + " is not a whole number "
                                + "that fits " + what + " (" + min + ".." + max + "); expected integer values");
                    out[i] = (long) d;
                } else {
                    long v = intAt(b, i);
                    if ((dtype.equals("U64") && v < 0) || v < min || v > max)
                        throw new IllegalArgumentException(source + ": value " + (dtype.equals("U64") ? Long.toUnsignedString(v) : v)
                                + " at index " + i + " does not fit " + what + " (" + min + ".." + max + ")");
                    out[i] = v;
                }
            }
            return out;
        }

        /** a new tensor: F32 and F64 keep their type, F16 and BF16 become F32, integer types become I32 */
        public Tensor toTensor() {
            return switch (dtype) {
                case "F32", "F16", "BF16" -> Tensor.of(toFloats(), intShape());
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

    /** IEEE half precision bits to a float */
    private static float half(short h) {
        int e = (h >>> 10) & 0x1f, m = h & 0x3ff;
        float v = e == 0 ? m * 0x1p-24f
                : e == 31 ? (m == 0 ? Float.POSITIVE_INFINITY : Float.NaN)
                : Float.intBitsToFloat(((e + 112) << 23) | (m << 13));
        return h < 0 ? -v : v;
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

    /** what a header says of one entry: dtype, shape, and its bytes [begin, end) counted from the data section's start */
    public record Info(String dtype, long[] shape, long begin, long end) {}

    /** a checked header: entries in header order, metadata, and the file offset where the data section starts */
    public record Header(Map<String, Info> entries, Map<String, String> metadata, long dataStart) {}

    private SafeTensors() {}

    private static IOException bad(Path path, String problem) {
        return new IOException(path + ": " + problem + "; " + FIX);
    }

    private static FileChannel open(Path path) throws IOException {
        if (!Files.isRegularFile(path))
            throw new FileNotFoundException("safetensors file not found: " + path.toAbsolutePath()
                    + "; check the path (it must be a regular file)");
        return FileChannel.open(path, StandardOpenOption.READ);
    }

    /** reads and checks only the header: names, dtypes, shapes and metadata, without reading any data */
    public static Header header(Path path) throws IOException {
        try (FileChannel ch = open(path)) {
            return header(path, ch);
        }
    }

    public static File read(Path path) throws IOException { return read(path, name -> true); }

    /** checks the whole header, then reads only the entries whose names {@code wanted} accepts */
    public static File read(Path path, Predicate<String> wanted) throws IOException {
        try (FileChannel ch = open(path)) {
            Header h = header(path, ch);
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (Map.Entry<String, Info> e : h.entries().entrySet()) {
                if (!wanted.test(e.getKey())) continue;
                Info in = e.getValue();
                long n = in.end() - in.begin();
                if (n > MAX_ENTRY_BYTES)
                    throw new IOException(path + ": entry '" + e.getKey() + "' holds " + n + " bytes, more than one Java array ("
                            + MAX_ENTRY_BYTES + " bytes); split the tensor into smaller ones to load it here");
                byte[] data = readAt(path, ch, h.dataStart() + in.begin(), (int) n);
                entries.put(e.getKey(), new Entry(in.dtype(), in.shape(), data, path + " entry '" + e.getKey() + "'"));
            }
            return new File(entries, h.metadata());
        }
    }

    private static byte[] readAt(Path path, FileChannel ch, long pos, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0)
                throw new IOException(path + ": the file ended at byte " + (pos + b.position()) + " while being read (is "
                        + "another process writing it?); read it again once it is complete");
        }
        return b.array();
    }

    private static Header header(Path path, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) throw bad(path, "is not a safetensors file (" + size + " bytes, shorter than the 8-byte header length)");
        long hlen = ByteBuffer.wrap(readAt(path, ch, 0, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (hlen <= 0 || hlen > MAX_HEADER_BYTES)
            throw bad(path, "is not a safetensors file (its header length is " + Long.toUnsignedString(hlen)
                    + " bytes; a header has 1.." + MAX_HEADER_BYTES + ")");
        long dataStart = Math.addExact(8L, hlen);
        if (dataStart > size)
            throw bad(path, "is not a safetensors file or is truncated (its header length " + hlen + " runs past the end of the "
                    + size + "-byte file)");
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(readAt(path, ch, 8, (int) hlen))).toString();
        } catch (CharacterCodingException e) {
            throw bad(path, "the header is not valid UTF-8");
        }
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw bad(path, "the header is not valid JSON: " + e.getMessage());
        }
        if (!(parsed instanceof Map<?, ?> top))
            throw bad(path, "the header is " + Json.kind(parsed) + ", not a JSON object {name: {dtype, shape, data_offsets}}");
        long dataBytes = size - dataStart;
        Map<String, Info> entries = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : top.entrySet()) {
            String name = (String) e.getKey(); // Json's objects have string keys
            if (name.equals("__metadata__")) metadata(path, e.getValue(), metadata);
            else entries.put(name, info(path, name, e.getValue(), dataBytes));
        }
        checkLayout(path, entries, dataBytes);
        return new Header(Collections.unmodifiableMap(entries), Collections.unmodifiableMap(metadata), dataStart);
    }

    private static void metadata(Path path, Object v, Map<String, String> out) throws IOException {
        if (!(v instanceof Map<?, ?> m)) throw bad(path, "__metadata__ is " + Json.kind(v) + ", not an object of strings");
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s))
                throw bad(path, "__metadata__ key '" + e.getKey() + "' has " + Json.kind(e.getValue())
                        + " value; safetensors metadata maps strings to strings");
            out.put((String) e.getKey(), s);
        }
    }

    private static Info info(Path path, String name, Object v, long dataBytes) throws IOException {
        String where = "entry '" + name + "'";
        if (!(v instanceof Map<?, ?> d))
            throw bad(path, where + " is " + Json.kind(v) + ", not an object {dtype, shape, data_offsets}");
        Object dt = d.get("dtype");
        if (!(dt instanceof String dtype))
            throw bad(path, where + (d.containsKey("dtype") ? "'s dtype is " + Json.kind(dt) + ", not a string" : " has no dtype"));
        Integer size = ELEMENT_BYTES.get(dtype);
        if (size == null)
            throw bad(path, where + " has unknown dtype '" + dtype + "' (supported: " + String.join(", ", ELEMENT_BYTES.keySet()) + ")");
        long[] shape = naturals(path, where, d, "shape", -1);
        long[] off = naturals(path, where, d, "data_offsets", 2);
        long bytes;
        try {
            bytes = byteCount(shape, size);
        } catch (ArithmeticException e) {
            throw bad(path, where + " has shape " + Arrays.toString(shape) + ", whose size in bytes overflows 64 bits");
        }
        String offsets = "data_offsets [" + off[0] + ", " + off[1] + "]";
        if (off[0] > off[1]) throw bad(path, where + " has " + offsets + ", which begin after they end");
        if (off[1] - off[0] != bytes)
            throw bad(path, where + " has " + offsets + " (" + (off[1] - off[0]) + " bytes), but " + dtype + " with shape "
                    + Arrays.toString(shape) + " takes " + bytes + " bytes");
        if (off[1] > dataBytes)
            throw bad(path, where + " has " + offsets + ", past the end of the " + dataBytes + "-byte data section (truncated file?)");
        return new Info(dtype, shape, off[0], off[1]);
    }

    /** d[key] as an array of non-negative integers, of the given length (any if negative) */
    private static long[] naturals(Path path, String where, Map<?, ?> d, String key, int length) throws IOException {
        Object v = d.get(key);
        if (!(v instanceof List<?> l))
            throw bad(path, where + (d.containsKey(key) ? "'s " + key + " is " + Json.kind(v) + ", not an array" : " has no " + key));
        if (length >= 0 && l.size() != length)
            throw bad(path, where + "'s " + key + " has " + l.size() + " values; expected " + length + " (begin, end)");
        long[] out = new long[l.size()];
        for (int k = 0; k < out.length; k++) {
            Object x = l.get(k);
            if (!(x instanceof Long n) || n < 0)
                throw bad(path, where + "'s " + key + " holds " + (x instanceof Number || x == null ? x : Json.kind(x))
                        + " at position " + k + "; expected non-negative integers");
            out[k] = n;
        }
        return out;
    }

    /** entries sorted by offset must cover the data section exactly: from 0, without overlap or gap, to its end */
    private static void checkLayout(Path path, Map<String, Info> entries, long dataBytes) throws IOException {
        List<Map.Entry<String, Info>> sorted = new ArrayList<>(entries.entrySet());
        sorted.sort(Comparator.comparingLong((Map.Entry<String, Info> e) -> e.getValue().begin())
                .thenComparingLong(e -> e.getValue().end()));
        long at = 0;
        String prev = null;
        for (Map.Entry<String, Info> e : sorted) {
            long begin = e.getValue().begin();
            if (begin < at)
                throw bad(path, "entries '" + prev + "' and '" + e.getKey() + "' overlap ('" + prev + "' ends at data byte " + at
                        + ", '" + e.getKey() + "' begins at " + begin + ")");
            if (begin > at)
                throw bad(path, "data bytes " + at + ".." + begin + " belong to no entry (a gap "
                        + (prev == null ? "before" : "between '" + prev + "' and") + " '" + e.getKey() + "')");
            at = e.getValue().end();
            prev = e.getKey();
        }
        if (at != dataBytes)
            throw bad(path, "the data section has " + dataBytes + " bytes but the entries cover only the first " + at
                    + " (" + (dataBytes - at) + " trailing bytes)");
    }

    /**
     * Writes atomically (a temporary file in the same folder, then a rename) and deterministically:
     * entries and metadata in the maps' order when they have one (LinkedHashMap, SortedMap), else sorted
     * by name (see {@link Json#stableOrder}), so equal content gives identical bytes in every JVM.
     */
    public static void write(Path path, Map<String, Entry> entries, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            Map<String, String> meta = new LinkedHashMap<>();
            Json.stableOrder(metadata).forEach((k, v) -> {
                if (k == null || v == null) throw new IllegalArgumentException(path + ": metadata '" + k + "' = " + v
                        + " has a null key or value; safetensors metadata maps strings to strings");
                meta.put(k, v);
            });
            header.put("__metadata__", meta);
        }
        long off = 0;
        List<byte[]> blobs = new ArrayList<>();
        for (Map.Entry<String, Entry> e : Json.stableOrder(entries).entrySet()) {
            if (e.getKey().equals("__metadata__"))
                throw new IllegalArgumentException(path + ": an entry cannot be named __metadata__ (the format reserves it); rename it");
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
        try {
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
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
