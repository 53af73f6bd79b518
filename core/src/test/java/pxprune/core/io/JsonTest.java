package pxprune.core.io;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** the strict reader's refusals (each naming the problem and where it is) and the deterministic writer. */
class JsonTest {
    private static String error(String text) {
        return assertThrows(IllegalArgumentException.class, () -> Json.parse(text)).getMessage();
    }

    @Test void parsesValuesInOrder() {
        Map<String, Object> m = Json.parseObject("{\"b\": [1, -2.5e1, true, null], \"a\": \"x\\u00e9\\n\\\"\", \"c\": {}}");
        assertEquals(List.of("b", "a", "c"), List.copyOf(m.keySet()));
        assertEquals(java.util.Arrays.asList(1L, -25.0, true, null), m.get("b"));
        assertEquals("x\u00e9\n\"", m.get("a"));
        assertEquals(Map.of(), m.get("c"));
    }

    @Test void duplicateKeyIsNamedWithItsPosition() {
        String m = error("{\"a\": 1,\n \"b\": 2, \"a\": 3}");
        assertTrue(m.contains("duplicate key \"a\"") && m.contains("offset 18") && m.contains("line 2:10"), m);
        // the same key in different objects is fine
        assertEquals(2, Json.parseObject("{\"x\": {\"a\": 1}, \"y\": {\"a\": 2}}").size());
    }

    @Test void leadingByteOrderMarkIsSkipped() {
        assertEquals(Map.of("a", 1L), Json.parseObject("\uFEFF{\"a\": 1}"));
        assertEquals(List.of(), Json.parse("\uFEFF []"));
        // only at the start: elsewhere it is an unexpected character
        assertTrue(error("{\"a\": \uFEFF1}").contains("unexpected character"));
    }

    @Test void deepNestingIsRefusedWithoutStackOverflow() {
        String deep = "[".repeat(10_000) + "]".repeat(10_000);
        String m = error(deep);
        assertTrue(m.contains("nesting deeper than " + Json.MAX_DEPTH + " levels") && m.contains("offset " + Json.MAX_DEPTH), m);
        assertTrue(error("{\"a\":".repeat(100_000)).contains("nesting deeper"));
        String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        assertInstanceOf(List.class, Json.parse(ok));
    }

    @Test void numbersOutOfRangeAndMalformedAreNamed() {
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        String m = error("[1, 9223372036854775808]");
        assertTrue(m.contains("integer 9223372036854775808 is outside the 64-bit range") && m.contains("offset 4"), m);
        assertTrue(error("1e400").contains("number 1e400 is too large for a double"));
        for (String bad : List.of("01", "+1", "1.", ".5", "1e", "--1", "1-2"))
            assertTrue(error(bad).contains("malformed number " + bad), bad);
    }

    @Test void otherErrorsGiveOffsetAndLine() {
        String m = error("{\n  \"a\": tru }");
        assertTrue(m.contains("expected true") && m.contains("line 2:8"), m);
        assertTrue(error("{\"a\": 1} x").contains("trailing characters"));
        assertTrue(error("\"abc").contains("unterminated string"));
        assertTrue(error("\"a\\").contains("unterminated string"));
        assertTrue(error("\"\\x\"").contains("unknown escape \\x"));
        assertTrue(error("\"\\u12\"").contains("4 hex digits"));
        assertTrue(error("\"a\tb\"").contains("raw control character U+0009"));
        assertTrue(error("").contains("unexpected end"));
        assertTrue(error("{1: 2}").contains("expected a key"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Json.parseObject("[1]")).getMessage().contains("got an array"));
    }

    @Test void writerIsDeterministic() {
        Map<String, Object> hash = new HashMap<>();
        for (String k : List.of("zeta", "alpha", "mid", "beta", "omega", "kappa")) hash.put(k, k.length());
        assertEquals(Json.write(new TreeMap<>(hash)), Json.write(hash));
        assertEquals(Json.write(new TreeMap<>(hash)), Json.write(Map.copyOf(hash)));
        // an ordered map keeps its order
        Map<String, Object> linked = new LinkedHashMap<>();
        linked.put("z", 1);
        linked.put("a", List.of(Map.of("y", 1, "b", 2)));
        assertEquals("{\"z\":1,\"a\":[{\"b\":2,\"y\":1}]}", Json.write(linked));
        assertEquals(Json.write(linked), Json.write(Json.parse(Json.write(linked))));
    }
}
