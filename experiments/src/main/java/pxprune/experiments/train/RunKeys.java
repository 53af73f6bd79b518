package pxprune.experiments.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import pxprune.core.io.Json;

/** The keys of a {@link RunConfig}: their JSON types and how their values are read. */
final class RunKeys {
    private RunKeys() {}

    /** the JSON value types of the keys */
    enum Type {
        STRING("a string"), INT("an integer"), NUMBER("a number"), BOOL("a boolean (true or false)"),
        INT_LIST("a list of integers, e.g. [80, 120]");

        final String what;

        Type(String what) { this.what = what; }
    }

    /** reads a --set value as the key's type */
    static Object parseValue(String key, Type t, String v) {
        try {
            return switch (t) {
                case STRING -> v;
                case INT -> {
                    long l;
                    try {
                        l = Long.parseLong(v);
                    } catch (NumberFormatException e) {
                        throw new ConfigException("config key '" + key + "': expected " + RunConfig.intRange(key) + ", got \"" + v + "\"");
                    }
                    RunConfig.checkInt(key, l);
                    yield l;
                }
                case NUMBER -> {
                    double d = Double.parseDouble(v);
                    if (!Double.isFinite(d)) throw new NumberFormatException();
                    yield d;
                }
                case BOOL -> {
                    if (v.equalsIgnoreCase("true")) yield Boolean.TRUE;
                    if (v.equalsIgnoreCase("false")) yield Boolean.FALSE;
                    throw new NumberFormatException();
                }
                case INT_LIST -> {
                    String s = v.startsWith("[") && v.endsWith("]") ? v.substring(1, v.length() - 1) : v;
                    List<Object> out = new ArrayList<>();
                    if (!s.isBlank()) for (String p : s.split(",")) out.add(Long.parseLong(p.strip()));
                    yield out;
                }
            };
        } catch (NumberFormatException e) {
            throw new ConfigException("config key '" + key + "': expected " + t.what + ", got \"" + v + "\"");
        }
    }

    /** checks a JSON value's type for a key and converts it to the canonical Java type */
    static Object typed(String key, Type t, Object v) {
        switch (t) {
            case STRING -> { if (v instanceof String) return v; }
            case INT -> {
                if (v instanceof Long || v instanceof Integer) {
                    long l = ((Number) v).longValue();
                    RunConfig.checkInt(key, l);
                    return l;
                }
                if (v instanceof java.math.BigInteger b)
                    throw new ConfigException("config key '" + key + "': expected " + RunConfig.intRange(key) + ", got " + b);
                throw new ConfigException("config key '" + key + "': expected " + RunConfig.intRange(key) + ", got " + describe(v));
            }
            case NUMBER -> {
                if (v instanceof Number n && !(v instanceof Float) && Double.isFinite(n.doubleValue())) return n.doubleValue();
                if (v instanceof Float f && Double.isFinite(f)) return f.doubleValue();
            }
            case BOOL -> { if (v instanceof Boolean) return v; }
            case INT_LIST -> {
                if (v instanceof List<?> l) {
                    List<Object> out = new ArrayList<>();
                    boolean ok = true;
                    for (Object o : l) {
                        if ((o instanceof Long || o instanceof Integer) && Math.abs(((Number) o).longValue()) <= Integer.MAX_VALUE)
                            out.add(((Number) o).longValue());
                        else ok = false;
                    }
                    if (ok) return out;
                }
                if (v instanceof int[] a) {
                    List<Object> out = new ArrayList<>();
                    for (int x : a) out.add((long) x);
                    return out;
                }
            }
        }
        throw new ConfigException("config key '" + key + "': expected " + t.what + ", got " + describe(v));
    }

    static String describe(Object v) {
        if (v == null) return "null";
        if (v instanceof String s) return "the string \"" + s + "\"";
        if (v instanceof Boolean b) return "the boolean " + b;
        if (v instanceof Double d) return "the number " + d;
        if (v instanceof Number n) return "the integer " + n;
        if (v instanceof List<?> l) return "the list " + Json.write(l);
        if (v instanceof Map<?, ?>) return "an object";
        return v.toString();
    }
}
