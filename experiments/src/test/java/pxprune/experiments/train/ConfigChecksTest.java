package pxprune.experiments.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Config files as read from disk (byte order mark, encoding, duplicate keys) and the range of
 * every integer key: each bad value is one ConfigException naming the key, the value and the
 * allowed range.
 */
class ConfigChecksTest {
    static final String GOOD = "{\"recipe\": \"digits\", \"method\": \"synflow\", \"density\": 0.05, \"epochs\": 3}";

    @Test
    void byteOrderMarkIsSkipped(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("bom.json");
        Files.write(f, ("\uFEFF" + GOOD).getBytes(StandardCharsets.UTF_8));
        assertEquals(RunConfig.parse(GOOD), RunConfig.load(f));
        assertEquals(RunConfig.parse(GOOD), RunConfig.parse("\uFEFF" + GOOD));
    }

    @Test
    void duplicateKeyIsAnErrorNamingTheFile(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("dup.json");
        Files.writeString(f, "{\"epochs\": 3, \"density\": 0.05, \"method\": \"px\", \"epochs\": 30}");
        String m = assertThrows(ConfigException.class, () -> RunConfig.load(f)).getMessage();
        assertTrue(m.contains(f.toString()) && m.toLowerCase().contains("duplicate") && m.contains("epochs"), m);
    }

    @Test
    void notUtf8NamesTheFile(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("latin1.json");
        Files.write(f, "{\"data_root\": \"d\u00e9j\u00e0\"}".getBytes(StandardCharsets.ISO_8859_1));
        String m = assertThrows(ConfigException.class, () -> RunConfig.load(f)).getMessage();
        assertTrue(m.contains(f.toString()) && m.contains("UTF-8"), m);
    }

    @Test
    void errorsInsideAFileNameTheFileAndTheKey(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("bad.json");
        Files.writeString(f, "{\"epochs\": -3}");
        String m = assertThrows(ConfigException.class, () -> RunConfig.load(f)).getMessage();
        assertTrue(m.startsWith(f + ": ") && m.contains("'epochs'") && m.contains("-3") && m.contains("[0, 1000000]"), m);
        Files.writeString(f, "{\"seed\": 99999999999999999999}");
        m = assertThrows(ConfigException.class, () -> RunConfig.load(f)).getMessage();
        assertTrue(m.startsWith(f + ": ") && m.contains("99999999999999999999"), m);
        Files.writeString(f, "{\"epochs\": \"\\u12\"}");
        m = assertThrows(ConfigException.class, () -> RunConfig.load(f)).getMessage();
        assertTrue(m.startsWith(f + ": ") && m.contains("not valid JSON"), m);
    }

    /** JSON text, the key, the value as the message shows it, the allowed range as the message shows it */
    static List<Object[]> badValues() {
        return List.of(
                new Object[] {"{\"epochs\": 2.5}", "epochs", "2.5", "an integer in [0, 1000000]"},
                new Object[] {"{\"epochs\": -1}", "epochs", "-1", "[0, 1000000]"},
                new Object[] {"{\"epochs\": \"ten\"}", "epochs", "\"ten\"", "an integer"},
                new Object[] {"{\"epochs\": 2000000}", "epochs", "2000000", "[0, 1000000]"},
                new Object[] {"{\"lr\": \"0.1\"}", "lr", "\"0.1\"", "a number"},
                new Object[] {"{\"density\": 1.5}", "density", "1.5", "(0, 1]"},
                new Object[] {"{\"density\": 0}", "density", "0", "(0, 1]"},
                new Object[] {"{\"density\": -0.1}", "density", "-0.1", "(0, 1]"},
                new Object[] {"{\"rounds\": 0}", "rounds", "0", "[1, 100000]"},
                new Object[] {"{\"rounds\": 100001}", "rounds", "100001", "[1, 100000]"},
                new Object[] {"{\"rounds\": 5000000000}", "rounds", "5000000000", "[1, 100000]"},
                new Object[] {"{\"batch_size\": 0}", "batch_size", "0", "[1, 65536]"},
                new Object[] {"{\"batch_size\": -64}", "batch_size", "-64", "[1, 65536]"},
                new Object[] {"{\"batch_size\": 100000000}", "batch_size", "100000000", "[1, 65536]"},
                new Object[] {"{\"examples_per_class\": 0}", "examples_per_class", "0", "[1, 1000000]"},
                new Object[] {"{\"seed\": 1.5}", "seed", "1.5", "[-9223372036854775808, 9223372036854775807]"},
                new Object[] {"{\"milestones\": [0]}", "milestones", "[0]", "[1, 1000000]"},
                new Object[] {"{\"milestones\": [5, 2000000]}", "milestones", "[5, 2000000]", "[1, 1000000]"},
                new Object[] {"{\"epochz\": 3}", "epochz", "epochz", "valid keys"});
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("badValues")
    void badValueNamesKeyValueAndRange(String json, String key, String value, String range) {
        String m = assertThrows(ConfigException.class, () -> RunConfig.parse(json)).getMessage();
        assertTrue(m.contains("'" + key + "'") && m.contains(value) && m.contains(range), m);
        assertEquals(1, m.lines().count(), m);
    }

    @Test
    void setValuesOutOfRangeNameKeyValueAndRange() {
        RunConfig d = Recipes.digits();
        String m = assertThrows(ConfigException.class, () -> d.withSet("seed=99999999999999999999")).getMessage();
        assertTrue(m.contains("'seed'") && m.contains("99999999999999999999") && m.contains("9223372036854775807"), m);
        m = assertThrows(ConfigException.class, () -> d.withSet("rounds=100001")).getMessage();
        assertTrue(m.contains("'rounds'") && m.contains("100001") && m.contains("[1, 100000]"), m);
        m = assertThrows(ConfigException.class, () -> d.withSet("epochs=1.5")).getMessage();
        assertTrue(m.contains("'epochs'") && m.contains("1.5") && m.contains("[0, 1000000]"), m);
        m = assertThrows(ConfigException.class, () -> d.with("seed", new BigInteger("99999999999999999999"))).getMessage();
        assertTrue(m.contains("'seed'") && m.contains("99999999999999999999"), m);
        // the bounds themselves are valid
        assertEquals(100_000, d.withSet("rounds=100000").rounds());
        assertEquals(Long.MIN_VALUE, d.withSet("seed=-9223372036854775808").seed());
        assertEquals(65_536, d.withSet("batch_size=65536").batchSize());
        assertEquals(0, d.withSet("epochs=0").epochs());
    }

    /** --set values apply together: only their result must be valid, in whichever order they come */
    @Test void setsApplyTogether() {
        RunConfig d = Recipes.digits();
        for (List<String> sets : List.of(List.of("method=dense", "density=1"), List.of("density=1", "method=dense"))) {
            RunConfig c = d.withSets(sets);
            assertEquals("dense", c.method(), sets.toString());
            assertEquals(1.0, c.density(), sets.toString());
        }
        assertThrows(ConfigException.class, () -> d.withSets(List.of("method=dense")), "dense at the recipe's density 0.01");
    }
}
