package pxprune.core.io;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** safetensors round trip, header layout, readable output, and errors that name the file. */
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
}
