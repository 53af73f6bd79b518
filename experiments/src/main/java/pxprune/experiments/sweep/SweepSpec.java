package pxprune.experiments.sweep;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import pxprune.core.io.Json;
import pxprune.experiments.train.ConfigException;
import pxprune.experiments.train.RunConfig;

/**
 * A sweep file: a grid of runs over any run-config keys.
 *
 * <pre>
 * {"name": "digits-small",
 *  "base": {"recipe": "digits", "epochs": 1, "rounds": 5},
 *  "grid": {"method": ["px", "synflow"], "density": [0.1, 0.01], "seed": [1, 2]},
 *  "runs": "runs"}
 * </pre>
 *
 * <p>{@code grid} (required) maps config keys (any key of {@link RunConfig#keyNames()}, or
 * {@code recipe}) to non-empty lists of values; the sweep is their cartesian product, the first key
 * varying slowest. {@code base} (optional) holds the fixed values, as a config file does (a
 * {@code recipe} fills the keys neither gives; default digits). {@code name} (optional, default the
 * file name without {@code .json}) names the sweep folder {@code <runs>/sweeps/<name>/};
 * {@code runs} (optional, default {@code runs}) is the runs folder where every grid point's run
 * lives in its ordinary folder {@code <runs>/<config hash>/}.
 *
 * <p>The file itself is checked strictly and any problem is a {@link ConfigException} naming the
 * file and the key: unknown top-level or config keys, a key both in base and grid, an empty or
 * non-list value in grid, a value listed twice, more than {@value #MAX_POINTS} points. A grid point
 * whose combination is not a valid config (a density the method refuses, an unknown model) is not
 * an error of the file: it becomes an invalid {@link SweepPoint} that the sweep reports as failed.
 */
