package pxprune.core.io;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** safetensors round trip, header layout, readable output, deterministic bytes, and hostile files refused from the header. */
class SafeTensorsTest {
    @Test void roundTripKeepsOrderTypesAndMetadata(@TempDir Path dir) throws Exception {
        Map<String, SafeTensors.Entry> e = new LinkedHashMap<>();
        e.put("b.weight", SafeTensors.Entry.of(new float[] {1.5f, -2f, 3f, 0f, 5f, 6f}, 2, 3));
        e.put("a.x", SafeTensors.Entry.of(new double[] {Math.PI}, 1));
        e.put("n", SafeTensors.Entry.ofLongs(new long[] {7}));
        Path f = dir.resolve("t.safetensors");
        SafeTensors.write(f, e, Map.of("method", "px"));
        SafeTensors.File back = SafeTensors.read(f);
        assertEquals(java.util.List.of("b.weight", "a.x", "n"), java.util.List.copyOf(back.entries().keySet()));
        assertArrayEquals(new float[] {1.5f, -2f, 3f, 0f, 5f, 6f}, back.get("b.weight").toFloats());
        assertArrayEquals(new long[] {2, 3}, back.get("b.weight").shape());
        assertEquals(Math.PI, back.get("a.x").toDoubles()[0]);
        assertEquals("I64", back.get("n").dtype());
        assertEquals(0, back.get("n").shape().length);
        assertEquals("px", back.metadata().get("method"));
        // the header length is a multiple of 8 and the data starts right after it
        byte[] raw = Files.readAllBytes(f);
        long hlen = java.nio.ByteBuffer.wrap(raw, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, hlen % 8);
        assertEquals(8 + hlen + 6 * 4 + 8 + 8, raw.length);
        assertTrue(Files.getPosixFilePermissions(f).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ));
    }

    @Test void errorsNameTheProblem(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("none.safetensors");
        assertTrue(assertThrows(java.io.FileNotFoundException.class, () -> SafeTensors.read(missing)).getMessage().contains("none.safetensors"));
        Path junk = dir.resolve("junk.safetensors");
        Files.write(junk, new byte[] {1, 2, 3});
        assertTrue(assertThrows(java.io.IOException.class, () -> SafeTensors.read(junk)).getMessage().contains("not a safetensors file"));
        SafeTensors.File f = SafeTensors.read(writeOne(dir));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> f.get("nope")).getMessage().contains("no tensor named 'nope'"));
    }

    private static Path writeOne(Path dir) throws Exception {
        Path p = dir.resolve("one.safetensors");
        SafeTensors.write(p, Map.of("x", SafeTensors.Entry.of(new float[] {1}, 1)), null);
        return p;
    }

    /** writes the 8-byte length (little-endian), then the header, then dataBytes zero bytes */
    private static Path craft(Path dir, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return craft(dir, h.length, h, dataBytes);
    }

    private static Path craft(Path dir, long headerLength, byte[] header, int dataBytes) throws IOException {
        Path p = Files.createTempFile(dir, "hostile", ".safetensors");
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(header);
        Files.write(p, b.array());
        return p;
    }

    /** read must refuse the file with one line naming it and containing each of the given phrases */
    private static String refused(Path p, String... phrases) {
        String m = assertThrows(IOException.class, () -> SafeTensors.read(p)).getMessage();
        assertTrue(m.startsWith(p.toString()), m);
        assertFalse(m.contains("\n"), m);
        for (String phrase : phrases) assertTrue(m.contains(phrase), "'" + phrase + "' missing from: " + m);
        return m;
    }

    private static String f32(String name, String shape, long begin, long end) {
        return "\"" + name + "\": {\"dtype\": \"F32\", \"shape\": " + shape + ", \"data_offsets\": [" + begin + ", " + end + "]}";
    }

    @Test void headerLengthMustBePositiveBoundedAndInsideTheFile(@TempDir Path dir) throws Exception {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        refused(craft(dir, 0, h, 0), "header length is 0");
        refused(craft(dir, -8, h, 0), "header length is 18446744073709551608");     // u64 read as a negative long
        refused(craft(dir, Long.MAX_VALUE, h, 0), "header length is 9223372036854775807"); // 8 + it overflows
        refused(craft(dir, SafeTensors.MAX_HEADER_BYTES + 1, h, 0), "header length is 100000001");
        refused(craft(dir, 1000, h, 0), "header length 1000 runs past the end of the 10-byte file");
    }

    @Test void headerMustBeUtf8JsonObjectOfEntryObjects(@TempDir Path dir) throws Exception {
        refused(craft(dir, 2, new byte[] {(byte) 0xff, (byte) 0xfe}, 0), "not valid UTF-8");
        refused(craft(dir, "{\"a\": ", 0), "not valid JSON", "unexpected end");
        refused(craft(dir, "[1, 2]", 0), "the header is an array, not a JSON object");
        refused(craft(dir, "{\"x\": [0, 4]}", 4), "entry 'x' is an array, not an object");
        refused(craft(dir, "{\"x\": {\"dtype\": \"F32\", \"x\": 1, \"x\": 2}}", 0), "duplicate key \"x\"");
        refused(craft(dir, "[".repeat(10_000) + "]".repeat(10_000), 0), "nesting deeper than 64 levels");
    }

    @Test void dtypeMustBeAKnownString(@TempDir Path dir) throws Exception {
        refused(craft(dir, "{\"x\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4), "entry 'x' has no dtype");
        refused(craft(dir, "{\"x\": {\"dtype\": 4, \"shape\": [1], \"data_offsets\": [0, 4]}}", 4), "entry 'x'", "dtype is a number, not a string");
        refused(craft(dir, "{\"x\": {\"dtype\": \"float32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4),
                "entry 'x' has unknown dtype 'float32'", "supported: BOOL, U8", "F32", "BF16");
    }

    @Test void shapeMustHoldNonNegativeIntegersWithoutOverflow(@TempDir Path dir) throws Exception {
        refused(craft(dir, "{" + f32("x", "[-1]", 0, 4) + "}", 4), "entry 'x'", "shape holds -1 at position 0");
        refused(craft(dir, "{" + f32("x", "[2.5]", 0, 4) + "}", 4), "shape holds 2.5 at position 0");
        refused(craft(dir, "{" + f32("x", "[1, \"2\"]", 0, 4) + "}", 4), "shape holds a string at position 1");
        refused(craft(dir, "{" + f32("x", "4", 0, 4) + "}", 4), "entry 'x'", "shape is a number, not an array");
        refused(craft(dir, "{" + f32("x", "[4294967296, 4294967296]", 0, 4) + "}", 4), "overflows 64 bits");
        refused(craft(dir, "{" + f32("x", "[99999999999999999999]", 0, 4) + "}", 4), "outside the 64-bit range");
    }

    @Test void offsetsMustBeTwoNonNegativeIntegersMatchingTheShape(@TempDir Path dir) throws Exception {
        refused(craft(dir, "{\"x\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4), "entry 'x' has no data_offsets");
        refused(craft(dir, "{\"x\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4, 8]}}", 4),
                "data_offsets has 3 values; expected 2");
        refused(craft(dir, "{" + f32("x", "[1]", -8, -4) + "}", 4), "data_offsets holds -8 at position 0");
        refused(craft(dir, "{" + f32("x", "[0]", 4, 0) + "}", 4), "begin after they end");
        refused(craft(dir, "{" + f32("x", "[2]", 0, 4) + "}", 4), "(4 bytes), but F32 with shape [2] takes 8 bytes");
        refused(craft(dir, "{" + f32("x", "[2]", 0, 8) + "}", 4), "past the end of the 4-byte data section");
    }

    @Test void entriesMustCoverTheDataExactly(@TempDir Path dir) throws Exception {
        refused(craft(dir, "{" + f32("a", "[2]", 0, 8) + ", " + f32("b", "[2]", 4, 12) + "}", 12),
                "entries 'a' and 'b' overlap");
        refused(craft(dir, "{" + f32("a", "[1]", 0, 4) + ", " + f32("b", "[1]", 8, 12) + "}", 12),
                "data bytes 4..8 belong to no entry", "between 'a' and 'b'");
        refused(craft(dir, "{" + f32("a", "[1]", 4, 8) + "}", 8), "data bytes 0..4 belong to no entry", "before 'a'");
        refused(craft(dir, "{" + f32("a", "[1]", 0, 4) + "}", 5), "entries cover only the first 4 (1 trailing bytes)");
        // the same entries in any header order, contiguous, are fine
        Path ok = craft(dir, "{" + f32("b", "[1]", 4, 8) + ", " + f32("a", "[1]", 0, 4) + "}", 8);
        assertEquals(List.of("b", "a"), List.copyOf(SafeTensors.read(ok).entries().keySet()));
    }

    @Test void metadataMustMapStringsToStrings(@TempDir Path dir) throws Exception {
        refused(craft(dir, "{\"__metadata__\": {\"epoch\": 3}}", 0), "__metadata__ key 'epoch' has a number value");
        refused(craft(dir, "{\"__metadata__\": [\"a\"]}", 0), "__metadata__ is an array, not an object of strings");
        assertEquals(Map.of("k", "v"), SafeTensors.read(craft(dir, "{\"__metadata__\": {\"k\": \"v\"}}", 0)).metadata());
    }

    /** bytes this thread allocated while running r */
    private static long allocated(org.junit.jupiter.api.function.Executable r) throws Throwable {
        var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        r.execute();
        return mx.getCurrentThreadAllocatedBytes() - before;
    }

    @Test void aHugeFileIsJudgedFromItsHeaderAlone(@TempDir Path dir) throws Throwable {
        long gib = 1L << 30;
        // 1 GiB of data that the header says is one 10-float tensor: refused without reading the data
        Path other = craft(dir, "{" + f32("fc.weight", "[10]", 0, 40) + "}", 0);
        try (RandomAccessFile f = new RandomAccessFile(other.toFile(), "rw")) { f.setLength(f.length() + gib); } // sparse
        long bytes = allocated(() -> refused(other, "entries cover only the first 40 (1073741784 trailing bytes)"));
        assertTrue(bytes < 16 << 20, "rejecting it allocated " + bytes + " bytes");
        // a well-formed 1 GiB entry: its name and shape come from the header, without reading the data
        Path big = craft(dir, "{" + f32("conv.weight", "[268435456]", 0, gib) + "}", 0);
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) { f.setLength(f.length() + gib); }
        SafeTensors.Header[] h = new SafeTensors.Header[1];
        bytes = allocated(() -> h[0] = SafeTensors.header(big));
        assertTrue(bytes < 16 << 20, "reading the header allocated " + bytes + " bytes");
        assertArrayEquals(new long[] {268435456}, h[0].entries().get("conv.weight").shape());
        assertEquals(0, SafeTensors.read(big, name -> !name.equals("conv.weight")).entries().size());
        // an entry larger than one Java array is refused clearly, not overflowed
        Path huge = craft(dir, "{\"x\": {\"dtype\": \"U8\", \"shape\": [2147483648], \"data_offsets\": [0, 2147483648]}}", 0);
        try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) { f.setLength(f.length() + 2 * gib); }
        refused(huge, "entry 'x' holds 2147483648 bytes, more than one Java array");
    }

    @Test void integerConversionsNameTheEntryAndValue(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("i.safetensors");
        Map<String, SafeTensors.Entry> e = new LinkedHashMap<>();
        e.put("big", SafeTensors.Entry.ofLongs(new long[] {1, 1L << 40}, 2));
        e.put("half", SafeTensors.Entry.of(new float[] {2, 2.5f}, 2));
        e.put("exact", SafeTensors.Entry.ofLongs(new long[] {(1L << 53) + 1}, 1));
        SafeTensors.write(p, e, null);
        SafeTensors.File f = SafeTensors.read(p);
        String m = assertThrows(IllegalArgumentException.class, () -> f.get("big").toInts()).getMessage();
        assertTrue(m.contains(p + " entry 'big'") && m.contains("value 1099511627776 at index 1 does not fit an int"), m);
        assertArrayEquals(new long[] {1, 1L << 40}, f.get("big").toLongs());
        m = assertThrows(IllegalArgumentException.class, () -> f.get("half").toLongs()).getMessage();
        assertTrue(m.contains("entry 'half'") && m.contains("value 2.5 at index 1 is not a whole number"), m);
        assertEquals((1L << 53) + 1, f.get("exact").toLongs()[0]); // not rounded through a double
        m = assertThrows(IllegalArgumentException.class, () -> new SafeTensors.Entry("F32", new long[] {3}, new byte[8])).getMessage();
        assertTrue(m.contains("needs 12 bytes, but the data has 8"), m);
    }

    @Test void halfPrecisionConverts(@TempDir Path dir) throws Exception {
        // 1.0, -2.0, 65504 (largest half), 2^-24 (smallest subnormal) as F16; 1.0 and -3.5 as BF16
        byte[] h = {0x00, 0x3c, 0x00, (byte) 0xc0, (byte) 0xff, 0x7b, 0x01, 0x00};
        assertArrayEquals(new float[] {1, -2, 65504, 0x1p-24f}, new SafeTensors.Entry("F16", new long[] {4}, h).toFloats());
        byte[] bf = {(byte) 0x80, 0x3f, 0x60, (byte) 0xc0};
        assertArrayEquals(new float[] {1, -3.5f}, new SafeTensors.Entry("BF16", new long[] {2}, bf).toFloats());
    }

    @Test void writingIsDeterministic(@TempDir Path dir) throws Exception {
        Map<String, SafeTensors.Entry> hash = new HashMap<>();
        Map<String, String> meta = new HashMap<>();
        for (String k : List.of("zeta", "alpha", "mid", "beta", "omega", "kappa", "delta")) {
            hash.put(k, SafeTensors.Entry.of(new float[] {k.length()}, 1));
            meta.put(k, k);
        }
        Path a = dir.resolve("a.safetensors"), b = dir.resolve("b.safetensors");
        SafeTensors.write(a, hash, meta);
        SafeTensors.write(b, new java.util.TreeMap<>(hash), new java.util.TreeMap<>(meta));
        assertArrayEquals(Files.readAllBytes(b), Files.readAllBytes(a));
        assertEquals(List.of("alpha", "beta", "delta", "kappa", "mid", "omega", "zeta"),
                List.copyOf(SafeTensors.read(a).entries().keySet()));
    }
}
