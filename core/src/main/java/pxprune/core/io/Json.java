package pxprune.core.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, strict JSON reader and writer (objects as LinkedHashMap, arrays as List, numbers as Double or
 * Long, strings, booleans, null): enough for safetensors headers, configs and run summaries.
 * <p>The reader follows RFC 8259 and refuses what it does not allow, with the offset and line:column
 * of the problem: duplicate keys, nesting deeper than {@link #MAX_DEPTH}, integers outside the 64-bit
 * range, numbers too large for a double, raw control characters in strings, bad escapes. A leading
 * UTF-8 byte order mark (U+FEFF, as some Windows editors write) is skipped.
 * <p>The writer is deterministic: it writes maps in their iteration order when that order is defined
 * (LinkedHashMap, SortedMap, EnumMap) and sorts the keys of any other map (HashMap, Map.of), so the same
 * content gives the same bytes in every JVM.
 */
public final class Json {
    /** the deepest nesting of arrays and objects the reader accepts */
    public static final int MAX_DEPTH = 64;
    private static final java.util.regex.Pattern NUMBER = java.util.regex.Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?");

    private final String s;
    private int i, depth;

    private Json(String s) { this.s = s; }

    /** parses one JSON value; a leading byte order mark is skipped */
    public static Object parse(String text) {
        Json p = new Json(text);
        if (text.startsWith("\uFEFF")) p.i = 1;
        p.ws();
        Object v = p.value();
        p.ws();
        if (p.i != p.s.length()) throw p.error("trailing characters after the value");
        return v;
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object o = parse(text);
        if (!(o instanceof Map)) throw new IllegalArgumentException("expected a JSON object {...}, got " + kind(o));
        return (Map<String, Object>) o;
    }

    /** what a parsed value is, in words for error messages: "a string", "an array", "null", ... */
    public static String kind(Object v) {
        if (v == null) return "null";
        if (v instanceof Map) return "an object";
        if (v instanceof List) return "an array";
        if (v instanceof String) return "a string";
        if (v instanceof Boolean) return "a boolean";
        if (v instanceof Number) return "a number";
        return "a " + v.getClass().getSimpleName();
    }

    private IllegalArgumentException error(String what) { return error(what, i); }

    private IllegalArgumentException error(String what, int at) {
        int line = 1, col = 1;
        for (int k = 0; k < at && k < s.length(); k++) {
            if (s.charAt(k) == '\n') { line++; col = 1; } else col++;
        }
        int from = Math.max(0, at - 20), to = Math.min(s.length(), at + 20);
        String near = s.substring(from, to).replaceAll("[\\p{Cntrl}]", " ");
        return new IllegalArgumentException("invalid JSON at offset " + at + " (line " + line + ":" + col + "): " + what
                + "; near '" + near + "'");
    }

    private void ws() {
        while (i < s.length() && " \t\n\r".indexOf(s.charAt(i)) >= 0) i++;
    }

    private Object value() {
        if (i >= s.length()) throw error("unexpected end of input");
        char c = s.charAt(i);
        switch (c) {
            case '{': return nested(true);
            case '[': return nested(false);
            case '"': return string();
            case 't': expect("true"); return Boolean.TRUE;
            case 'f': expect("false"); return Boolean.FALSE;
            case 'n': expect("null"); return null;
            default: return number();
        }
    }

    private Object nested(boolean object) {
        if (++depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH + " levels of arrays and objects");
        Object v = object ? object() : array();
        depth--;
        return v;
    }

    private void expect(String w) {
        if (!s.startsWith(w, i)) throw error("expected " + w);
        i += w.length();
    }

    private Map<String, Object> object() {
        Map<String, Object> m = new LinkedHashMap<>();
        i++;
        ws();
        if (peek('}')) { i++; return m; }
        while (true) {
            ws();
            if (!peek('"')) throw error("expected a key in double quotes");
            int at = i;
            String k = string();
            if (m.containsKey(k)) throw error("duplicate key \"" + k + "\" (each key may appear once in an object)", at);
            ws();
            if (!peek(':')) throw error("expected ':'");
            i++;
            ws();
            m.put(k, value());
            ws();
            if (peek(',')) { i++; continue; }
            if (peek('}')) { i++; return m; }
            throw error("expected ',' or '}'");
        }
    }

    private List<Object> array() {
        List<Object> l = new ArrayList<>();
        i++;
        ws();
        if (peek(']')) { i++; return l; }
        while (true) {
            ws();
            l.add(value());
            ws();
            if (peek(',')) { i++; continue; }
            if (peek(']')) { i++; return l; }
            throw error("expected ',' or ']'");
        }
    }

    private boolean peek(char c) { return i < s.length() && s.charAt(i) == c; }

    private String string() {
        StringBuilder b = new StringBuilder();
        int start = i++;
        while (i < s.length()) {
            char c = s.charAt(i++);
            if (c == '"') return b.toString();
            if (c < 0x20) throw error("raw control character U+" + String.format("%04X", (int) c) + " in a string (write it as \\u"
                    + String.format("%04x", (int) c) + ")", i - 1);
            if (c != '\\') { b.append(c); continue; }
            if (i >= s.length()) break;
            char e = s.charAt(i++);
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'n' -> b.append('\n');
                case 't' -> b.append('\t');
                case 'r' -> b.append('\r');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'u' -> {
                    if (i + 4 > s.length() || !s.substring(i, i + 4).matches("[0-9a-fA-F]{4}"))
                        throw error("\\u must be followed by 4 hex digits", i - 2);
                    b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                    i += 4;
                }
                default -> throw error("unknown escape \\" + e, i - 2);
            }
        }
        throw error("unterminated string", start);
    }

    private Object number() {
        int st = i;
        while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
        String t = s.substring(st, i);
        if (t.isEmpty()) throw error("unexpected character '" + s.charAt(i) + "'");
        if (!NUMBER.matcher(t).matches()) throw error("malformed number " + t, st);
        if (t.contains(".") || t.contains("e") || t.contains("E")) {
            double d = Double.parseDouble(t);
            if (Double.isInfinite(d)) throw error("number " + t + " is too large for a double", st);
            return d;
        }
        try {
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw error("integer " + t + " is outside the 64-bit range " + Long.MIN_VALUE + ".." + Long.MAX_VALUE, st);
        }
    }

    /** serialises maps, lists, strings, numbers, booleans, null, int[], long[], double[] */
    public static String write(Object v) {
        StringBuilder b = new StringBuilder();
        write(b, v, -1, 0);
        return b.toString();
    }

    /** like write, indented for people */
    public static String pretty(Object v) {
        StringBuilder b = new StringBuilder();
        write(b, v, 2, 0);
        return b.append('\n').toString();
    }

    private static void nl(StringBuilder b, int indent, int depth) {
        if (indent < 0) return;
        b.append('\n');
        for (int k = 0; k < indent * depth; k++) b.append(' ');
    }

    private static void write(StringBuilder b, Object v, int indent, int depth) {
        if (v == null) b.append("null");
        else if (v instanceof String str) quote(b, str);
        else if (v instanceof Double d) b.append(Double.isFinite(d) ? String.valueOf(d) : "null"); // JSON has no NaN/Infinity
        else if (v instanceof Float f) write(b, f.doubleValue(), indent, depth);
        else if (v instanceof Number || v instanceof Boolean) b.append(v);
        else if (v instanceof int[] a) { List<Object> l = new ArrayList<>(); for (int x : a) l.add(x); write(b, l, -1, depth); }
        else if (v instanceof long[] a) { List<Object> l = new ArrayList<>(); for (long x : a) l.add(x); write(b, l, -1, depth); }
        else if (v instanceof double[] a) { List<Object> l = new ArrayList<>(); for (double x : a) l.add(x); write(b, l, -1, depth); }
        else if (v instanceof Map<?, ?> m) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : stableOrder(m).entrySet()) {
                if (!first) b.append(',');
                first = false;
                nl(b, indent, depth + 1);
                quote(b, String.valueOf(e.getKey()));
                b.append(indent < 0 ? ":" : ": ");
                write(b, e.getValue(), indent, depth + 1);
            }
            if (!m.isEmpty()) nl(b, indent, depth);
            b.append('}');
        } else if (v instanceof List<?> l) {
            b.append('[');
            for (int k = 0; k < l.size(); k++) {
                if (k > 0) b.append(indent < 0 ? "," : ", ");
                write(b, l.get(k), indent, depth + 1);
            }
            b.append(']');
        } else quote(b, v.toString());
    }

    /**
     * m itself when its iteration order is defined (LinkedHashMap, SortedMap, EnumMap), else a copy
     * sorted by the keys' strings: HashMap's and Map.of's orders vary between runs and JVMs.
     */
    public static <K, V> Map<K, V> stableOrder(Map<K, V> m) {
        if (m instanceof LinkedHashMap || m instanceof java.util.SortedMap || m instanceof java.util.EnumMap) return m;
        List<Map.Entry<K, V>> l = new ArrayList<>(m.entrySet());
        l.sort(java.util.Comparator.comparing(e -> String.valueOf(e.getKey())));
        Map<K, V> out = new LinkedHashMap<>();
        for (Map.Entry<K, V> e : l) out.put(e.getKey(), e.getValue());
        return out;
    }

    private static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                default -> { if (c < 0x20) b.append(String.format("\\u%04x", (int) c)); else b.append(c); }
            }
        }
        b.append('"');
    }
}