public record SweepSpec(String name, Map<String, Object> base, Map<String, List<Object>> grid, String runs) {
    public static final int MAX_POINTS = 100_000;
    static final Set<String> TOP_KEYS = Set.of("name", "base", "grid", "runs");
    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    public SweepSpec {
        base = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(base));
        Map<String, List<Object>> g = new LinkedHashMap<>();
        grid.forEach((k, v) -> g.put(k, List.copyOf(v)));
        grid = java.util.Collections.unmodifiableMap(g);
    }

    /** the keys a base or grid may hold: the run-config keys and {@code recipe} */
    public static List<String> configKeys() {
        List<String> k = new ArrayList<>(RunConfig.keyNames());
        k.add("recipe");
        return k;
    }

    /** reads and checks a sweep file (UTF-8); the default name is the file name without .json */
    public static SweepSpec load(Path file) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new ConfigException("sweep file " + file + ": not UTF-8 text; save it as UTF-8");
        }
        String stem = file.getFileName().toString().replaceFirst("\\.json$", "");
        try {
            return parse(text, stem);
        } catch (ConfigException e) {
            throw new ConfigException("sweep file " + file + ": " + e.getMessage());
        }
    }

    /** parses and checks sweep JSON text; defaultName is used when the text has no name */
    public static SweepSpec parse(String text, String defaultName) {
        Object o;
        try {
            o = Json.parse(text);
        } catch (RuntimeException e) {
            throw new ConfigException("not valid JSON (" + e.getMessage() + "); fix it and run again");
        }
        if (!(o instanceof Map<?, ?>))
            throw new ConfigException("a sweep must be a JSON object {\"grid\": {...}, ...}, got " + Json.kind(o));
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) o;
        for (String k : m.keySet())
            if (!TOP_KEYS.contains(k))
                throw new ConfigException("unknown key '" + k + "'; a sweep has: name, base, grid, runs"
                        + (configKeys().contains(k) ? " (put the config key '" + k + "' inside base or grid)" : ""));

        Object nameV = m.getOrDefault("name", defaultName);
        if (!(nameV instanceof String name) || !NAME.matcher(name).matches())
            throw new ConfigException("key 'name': expected a folder name of letters, digits, '.', '_' or '-' (at most 64, "
                    + "e.g. \"digits-small\"), got " + (nameV instanceof String s ? "\"" + s + "\"" : Json.kind(nameV)));

        Object runsV = m.getOrDefault("runs", "runs");
        if (!(runsV instanceof String runs) || runs.isBlank())
            throw new ConfigException("key 'runs': expected the runs folder as a string, e.g. \"runs\", got "
                    + (runsV instanceof String ? "an empty string" : Json.kind(runsV)));

        Object baseV = m.getOrDefault("base", Map.of());
        if (!(baseV instanceof Map<?, ?>))
            throw new ConfigException("key 'base': expected an object of config keys, e.g. {\"recipe\": \"digits\", \"epochs\": 1}, got "
                    + Json.kind(baseV));
        @SuppressWarnings("unchecked")
        Map<String, Object> base = (Map<String, Object>) baseV;
        for (String k : base.keySet()) checkKey("base", k);

        if (!m.containsKey("grid"))
            throw new ConfigException("no 'grid'; add e.g. \"grid\": {\"method\": [\"px\", \"synflow\"], \"seed\": [1, 2]}");
        Object gridV = m.get("grid");
        if (!(gridV instanceof Map<?, ?> gm) || gm.isEmpty())
            throw new ConfigException("key 'grid': expected a non-empty object of config keys to lists of values, e.g. "
                    + "{\"seed\": [1, 2]}, got " + (gridV instanceof Map<?, ?> ? "an empty object" : Json.kind(gridV)));
        @SuppressWarnings("unchecked")
        Map<String, Object> gridIn = (Map<String, Object>) gridV;
        Map<String, List<Object>> grid = new LinkedHashMap<>();
        long points = 1;
        for (Map.Entry<String, Object> e : gridIn.entrySet()) {
            String k = e.getKey();
            checkKey("grid", k);
            if (base.containsKey(k))
                throw new ConfigException("key '" + k + "' is both in base and in grid; keep it in one of them");
            if (!(e.getValue() instanceof List<?> l) || l.isEmpty())
                throw new ConfigException("grid key '" + k + "': expected a non-empty list of values, e.g. [1, 2], got "
                        + (e.getValue() instanceof List<?> ? "an empty list" : Json.kind(e.getValue())));
            Map<String, Integer> seen = new HashMap<>();
            for (int i = 0; i < l.size(); i++) {
                Integer before = seen.putIfAbsent(Json.write(l.get(i)), i);
                if (before != null)
                    throw new ConfigException("grid key '" + k + "': the value " + Json.write(l.get(i)) + " is listed twice (positions "
                            + (before + 1) + " and " + (i + 1) + "); list each value once");
            }
            points *= l.size();
            if (points > MAX_POINTS)
                throw new ConfigException("the grid has more than " + MAX_POINTS + " points; split it into several sweeps");
            @SuppressWarnings("unchecked")
            List<Object> values = (List<Object>) l;
            grid.put(k, values);
        }
        return new SweepSpec(name, base, grid, runs);
    }

    private static void checkKey(String where, String k) {
        if (!configKeys().contains(k))
            throw new ConfigException(where + " key '" + k + "' is not a config key; valid: " + String.join(", ", configKeys()));
    }

    /** the number of grid points */
    public int size() {
        int n = 1;
        for (List<Object> l : grid.values()) n *= l.size();
        return n;
    }

    /**
     * The grid points, first grid key slowest. A point whose config is invalid, or the same config
     * as an earlier point, carries the reason instead of a config.
     */
    public List<SweepPoint> points() {
        List<String> keys = new ArrayList<>(grid.keySet());
        int n = size();
        List<SweepPoint> out = new ArrayList<>(n);
        Map<String, Integer> byHash = new HashMap<>();
        for (int p = 0; p < n; p++) {
            Map<String, Object> values = new LinkedHashMap<>();
            int rest = p;
            int[] idx = new int[keys.size()];
            for (int k = keys.size() - 1; k >= 0; k--) {
                int len = grid.get(keys.get(k)).size();
                idx[k] = rest % len;
                rest /= len;
            }
            for (int k = 0; k < keys.size(); k++) values.put(keys.get(k), grid.get(keys.get(k)).get(idx[k]));
            Map<String, Object> merged = new LinkedHashMap<>(base);
            merged.putAll(values);
            RunConfig cfg = null;
            String error = null;
            try {
                cfg = RunConfig.fromJson(merged);
            } catch (ConfigException e) {
                error = "invalid config: " + e.getMessage();
            }
            if (cfg != null) {
                Integer same = byHash.putIfAbsent(cfg.hash(), p);
                if (same != null) {
                    error = "the same config (hash " + cfg.hash() + ") as grid point " + (same + 1) + "; it runs once, there";
                    cfg = null;
                }
            }
            out.add(new SweepPoint(p + 1, values, cfg, error));
        }
        return out;
    }

    /** the sweep as JSON (written to sweep.json in the sweep folder) */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("base", base);
        m.put("grid", grid);
        m.put("runs", runs);
        return Json.pretty(m);
    }
}
